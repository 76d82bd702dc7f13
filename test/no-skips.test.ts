/**
 * Tests cannot pass quietly in CI: with the project's own vitest.config.ts, under CI=true a
 * skipped test fails the run and a missing Prometheus/promtool/Alertmanager fails its test file;
 * without CI both stay local conveniences (skipped, listed, exit 0).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERTMANAGER, missingBinaries, PROMETHEUS, PROMTOOL } from './support/binaries.js';

const REPO = resolve(import.meta.dirname, '..');
const VITEST = join(REPO, 'node_modules', 'vitest', 'vitest.mjs');

// Inside the repository (test-output/ is ignored) so the fixture resolves vitest and test/support.
const FIXTURE = `import { describe, expect, it } from 'vitest';
import { alertmanagerAvailable } from '../../../test/support/alertmanager.js';
import { prometheusAvailable } from '../../../test/support/prometheus.js';

it('runs', () => expect(1).toBe(1));
describe.skipIf(!prometheusAvailable())('needs Prometheus', () => {
  it('queries it', () => expect(1).toBe(1));
});
describe.skipIf(!alertmanagerAvailable())('needs Alertmanager', () => {
  it('notifies it', () => expect(1).toBe(1));
});
`;
const SKIPPED = `import { expect, it } from 'vitest';

it('runs', () => expect(1).toBe(1));
it.skip('is skipped on purpose', () => {});
`;

interface Run {
  readonly code: number | null;
  readonly output: string;
}

function runVitest(root: string, env: Record<string, string | undefined>): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = {};
  // A clean environment: no CI flag or vitest worker state leaks in from the outer run.
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'CI' || key.startsWith('VITEST') || key.startsWith('SHINRAI_TEST_')) continue;
    childEnv[key] = value;
  }
  for (const [key, value] of Object.entries(env)) if (value !== undefined) childEnv[key] = value;
  const args = [VITEST, 'run', '--config', join(REPO, 'vitest.config.ts'), '--root', root];
  const child = spawn(process.execPath, [...args, '--project', 'integration'], {
    cwd: REPO,
    env: childEnv,
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

describe('no quiet skips under CI=true', () => {
  let work: string;
  let needsBinaries: string;
  let skipsOne: string;

  beforeAll(async () => {
    await mkdir(join(REPO, 'test-output'), { recursive: true });
    work = await mkdtemp(join(REPO, 'test-output', 'no-skips-'));
    needsBinaries = join(work, 'binaries');
    skipsOne = join(work, 'skip');
    await mkdir(join(needsBinaries, 'test'), { recursive: true });
    await mkdir(join(skipsOne, 'test'), { recursive: true });
    await writeFile(join(needsBinaries, 'test', 'binaries.test.ts'), FIXTURE);
    await writeFile(join(skipsOne, 'test', 'skip.test.ts'), SKIPPED);
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('fails the run when a test is skipped and CI=true, naming the test', async () => {
    const run = await runVitest(skipsOne, { CI: 'true' });
    expect(run.code, run.output).not.toBe(0);
    expect(run.output).toContain('CI=true: 1 test(s) skipped, which CI counts as a failure');
    expect(run.output).toContain('test/skip.test.ts > is skipped on purpose');
  });

  it('lists a skipped test but passes without CI', async () => {
    const run = await runVitest(skipsOne, {});
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('1 test(s) skipped (CI=true would fail)');
  });

  it('fails the file that needs a missing Prometheus or Alertmanager when CI=true, saying what to install', async () => {
    const missing = {
      CI: 'true',
      SHINRAI_TEST_PROMETHEUS: join(work, 'no-such-prometheus'),
      SHINRAI_TEST_ALERTMANAGER: join(work, 'no-such-alertmanager'),
    };
    const run = await runVitest(needsBinaries, missing);
    expect(run.code, run.output).not.toBe(0);
    expect(run.output).toMatch(
      /CI=true and prometheus \(.*no-such-prometheus.*\) not installed: apt-get install prometheus/,
    );
    expect(run.output).toContain('1 failed');
  });

  it('skips (and says so) the suites whose binary is missing without CI', async () => {
    const run = await runVitest(needsBinaries, {
      SHINRAI_TEST_PROMETHEUS: join(work, 'no-such-prometheus'),
      SHINRAI_TEST_ALERTMANAGER: join(work, 'no-such-alertmanager'),
    });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('SKIPPED: prometheus');
    expect(run.output).toContain('SKIPPED: prometheus-alertmanager');
    expect(run.output).toContain('2 test(s) skipped (CI=true would fail)');
  });

  // Where the binaries are missing this case skips, which the reporter turns into a failure in CI.
  it.skipIf(missingBinaries([PROMETHEUS, PROMTOOL, ALERTMANAGER]).length > 0)(
    'runs every suite when the binaries are installed, CI=true included',
    async () => {
      const run = await runVitest(needsBinaries, { CI: 'true' });
      expect(run.code, run.output).toBe(0);
      expect(run.output).not.toContain('skipped');
    },
  );
});

describe('.ci/run', () => {
  it('installs the Prometheus binaries the tests run and runs npm test with CI=true', async () => {
    const script = await readFile(join(REPO, '.ci', 'run'), 'utf8');
    expect(script).toContain('[ -x /usr/bin/prometheus ]');
    expect(script).toContain('[ -x /usr/bin/promtool ]');
    expect(script).toContain('[ -x /usr/bin/prometheus-alertmanager ]');
    const ci = script.indexOf('export CI=true');
    expect(ci).toBeGreaterThan(-1);
    expect(script.indexOf('\nnpm test\n', ci)).toBeGreaterThan(ci);
  });
});
