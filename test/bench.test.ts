/**
 * The benchmarks check their own answers: run small through `bench/run.ts` (what `npm run bench`
 * runs), they pass their checks and exit 0; a deliberately wrong answer (`--perturb`) exits 1.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agree } from '../bench/check.js';

const REPO = resolve(import.meta.dirname, '..');
const TSX = join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/**
 * Benches running at once. The cases are independent (each bench makes its own databases), and
 * on CI's two cores vitest runs one file at a time: two at once keep both cores busy, more would
 * only share them. The cases' timeouts include waiting for a slot.
 */
const BENCHES_AT_ONCE = 2;
let free = BENCHES_AT_ONCE;
const waiting: Array<() => void> = [];
async function slot(): Promise<() => void> {
  if (free > 0) free--;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  return () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
}

async function bench(...args: string[]): Promise<{ code: number | null; output: string }> {
  const release = await slot();
  try {
    return await spawnBench(args);
  } finally {
    release();
  }
}

function spawnBench(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [TSX, join(REPO, 'bench', 'run.ts'), ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code) => done({ code, output }));
  });
}

describe.concurrent('bench checks', () => {
  it('compare figures relatively, nulls only with nulls', () => {
    expect(agree(0.5, 0.5 + 1e-12, 1e-9)).toBe(true);
    expect(agree(0.5, 0.5 + 1e-6, 1e-9)).toBe(false);
    expect(agree(1e12, 1e12 + 1, 1e-9)).toBe(true);
    expect(agree(null, null, 1e-9)).toBe(true);
    expect(agree(null, 0, 1e-9)).toBe(false);
    expect(agree(Number.NaN, Number.NaN, 1e-9)).toBe(false);
  });

  it('the engine bench compares the incremental engine with a typed-array recomputation and passes', async () => {
    const run = await bench(
      '--only',
      'engine',
      '--slos',
      '6',
      '--days',
      '1',
      '--cycles',
      '2',
      '--warmup',
      '1',
    );
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('check ok: incremental statuses equal the from-scratch ones on 6 SLOs');
    expect(run.output).toContain("check ok: incremental statuses equal the reference engine's on 6 SLOs");
    expect(run.output).toMatch(/ratio from-scratch \(typed arrays\) \/ incremental: \d+×/);
    expect(run.output).not.toContain('CHECK FAILED');
  }, 900_000);

  it('exits 1 and says which check failed when an answer is wrong', async () => {
    const run = await bench(
      '--only',
      'engine',
      '--slos',
      '6',
      '--days',
      '1',
      '--cycles',
      '2',
      '--warmup',
      '1',
      '--perturb',
    );
    expect(run.code, run.output).toBe(1);
    expect(run.output).toMatch(
      /CHECK FAILED: incremental statuses equal the from-scratch ones on 6 SLOs .*SLO 0: /,
    );
    expect(run.output).toContain('bench check(s) failed, so these figures are not to be trusted');
  }, 900_000);

  it('the backtest bench runs with the default low-traffic guard and passes its checks', async () => {
    const run = await bench('--only', 'backtest', '--slos', '10', '--days', '4', '--repeat', '1');
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('low-traffic guard: a condition needs 20 events in its long window');
    expect(run.output.match(/^check ok: /gm)).toHaveLength(4);
  }, 900_000);

  it("the evaluator bench's stored statuses equal the from-scratch report over the stored minutes", async () => {
    const run = await bench('--only', 'evaluator', '--slos', '12', '--days', '1', '--ticks', '1');
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('check ok: sqlite: every SLO has a status of the last tick');
    expect(run.output).toMatch(/check ok: sqlite: \d+ stored statuses equal the from-scratch report/);
  }, 900_000);

  it('the ingestion bench reports requests/s and events/s at batches of 1, 100 and 1,000 and checks storage', async () => {
    const run = await bench(
      '--only',
      'ingest',
      '--slis',
      '5',
      '--duration',
      '1',
      '--warmup',
      '0',
      '--evaluator-tick',
      '0',
    );
    expect(run.code, run.output).toBe(0);
    for (const dialect of ['sqlite', 'postgres']) {
      for (const batch of [1, 100, 1000]) {
        expect(run.output).toMatch(
          new RegExp(`^\\| ${dialect} \\| ${batch} \\| [\\d,]+ \\| [\\d,]+ \\|`, 'm'),
        );
        expect(run.output).toContain(
          `check ok: ${dialect}, batch ${batch}: stored totals equal the acknowledged events`,
        );
      }
    }
  }, 900_000);

  it('the OTLP bench stores exactly the exported points and fails when one observation is left out of the answer', async () => {
    const args = ['--only', 'otlp', '--services', '4', '--routes', '1', '--rounds', '3', '--per-export', '2'];
    const run = await bench(...args);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('check ok: every data point sent was accepted (84 / 84)');
    expect(run.output).toContain('check ok: stored good/total of all 12 SLIs equal what the exports carried');
    expect(run.output).toContain('check ok: after an evaluator tick, the budget consumed of all 12 SLOs');
    expect(run.output).toMatch(/^sqlite: 84 points stored in .* points\/s .*ratio to baseline \d/m);
    const perturbed = await bench(...args, '--perturb');
    expect(perturbed.code, perturbed.output).toBe(1);
    expect(perturbed.output).toMatch(
      /CHECK FAILED: stored good\/total of all 12 SLIs equal what the exports carried \(2 differ, e.g. svc-0-requests/,
    );
  }, 900_000);
  it('the delivery bench answers every metrics scope as the naive reference does, stores exactly the acknowledged deployments, and fails on a wrong answer', async () => {
    const args = ['--only', 'delivery', '--services', '3', '--days', '14', '--per-day', '5'];
    const run = await bench(...args, '--duration', '1', '--runs', '1', '--batch', '20');
    expect(run.code, run.output).toBe(0);
    for (const dialect of ['sqlite', 'postgres']) {
      expect(
        run.output.match(new RegExp(`^check ok: ${dialect}: .*: the API answer equals the reference`, 'gm')),
      ).toHaveLength(4);
      expect(run.output).toContain(
        `check ok: ${dialect}: stored deployments equal the acknowledged ones, each with its 4 changes first shipped by it`,
      );
      expect(run.output).toContain(`check ok: ${dialect}: a replayed deployment counts once`);
      expect(run.output).toContain(
        `check ok: ${dialect}: batches of 20 stored every acknowledged deployment with its 4 changes`,
      );
      expect(run.output).toMatch(new RegExp(`^${dialect}: ingestion over HTTP \\d+ deployments/s`, 'm'));
    }
    expect(run.output).not.toContain('CHECK FAILED');
    const perturbed = await bench(
      ...args,
      '--duration',
      '1',
      '--runs',
      '1',
      '--dialect',
      'sqlite',
      '--perturb',
    );
    expect(perturbed.code, perturbed.output).toBe(1);
    expect(perturbed.output).toMatch(
      /CHECK FAILED: sqlite: one service × 14 days: the API answer equals the reference \(\d+ differ, e\.g\. leadTime\./,
    );
  }, 900_000);
  it('the report bench answers every SLO and trend month as the reference summed from the seeded minutes, and fails on a wrong answer', async () => {
    const args = ['--only', 'report', '--slos', '3', '--months', '1', '--runs', '1'];
    const run = await bench(...args);
    expect(run.code, run.output).toBe(0);
    for (const dialect of ['sqlite', 'postgres']) {
      expect(run.output).toContain(
        `check ok: ${dialect}: the report's verdict and 6-month trend of all 3 SLOs equal the reference summed from the seeded minutes`,
      );
      expect(run.output).toContain(
        `check ok: ${dialect}: the engine baseline (every minute read and walked) gives the reference's figures`,
      );
      expect(run.output).toContain(
        `check ok: ${dialect}: the HTML report names every SLO and carries its charts`,
      );
      // The bulk load's hour marks are summed (by this bench, or meanwhile by the leader's refresh).
      expect(run.output).toMatch(/^ {2}hour sums: [\d,]+ \(SLI, hour\) marks summed in [\d.]+ s$/m);
      expect(run.output).toMatch(
        new RegExp(
          `^${dialect}: 3 SLOs × 1 months \\(129,600 minutes\\): GET report json p50 [\\d.]+ ms .*the minutes' sums [\\d.]+ ms`,
          'm',
        ),
      );
    }
    expect(run.output).not.toContain('CHECK FAILED');
    const perturbed = await bench(...args, '--dialect', 'sqlite', '--no-engine', '--perturb');
    expect(perturbed.code, perturbed.output).toBe(1);
    expect(perturbed.output).toMatch(
      /CHECK FAILED: sqlite: the report's verdict and 6-month trend of all 3 SLOs equal the reference summed from the seeded minutes \(\d+ differ, e\.g\. slo-000 attainment: /,
    );
  }, 900_000);

  it('the reads bench serves the cached SLO list and 30-day history byte for byte as the uncached route builds them, with a 304 on their ETags', async () => {
    const run = await bench('--only', 'reads', '--slos', '12', '--requests', '5', '--db', 'sqlite,postgres');
    expect(run.code, run.output).toBe(0);
    for (const dialect of ['sqlite', 'postgres']) {
      expect(run.output).toContain(
        `check ok: the cached body equals the freshly built one byte for byte (${dialect})`,
      );
      expect(run.output).toContain(`check ok: the br body decodes to the same bytes (${dialect})`);
      expect(run.output).toContain(`check ok: a 304 is answered to the ETag (${dialect})`);
      expect(run.output).toMatch(new RegExp(`^${dialect}: GET /api/v1/slos, 12 SLOs`, 'm'));
      for (const line of [
        'the cached 30-day history equals the freshly built one byte for byte',
        "the history's br body decodes to the same bytes",
        "a 304 is answered to the history's ETag",
        'after its points changed the cached history is rebuilt, equal to the fresh one',
      ])
        expect(run.output).toContain(`check ok: ${line} (${dialect})`);
      expect(run.output).toMatch(
        new RegExp(`^${dialect}: GET /api/v1/slos/\\{id\\}/history, 30 days at 5m`, 'm'),
      );
    }
    expect(run.output).toMatch(/cached, browser \(br\) +p50 +[\d.]+ ms/);
    expect(run.output).not.toContain('CHECK FAILED');
  }, 900_000);
});
