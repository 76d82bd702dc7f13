/**
 * Every shell command in README.md and docs/*.md runs, so the docs cannot rot: each file's
 * commands run in order, in a sandbox that looks like a user's checkout, against a demo server
 * started for that file (the built bin, SQLite in the sandbox, a free loopback port). A command
 * passes when it exits 0, or with the codes its `# exit N` comment documents. Servers the docs
 * start (`shinrai serve`, `shinrai demo`) must come up and answer /healthz, then stop cleanly.
 *
 * Files are independent (each its own sandbox, database, server and ports), so FILES_AT_ONCE of
 * them run at the same time; inside a file the commands still run one after another. The demo's
 * two seeded days and the admin token are made once, and each file's demo server starts on a copy.
 *
 * What the runner changes in a command, and the few commands it does not run, are the two
 * reviewed lists below (REWRITES, NOT_RUN), each entry with its reason.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { type DocCommand, docCommands, expectedExitCodes } from './support/doc-commands.js';
import { SHARED_FIXTURES } from './support/fixtures.js';
import { type PrometheusServer, startPrometheus } from './support/prometheus.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/shinrai.js');

/**
 * Files whose commands run at the same time. Nearly every command is a Node process that spends
 * its second or two loading modules, one file alone keeps one core busy; three keep CI's two cores
 * busy while a file waits on a server's start.
 */
const FILES_AT_ONCE = 3;

/** Every markdown file whose shell blocks run: README.md and docs/*.md. */
const FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Commands not run here, each with why. Keep this short: prefer a rewrite to a loopback equivalent. */
const NOT_RUN: ReadonlyArray<{ file: string; command: RegExp; reason: string }> = [
  {
    file: 'README.md',
    command: /^npm install && npm start$/,
    reason:
      'installs into the checkout (the shared node_modules) and serves port 8420 until stopped; `npm start` is `npm run build` + `shinrai demo --seed-days 30`, and this runner starts that demo for every file',
  },
  {
    file: 'README.md',
    command: /^npm install && npm test$/,
    reason: '`npm test` runs this very suite (and every other one); CI runs it as its top-level command',
  },
  {
    file: 'docs/ui.md',
    command: /^npm run (build|dev:web|typecheck|api:types)\s+#/,
    reason:
      'developer loop of the UI: the build is this suite’s prerequisite (rebuilding dist/ under running servers would swap their code), dev:web is a Vite dev server that runs until stopped, typecheck is part of `npm run verify`, api:types rewrites a file of the checkout (not of the sandbox) and scripts/api-types.test.ts in `npm run verify` runs the same generator',
  },
  {
    file: 'docs/ui.md',
    command: /^npm run build && npx vitest run --project integration test\/ui$/,
    reason: 'the browser suite itself, which `npm test` runs',
  },
];

/** What the runner changes in every command before running it, each with why. */
function rewrites(env: SandboxEnv): ReadonlyArray<{ from: RegExp; to: string; why: string }> {
  const { host, url } = env;
  return [
    { from: /\bnpx shinrai\b/g, to: 'shinrai', why: 'the built bin of this checkout is `shinrai` on PATH' },
    { from: /https:\/\/shinrai\.example\.com/g, to: url, why: 'the example host is the test server' },
    { from: /\b(localhost|127\.0\.0\.1):8420\b/g, to: host, why: 'the test server listens on a free port' },
    {
      from: /http:\/\/prometheus:9090/g,
      to: env.prometheusUrl ?? 'http://prometheus.invalid',
      why: 'a real Prometheus on a free loopback port',
    },
    {
      from: /postgres:\/\/shinrai@db:5432\/shinrai/g,
      to: env.postgresUrl ?? 'postgres://db.invalid',
      why: 'the test PostgreSQL (127.0.0.1:5432), a fresh schema',
    },
    { from: /--host 0\.0\.0\.0/g, to: '--host 127.0.0.1', why: 'tests listen on loopback only' },
  ];
}

/**
 * Run before every command: curl fails on an HTTP error status (a 415 must not pass as exit 0),
 * pipelines fail when any part fails, and uuidgen exists where util-linux's is not installed.
 */
const PRELUDE = [
  'set -o pipefail',
  'curl() { command curl --fail-with-body "$@"; }',
  'command -v uuidgen >/dev/null || uuidgen() { cat /proc/sys/kernel/random/uuid; }',
].join('\n');

/** The test's environment without SHINRAI_* settings, which would change what the commands do. */
const BASE_ENV = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith('SHINRAI_')),
);

interface SandboxEnv {
  readonly cwd: string;
  readonly url: string;
  readonly host: string;
  readonly token: string;
  readonly prometheusUrl?: string;
  readonly postgresUrl?: string;
  readonly vars: Record<string, string>;
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one bash command line in the sandbox. */
function runShell(
  script: string,
  cwd: string,
  vars: Record<string, string>,
  timeoutMs = 120_000,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', `${PRELUDE}\n${script}`], { cwd, env: { ...BASE_ENV, ...vars } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs / 1000} s)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts a Shinrai command that serves until stopped; resolves with its URL once it says so. */
function startServing(
  script: string,
  cwd: string,
  vars: Record<string, string>,
): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `${PRELUDE}\nexec ${script}`], {
      cwd,
      env: { ...BASE_ENV, ...vars },
    });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`did not say "Shinrai is running at" within 60 s:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Shinrai is running at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, child, output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before serving:\n${output}`));
    });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

/** A command that starts a server and runs until stopped (not `demo --once`). */
function serves(text: string): boolean {
  return /^shinrai (serve|demo)\b/.test(text) && !/--once\b/.test(text);
}

/** A sandbox like a user's checkout: the examples, their own specs/, fixtures beside the repo. */
function makeSandbox(name: string): string {
  const base = mkdtempSync(join(tmpdir(), `shinrai-docs-${name.replace(/\W+/g, '-')}-`));
  const cwd = join(base, 'work');
  mkdirSync(cwd);
  // `../shared/fixtures/…` in the docs: the shared fixtures beside the checkout.
  symlinkSync(dirname(SHARED_FIXTURES), join(base, 'shared'));
  symlinkSync(join(ROOT, 'examples'), join(cwd, 'examples'));
  // `specs/` in the docs stands for the reader's own specs (the example shop); `slos/`, which
  // docs/rules.md turns into Prometheus rules, for their Sloth specs (the shared Sloth examples).
  cpSync(join(ROOT, 'examples/shop'), join(cwd, 'specs'), { recursive: true });
  cpSync(join(SHARED_FIXTURES, 'sloth/in'), join(cwd, 'slos'), { recursive: true });
  cpSync(join(ROOT, 'test/fixtures/docs-sandbox'), cwd, { recursive: true });
  // `shinrai` on PATH: the built bin of this checkout.
  mkdirSync(join(base, 'bin'));
  writeFileSync(join(base, 'bin', 'shinrai'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, {
    mode: 0o755,
  });
  return cwd;
}

/** At most `count` holders at once; the rest wait in order. */
function semaphore(count: number): { acquire: () => Promise<void>; release: () => void } {
  let free = count;
  const waiting: Array<() => void> = [];
  return {
    acquire: () =>
      free > 0
        ? Promise.resolve(void free--)
        : new Promise<void>((resolve) => {
            waiting.push(resolve);
          }),
    release: () => {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}

/**
 * The demo's database as `shinrai demo --seed-days 2` leaves it (two days of traffic, statuses and
 * history) with an admin token, made once: each file's server starts on a copy of it, where its
 * feeder only adds the minutes since, instead of seeding and evaluating two days again.
 */
interface DemoTemplate {
  /** The sandbox's `data/` directory (the default `data/shinrai.db` and its WAL). */
  readonly dataDir: string;
  readonly token: string;
}

async function makeDemoTemplate(): Promise<DemoTemplate> {
  const cwd = makeSandbox('template');
  const vars = { PATH: `${join(dirname(cwd), 'bin')}:${process.env.PATH}` };
  const server = await startServing('shinrai demo --seed-days 2 --port 0 --log-level warn', cwd, vars);
  const created = await runShell('shinrai token create --name docs-admin --role admin', cwd, vars);
  const code = await stop(server.child);
  if (created.code !== 0) throw new Error(`token create: ${created.stderr}`);
  if (code !== 0) throw new Error(`the template's demo exited ${code}:\n${server.output()}`);
  return { dataDir: join(cwd, 'data'), token: created.stdout.trim() };
}

function describeCommand(command: DocCommand, ran: string): string {
  const shown = ran === command.text ? command.text : `${command.text}\n  (ran as: ${ran})`;
  return `${command.file}:${command.line}: ${shown}`;
}

describe('the shell commands in README.md and docs/*.md', () => {
  const all = FILES.flatMap((file) => docCommands(ROOT, file));
  const slots = semaphore(FILES_AT_ONCE);
  let template: DemoTemplate;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('run `npm run build` first');
    template = await makeDemoTemplate();
  }, 180_000);

  afterAll(() => {
    if (template) rmSync(dirname(dirname(template.dataDir)), { recursive: true, force: true });
  });

  it('finds the documented commands, multi-line ones whole', () => {
    expect(all.length).toBeGreaterThan(40);
    const heredoc = all.find((c) => c.file === 'docs/ingestion.md' && c.text.includes('<<'));
    expect(heredoc?.text.split('\n').at(-1)).toBe('EOF');
    expect(expectedExitCodes('shinrai calc x.yaml    # exit 1: not reachable')).toEqual([1]);
    expect(expectedExitCodes('shinrai gate --service a   # exit 0 or 1')).toEqual([0, 1]);
    expect(expectedExitCodes('curl -d \'{"a": 1}\'')).toEqual([0]);
  });

  for (const file of FILES) {
    const commands = docCommands(ROOT, file);
    if (commands.length === 0) continue;

    describe.concurrent(file, () => {
      let cwd: string;
      let server: { url: string; child: ChildProcess; output: () => string } | undefined;
      let prometheus: PrometheusServer | undefined;
      let postgres: TestDatabase | undefined;
      let env: SandboxEnv;
      let holding = false;

      beforeAll(async () => {
        await slots.acquire();
        holding = true;
        cwd = makeSandbox(file);
        const vars: Record<string, string> = { PATH: `${join(dirname(cwd), 'bin')}:${process.env.PATH}` };
        const texts = commands.map((c) => c.text).join('\n');
        // The docs' commands talk to "the server": a demo server for this file, its data in the
        // sandbox (a copy of the template's: the demo's two days and the admin token).
        cpSync(template.dataDir, join(cwd, 'data'), { recursive: true });
        server = await startServing('shinrai demo --seed-days 2 --port 0 --log-level warn', cwd, vars);
        const token = template.token;
        Object.assign(vars, {
          SHINRAI_URL: server.url,
          SHINRAI_TOKEN: token,
          TOKEN: token,
          EDITOR: token,
        });
        if (texts.includes('history.ndjson')) {
          const history = await runShell(
            'shinrai demo --once --seed-days 2 --export history.ndjson',
            cwd,
            vars,
          );
          if (history.code !== 0) throw new Error(`history.ndjson: ${history.stderr}`);
        }
        if (texts.includes('$PM')) vars.PM = await postmortemId(server.url, token);
        if (texts.includes('prometheus:9090'))
          prometheus = await startPrometheus({ dataDir: join(dirname(cwd), 'prometheus') });
        if (texts.includes('@db:5432')) postgres = await createTestDatabase('postgres');
        env = {
          cwd,
          url: server.url,
          host: new URL(server.url).host,
          token,
          prometheusUrl: prometheus?.url,
          postgresUrl: postgres?.url,
          vars,
        };
        // Waiting for a slot counts too: up to 12 files ahead, a few minutes each on a busy box.
      }, 1_800_000);

      afterAll(async () => {
        try {
          if (server) await stop(server.child);
          await prometheus?.stop();
          await postgres?.drop();
          if (cwd) rmSync(dirname(cwd), { recursive: true, force: true });
        } finally {
          if (holding) slots.release();
        }
      });

      it(`runs its ${commands.length} commands`, async () => {
        const failures: string[] = [];
        for (const command of commands) {
          if (NOT_RUN.some((n) => n.file === file && n.command.test(command.text))) continue;
          let ran = command.text;
          for (const rewrite of rewrites(env)) ran = ran.replace(rewrite.from, rewrite.to);
          if (serves(ran)) {
            const withPort = /--port\b/.test(ran) ? ran : `${ran} --port 0`;
            try {
              const started = await startServing(withPort, cwd, env.vars);
              const health = await fetch(`${started.url}/healthz`);
              const code = await stop(started.child);
              if (health.status !== 200 || code !== 0)
                failures.push(
                  `${describeCommand(command, withPort)}\n  /healthz ${health.status}, exit ${code} after SIGTERM\n${started.output()}`,
                );
            } catch (error) {
              failures.push(`${describeCommand(command, withPort)}\n  ${(error as Error).message}`);
            }
            continue;
          }
          const outcome = await runShell(ran, cwd, env.vars);
          // A documented non-zero exit (a deny, a failed check) is an answer; `shinrai: …` on stderr
          // is the CLI failing to give one (unreachable server, missing file), which exits 1 too.
          const cliFailed = outcome.code !== 0 && /^shinrai: /m.test(outcome.stderr);
          if (outcome.code === null || !command.exitCodes.includes(outcome.code) || cliFailed)
            failures.push(
              `${describeCommand(command, ran)}\n  exit ${outcome.code}, documented ${command.exitCodes.join(' or ')}` +
                `\n  --- stdout\n${outcome.stdout.slice(-2000)}\n  --- stderr\n${outcome.stderr.slice(-2000)}`,
            );
        }
        expect(failures, failures.join('\n\n')).toEqual([]);
      }, 600_000);
    });
  }

  it('uses every entry of NOT_RUN (a stale exclusion must go)', () => {
    const unused = NOT_RUN.filter((n) => !all.some((c) => c.file === n.file && n.command.test(c.text)));
    expect(unused.map((n) => `${n.file}: ${n.command}`)).toEqual([]);
  });
});

/** An incident's postmortem, for `$PM` in the docs. */
async function postmortemId(url: string, token: string): Promise<string> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const incident = await fetch(`${url}/api/v1/incidents`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ title: 'Docs example', severity: 'SEV3', services: ['checkout'] }),
  });
  if (!incident.ok) throw new Error(`POST /api/v1/incidents: ${incident.status} ${await incident.text()}`);
  const { reference: ref } = (await incident.json()) as { reference: string };
  const postmortem = await fetch(`${url}/api/v1/incidents/${ref}/postmortem`, {
    method: 'POST',
    headers,
    body: '{}',
  });
  if (!postmortem.ok)
    throw new Error(
      `POST /api/v1/incidents/${ref}/postmortem: ${postmortem.status} ${await postmortem.text()}`,
    );
  return ((await postmortem.json()) as { id: string }).id;
}
