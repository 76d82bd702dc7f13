import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { generateTraffic, hashSeed, profileFor, seededRandom } from '../../demo/index.js';
import type { CountRow } from '../../slo/index.js';
import { budgetReport, evaluationTargets } from '../../slo/index.js';
import { formatBudgetHuman, loadValidCatalog, parseAt } from '../common.js';
import { CliError, type CliIo } from '../io.js';
import { runServer, type ServeFlags, serveOptions } from './serve.js';

/** The example shop shipped with Shinrai (resolves from src/ and from dist/ alike). */
export const DEMO_SPECS = fileURLToPath(new URL('../../../examples/shop', import.meta.url));

interface DemoOptions {
  seedDays: string;
  seed: string;
  specs?: string;
  json?: boolean;
  export?: string;
  at?: string;
}

export function registerDemo(program: Command, io: CliIo, setExit: (code: number) => void): void {
  serveOptions(
    program
      .command('demo')
      .description('the example shop with live synthetic traffic: server, history, error budgets, burn rates')
      .option('--seed-days <days>', 'days of synthetic history to backfill first', '30')
      .option('--once', 'no server: generate the history, print every error budget and exit')
      .option('--seed <n>', 'with --once: random seed (same seed, same traffic)', '1')
      .option(
        '--export <file>',
        'with --once: also write the generated data as NDJSON (input for `shinrai budget`)',
      )
      .option(
        '--at <time>',
        'with --once: the history ends at this ISO 8601 time (default: now), e.g. to match `budget --at`',
      )
      .option('--json', 'with --once: print the JSON report'),
  ).action(async (options: DemoOptions & ServeFlags & { once?: boolean }) => {
    if (!options.once) {
      if (options.at !== undefined)
        throw new CliError('--at is for --once (the live demo server runs at the current time)', 2);
      await runServer({ ...options, specs: options.specs ?? DEMO_SPECS }, io, { demo: true });
      setExit(0);
      return;
    }
    await runOnce({ ...options, specs: options.specs ?? DEMO_SPECS }, io);
    setExit(0);
  });
}

async function runOnce(options: DemoOptions, io: CliIo): Promise<void> {
  const days = Number(options.seedDays);
  if (!Number.isFinite(days) || days <= 0 || days > 400)
    throw new CliError(
      `--seed-days must be a number of days between 0 and 400, not "${options.seedDays}"`,
      2,
    );
  const seed = Number.parseInt(options.seed, 10);
  if (!Number.isSafeInteger(seed)) throw new CliError(`--seed must be an integer, not "${options.seed}"`, 2);
  const catalog = await loadValidCatalog(options.specs ?? DEMO_SPECS, io);
  const nowMs = Math.floor(parseAt(options.at, io) / 60_000) * 60_000;
  const fromMs = nowMs - days * 86_400_000;
  const rows: CountRow[] = [];
  const targets = evaluationTargets(catalog);
  for (const [index, target] of targets.entries()) {
    for (const part of target.parts) {
      io.err(`demo: generating ${days} days of traffic for ${target.id} (${index + 1}/${targets.length})`);
      const profile = profileFor(part.spec.timeSliceTarget ?? part.target);
      const name = part.dataKeys[0]!;
      const random = seededRandom(hashSeed(name, seed));
      for (const m of generateTraffic(fromMs, nowMs, profile, random))
        rows.push({ sli: name, tsMs: m.ts, good: m.good, total: m.total });
    }
  }
  if (options.export) {
    const lines = rows.map((r) =>
      JSON.stringify({ sli: r.sli, ts: new Date(r.tsMs).toISOString(), good: r.good, total: r.total }),
    );
    await writeFile(options.export, `${lines.join('\n')}\n`);
    io.err(`demo: wrote ${rows.length} lines to ${options.export}`);
  }
  const { report } = budgetReport(catalog, rows, nowMs);
  io.out(options.json ? JSON.stringify(report, null, 2) : formatBudgetHuman(report));
  if (!options.json)
    io.out(
      '\nThis is the demo shop (examples/shop). Try: shinrai validate examples/shop, or shinrai demo --once --export data.ndjson\nthen shinrai budget examples/shop --data data.ndjson',
    );
}
