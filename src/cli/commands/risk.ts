/**
 * `shinrai risk set|update|list|delete`: the risk catalog of a running server, for teams that keep risks
 * with the server rather than in spec files (`--server`, `--token`, or SHINRAI_URL,
 * SHINRAI_TOKEN). `shinrai risks <specs>` analyses spec files without a server.
 */
import type { Command } from 'commander';
import type { RiskAnalysis } from '../../risks/index.js';
import { call, type ServerFlags, withServerFlags } from '../api-client.js';
import { CliError, type CliIo } from '../io.js';
import { printRiskAnalysis } from './risks.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

type RiskRow = RiskAnalysis['risks'][number];

/** 0.3 stays a number; "30%" goes as written (the server reads both). */
const impactOf = (text: string): number | string => (Number.isFinite(Number(text)) ? Number(text) : text);

/** One line per written risk: what it costs a year, and whether it is too big to accept. */
function printRow(io: CliIo, flags: { json?: boolean }, row: RiskRow): void {
  if (flags.json) {
    io.out(JSON.stringify(row, null, 2));
    return;
  }
  const share = row.shares.length ? Math.max(...row.shares.map((s) => s.share)) : 0;
  io.out(
    `${row.name}: ${row.badMinutesPerYear.toFixed(1)} bad minutes a year (${row.incidentsPerYear.toFixed(3)} incidents), ${(share * 100).toFixed(1)}% of the yearly budget${row.tooBig ? ' — TOO BIG: fix it, do not accept it' : ''}`,
  );
}

interface SetFlags extends ServerFlags {
  service: string;
  ettd: string;
  ettr: string;
  impact: string;
  ettf: string;
  description?: string;
  slo?: string[];
  factor?: string[];
  status?: string;
}

export function registerRisk(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const risk = program
    .command('risk')
    .description('write, list and remove risks on a running server (the API behind the UI)');

  withServerFlags(
    risk
      .command('set')
      .description('create or replace a risk; prints its bad minutes a year and budget share')
      .argument('<name>', 'lowercase letters, digits and "-", e.g. db-failover-manual')
      .requiredOption('--service <name>', 'the service it hits')
      .requiredOption('--ettd <duration>', 'expected time to detect, e.g. 5m')
      .requiredOption('--ettr <duration>', 'expected time to repair once detected, e.g. 30m')
      .requiredOption('--impact <share>', 'share of users affected while it lasts, e.g. 100% or 0.3')
      .requiredOption('--ettf <duration>', 'expected time between failures, e.g. 30d, 6M or 1Y')
      .option('--description <text>', 'what goes wrong')
      .option(
        '--slo <id>',
        'an SLO of the service whose budget it consumes (repeatable; default: all)',
        collect,
      )
      .option('--factor <name>', 'a RiskFactor that applies (repeatable)', collect)
      .option('--status <status>', 'open, accepted or mitigated (default open)'),
  ).action(async (name: string, flags: SetFlags) => {
    const row = (await call(flags, 'PUT', `/api/v1/risks/${encodeURIComponent(name)}`, {
      service: flags.service,
      description: flags.description,
      ettd: flags.ettd,
      ettr: flags.ettr,
      impact: impactOf(flags.impact),
      ettf: flags.ettf,
      slos: flags.slo,
      factors: flags.factor,
      status: flags.status,
    })) as RiskRow;
    printRow(io, flags, row);
    setExit(0);
  });

  withServerFlags(
    risk
      .command('update')
      .description('change some fields of a risk written through the API, e.g. what calibration measured')
      .argument('<name>', 'the risk')
      .option('--ettd <duration>', 'expected time to detect')
      .option('--ettr <duration>', 'expected time to repair once detected')
      .option('--impact <share>', 'share of users affected while it lasts')
      .option('--ettf <duration>', 'expected time between failures')
      .option('--status <status>', 'open, accepted or mitigated')
      .option('--description <text>', 'what goes wrong'),
  ).action(async (name: string, flags: Partial<SetFlags>) => {
    const body = {
      ettd: flags.ettd,
      ettr: flags.ettr,
      impact: flags.impact === undefined ? undefined : impactOf(flags.impact),
      ettf: flags.ettf,
      status: flags.status,
      description: flags.description,
    };
    if (Object.values(body).every((v) => v === undefined))
      throw new CliError('give at least one of --ettd, --ettr, --impact, --ettf, --status, --description', 2);
    printRow(
      io,
      flags,
      (await call(flags, 'PATCH', `/api/v1/risks/${encodeURIComponent(name)}`, body)) as RiskRow,
    );
    setExit(0);
  });

  withServerFlags(
    risk
      .command('list')
      .description('the server’s risks ranked by bad minutes a year, with each SLO’s share')
      .option('--service <name>', 'only this service'),
  ).action(async (flags: ServerFlags & { service?: string }) => {
    const query = flags.service ? `?service=${encodeURIComponent(flags.service)}` : '';
    const analysis = (await call(flags, 'GET', `/api/v1/risks${query}`)) as RiskAnalysis;
    if (flags.json) io.out(JSON.stringify(analysis, null, 2));
    else if (!analysis.risks.length) io.out('no risks');
    else printRiskAnalysis(io, analysis);
    setExit(0);
  });

  withServerFlags(
    risk
      .command('delete')
      .description('remove a risk written through the API (risks in spec files are removed there)')
      .argument('<name>', 'the risk'),
  ).action(async (name: string, flags: ServerFlags) => {
    await call(flags, 'DELETE', `/api/v1/risks/${encodeURIComponent(name)}`);
    io.out(`removed ${name}`);
    setExit(0);
  });
}
