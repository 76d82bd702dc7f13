import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../testing.js';
import { formatAvailability, formatMinutes } from './calc.js';

const example = (name: string) => fileURLToPath(new URL(`../../../examples/calc/${name}`, import.meta.url));

async function model(text: string, name = 'model.yaml'): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'shinrai-calc-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return { dir, path };
}

describe('shinrai calc one-liners', () => {
  it('reproduces 2 × 99.9% in series = 99.8001%', async () => {
    const { code, stdout } = await runCli(['calc', '--serial', '99.9%', '99.9%']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Availability {2}99\.8001%$/m);
    expect(stdout).toContain('86.4 min per 30 days, 17.5 h per year');
  });

  it('reproduces 2 × 99.9% in parallel = 99.9999%', async () => {
    const { code, stdout } = await runCli(['calc', '--parallel', '99.9%', '0.999']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Availability {2}99\.9999%$/m);
  });

  it('computes k of n with --required and answers a target', async () => {
    const { code, stdout } = await runCli([
      'calc',
      '--parallel',
      '99%',
      '99%',
      '99%',
      '--required',
      '2',
      '--target',
      '99.95%',
    ]);
    expect(stdout).toMatch(/^Availability {2}99\.9702%$/m);
    expect(stdout).toMatch(/Target 99\.95%: reachable/);
    expect(code).toBe(0);
  });

  it('exits 1 when the target is not reachable (for CI)', async () => {
    const { code, stdout } = await runCli(['calc', '--serial', '99.9%', '99.9%', '--target', '99.99%']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/Target 99\.99%: NOT reachable on these dependencies/);
  });

  it('prints the JSON result with --json', async () => {
    const { code, stdout } = await runCli(['calc', '--parallel', '99.9%', '99.9%', '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(Math.abs(result.availability - 0.999999)).toBeLessThan(1e-12);
    expect(result.components).toHaveLength(2);
  });

  it.each([
    [['calc']],
    [['calc', 'x.yaml', '--serial', '99%']],
    [['calc', '--serial', '99%', '--parallel', '99%']],
    [['calc', '--serial', 'high']],
    [['calc', '--serial', '99.9']],
    [['calc', '--parallel', '99%', '--required', '2']],
    [['calc', '--serial', '99%', '--required', '1']],
    [['calc', '--serial', '99%', '--target', '120%']],
  ])('exits 2 on bad flags: %j', async (args) => {
    const { code, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^shinrai: /);
  });

  it('shows an example model and the exit statuses in --help', async () => {
    const { code, stdout } = await runCli(['calc', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('parallel: [cache-a, cache-b]');
    expect(stdout).toContain('1 when it is not');
  });
});

describe('shinrai calc <file>', () => {
  it('says checkout cannot reach 99.99% on 99.9% dependencies in series (exit 1)', async () => {
    const { code, stdout } = await runCli(['calc', example('checkout.yaml')]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/Target 99\.99%: NOT reachable/);
    expect(stdout).toContain('What to improve first');
  });

  it('says it can with redundancy, and how good checkout itself must stay (exit 0)', async () => {
    const { code, stdout } = await runCli(['calc', example('checkout-redundant.yaml')]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Target 99\.99%: reachable, .* own availability must stay ≥ 99\.99\d*%/);
    expect(stdout).toMatch(/^Shared {8}db /m);
  });

  it('lets --target override the file', async () => {
    expect((await runCli(['calc', example('checkout-redundant.yaml'), '--target', '99.999%'])).code).toBe(1);
    expect((await runCli(['calc', example('checkout.yaml'), '--target', '99%'])).code).toBe(0);
  });

  it('reads JSON too, relative to the working directory', async () => {
    const { dir } = await model(
      JSON.stringify({
        components: { a: { availability: '99.9%' }, b: { availability: 0.999 } },
        service: ['a', 'b'],
      }),
      'model.json',
    );
    const { code, stdout } = await runCli(['calc', 'model.json'], { cwd: dir });
    expect(code).toBe(0);
    expect(stdout).toContain('99.8001%');
  });

  it('reports every problem as file:line:column and exits 2', async () => {
    const { dir } = await model(
      `components:
  lb: { availability: 99.99% }
  db: { availability: 150%, replica: 2 }
  app: { availability: 99.9%, replicas: 2, required: 3 }
service:
  serial: [lb, app, { parallel: [db, dbb] }]
`,
    );
    const { code, stderr } = await runCli(['calc', 'model.yaml'], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toContain('model.yaml:3:23  "150%" is outside 0%–100%');
    expect(stderr).toContain('model.yaml:3:29  unknown key "replica"');
  });

  it('locates semantic problems too: unknown components, k > n, cycles', async () => {
    const { dir } = await model(
      `components:
  db: { availability: 99.9% }
  app: { availability: 99.9%, replicas: 2, required: 3 }
  a: { availability: 1, dependsOn: [b] }
  b: { availability: 1, dependsOn: a }
service:
  serial: [app, { parallel: [db, dbb] }]
`,
    );
    const first = await runCli(['calc', 'model.yaml'], { cwd: dir });
    expect(first.code).toBe(2);
    expect(first.stderr).toContain('model.yaml:3:54  required (3) is more than replicas (2) of "app"');
    expect(first.stderr).toMatch(/model\.yaml:7:34 {2}unknown component "dbb" \(did you mean "db"\?\)/);
    const fixed = await model(
      `components:
  a: { availability: 1, dependsOn: [b] }
  b: { availability: 1, dependsOn: a }
service: a
`,
    );
    const cycle = await runCli(['calc', fixed.path]);
    expect(cycle.code).toBe(2);
    expect(cycle.stderr).toMatch(/model\.yaml:3:36 {2}dependency cycle: a → b → a/);
  });

  it('reports YAML syntax errors with their position and exits 2', async () => {
    const { dir } = await model('components:\n  a: { availability: 99% \nservice: a\n');
    const { code, stderr } = await runCli(['calc', 'model.yaml'], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toMatch(/^model\.yaml:\d+:\d+ {2}/m);
  });

  it('exits 2 for a missing file, an empty one or a list', async () => {
    const missing = await runCli(['calc', '/nonexistent/model.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read: ENOENT');
    for (const text of ['', '- a\n- b\n', '42\n']) {
      const { path } = await model(text);
      const { code, stderr } = await runCli(['calc', path]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/model\.yaml:1:1 {2}expected one object with components and service/);
    }
  });
});

describe('calc output formats', () => {
  it.each([
    [0.998001, '99.8001%'],
    [0.999999, '99.9999%'],
    [0.999702, '99.9702%'],
    [0.9999, '99.99%'],
    [0.999, '99.9%'],
    [1, '100%'],
    [0.5, '50%'],
    [0, '0%'],
  ])('%s is %s', (fraction, text) => {
    expect(formatAvailability(fraction)).toBe(text);
  });

  it.each([
    [0, '0'],
    [0.5, '30.0 s'],
    [43.2, '43.2 min'],
    [525.96, '8.8 h'],
    [5259.6, '3.7 days'],
  ])('%s minutes is %s', (minutes, text) => {
    expect(formatMinutes(minutes)).toBe(text);
  });
});
