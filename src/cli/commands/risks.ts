/**
 * `shinrai risks <specs>`: the risk catalog written next to the specs (kinds Risk, RiskFactor),
 * ranked by expected bad minutes a year against each SLO's yearly error budget. With --strict it
 * exits 1 when a risk is too big or an SLO is not achievable with its risks (for CI on the specs).
 */
import type { Command } from 'commander';
import { catalogRiskAnalysis, DEFAULT_TOO_BIG_SHARE, type RiskAnalysis } from '../../risks/index.js';
import { loadValidCatalog } from '../common.js';
import { table } from '../format.js';
import { CliError, type CliIo } from '../io.js';

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
const num = (n: number, digits = 1) => n.toFixed(digits);

function parseShare(text: string): number {
  const value = text.endsWith('%') ? Number(text.slice(0, -1)) / 100 : Number(text);
  if (!(value > 0 && value <= 1))
    throw new CliError(`--too-big must be a share such as 25% or 0.25, not "${text}"`, 2);
  return value;
}

/** The ranked table of risks, then each SLO's share of its yearly budget. */
export function printRiskAnalysis(io: CliIo, analysis: RiskAnalysis): void {
  io.out(
    table(
      ['RISK', 'SERVICE', 'STATUS', 'ETTD', 'ETTR', 'IMPACT', 'ETTF', 'INC/YR', 'BAD MIN/YR', 'BUDGET', ''],
      analysis.risks.map((r) => [
        r.name,
        r.service,
        r.status,
        `${num(r.effective.ettdMinutes, 0)}m`,
        `${num(r.effective.ettrMinutes, 0)}m`,
        pct(r.effective.impact),
        `${num(r.effective.ettfDays)}d`,
        num(r.incidentsPerYear, 3),
        num(r.badMinutesPerYear),
        r.shares.length ? pct(Math.max(...r.shares.map((s) => s.share))) : '—',
        r.tooBig ? 'TOO BIG' : '',
      ]),
    ),
  );
  io.out('');
  for (const s of analysis.slos)
    io.out(
      `${s.slo} (${pct(s.target)}): risks not mitigated need ${num(s.badMinutesPerYear)} of ${num(s.yearlyBudgetMinutes, 2)} budget minutes a year (${pct(s.share)})${s.achievable ? '' : ' — NOT ACHIEVABLE with these risks'}`,
    );
}

export function registerRisks(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('risks')
    .description('rank the risks written next to the specs by bad minutes a year against each SLO’s budget')
    .argument('<specs>', 'a spec file or directory (with kind: Risk and RiskFactor objects)')
    .option('--service <name>', 'only this service')
    .option(
      '--too-big <share>',
      'flag a single risk above this share of a yearly budget',
      `${DEFAULT_TOO_BIG_SHARE * 100}%`,
    )
    .option('--strict', 'exit 1 when a risk is too big or an SLO is not achievable with its risks')
    .option('--json', 'print the JSON analysis')
    .addHelpText(
      'after',
      `
A risk (shinrai.dev/v1, kind Risk):  spec: {service: checkout, ettd: 5m, ettr: 30m, impact: 100%, ettf: 30d}
incidents/yr = 365.25 / ETTF days;  bad min/yr = (ETTD + ETTR) × impact × incidents/yr;
yearly budget = (1 − target) × 525,960 min.  See docs/risks.md.`,
    )
    .action(
      async (
        specs: string,
        options: { service?: string; tooBig: string; strict?: boolean; json?: boolean },
      ) => {
        const tooBigShare = parseShare(options.tooBig);
        const catalog = await loadValidCatalog(specs, io);
        const analysis = catalogRiskAnalysis(catalog, { tooBigShare, service: options.service });
        if (options.json) io.out(JSON.stringify(analysis, null, 2));
        else if (!analysis.risks.length)
          io.out(`no risks in ${specs}${options.service ? ` for ${options.service}` : ''}`);
        else printRiskAnalysis(io, analysis);
        const failing = analysis.risks.some((r) => r.tooBig) || analysis.slos.some((s) => !s.achievable);
        setExit(options.strict && failing ? 1 : 0);
      },
    );
}
