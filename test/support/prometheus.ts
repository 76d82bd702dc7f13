/**
 * A real Prometheus for integration tests: deterministic synthetic request counters with their
 * exact per-minute truth, backfilled into TSDB blocks with promtool, served by a Prometheus child
 * process on a free loopback port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { binariesAvailable, PROMETHEUS, PROMTOOL } from './binaries.js';

export const PROMETHEUS_BIN: string = PROMETHEUS.path;
export const PROMTOOL_BIN: string = PROMTOOL.path;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether Prometheus and promtool are installed: suites use `describe.skipIf(!prometheusAvailable())`
 * as a local convenience only; under CI=true a missing binary throws (see binaries.ts).
 */
export const prometheusAvailable = (): boolean => binariesAvailable([PROMETHEUS, PROMTOOL]);

// ---------------------------------------------------------------------------------------------
// Synthetic data

/** Deterministic synthetic HTTP request counters plus the exact per-minute truth. */
export interface GeneratedJob {
  readonly job: string;
  /** Separate counter series per instance. */
  readonly instances: readonly string[];
  /** Error ratio as a function of time (ms), e.g. steady 0.1% with an incident spike. */
  readonly errorRatio: (ms: number) => number;
  /** Requests per second per instance as a function of time. */
  readonly rps: (ms: number) => number;
  /** ms timestamps at which instance `instances[0]`'s counters reset to 0 (process restart). */
  readonly resetsAt?: readonly number[];
}

export interface GeneratedData {
  /**
   * OpenMetrics text ending in "# EOF", ready for promtool. Metric family `http_requests`
   * (counter, samples named http_requests_total) with labels job, instance, code ("200" or "500").
   */
  readonly openMetrics: string;
  /**
   * Exact events per job per minute: minuteMs → counts of requests whose counter increments
   * happened in [minuteMs, minuteMs+60000), summed over instances, for every minute in
   * [startMs, endMs) (zeros included). Increments are reported at scrape samples; the increments
   * reported at a sample with timestamp t belong to minute floor((t-1)/60000)*60000, so a sample
   * at exactly m+60s closes minute m. That is what Prometheus 2.x `increase(x[60s])` evaluated
   * at m+60s sees (its range [m, m+60s] includes the sample at m as the base), so with a scrape
   * interval dividing 60 s the truth equals increase() exactly, resets included, except when a
   * reset leaves a counter at or above its old value (PromQL cannot see such a reset).
   */
  readonly minutes: ReadonlyMap<string, ReadonlyArray<{ minuteMs: number; good: number; total: number }>>;
}

/** mulberry32: tiny, fast and good enough for test data. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the seed and names, so every series gets its own stream regardless of job order. */
function seriesSeed(seed: number, ...names: string[]): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (const name of names) {
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
    h = Math.imul(h ^ 0xff, 0x01000193) >>> 0;
  }
  return h;
}

class Sampler {
  private spare: number | undefined;
  constructor(private readonly uniform: () => number) {}

  gaussian(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    // Box-Muller; 1 - u keeps log() away from 0.
    const r = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean >= 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.gaussian()));
    // Knuth's method: exact and cheap for small means.
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.uniform();
    while (p > limit) {
      k++;
      p *= this.uniform();
    }
    return k;
  }

  binomial(n: number, p: number): number {
    if (n <= 0 || !(p > 0)) return 0;
    if (p >= 1) return n;
    if (n < 40) {
      let k = 0;
      for (let i = 0; i < n; i++) if (this.uniform() < p) k++;
      return k;
    }
    const mean = n * p;
    if (mean < 30) return Math.min(n, this.poisson(mean));
    if (n - mean < 30) return n - Math.min(n, this.poisson(n - mean));
    const draw = Math.round(mean + Math.sqrt(mean * (1 - p)) * this.gaussian());
    return Math.min(n, Math.max(0, draw));
  }
}

function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * Generates counters sampled at startMs + k*scrapeSeconds for every k with the sample at or before
 * endMs. Both code series start at 0 at startMs. Each later sample advances by a seeded
 * Poisson-ish request count around rps(mid)*scrapeSeconds (mid = middle of the scrape interval),
 * split into 500s by a seeded binomial with errorRatio(mid). A reset in (previous sample, t]
 * makes instances[0]'s counters at t equal to just that interval's increments.
 */
export function generateRequestCounters(opts: {
  jobs: readonly GeneratedJob[];
  startMs: number;
  endMs: number;
  scrapeSeconds: number;
  seed: number;
}): GeneratedData {
  const { jobs, startMs, endMs, scrapeSeconds, seed } = opts;
  if (startMs % 60_000 !== 0 || endMs % 60_000 !== 0 || endMs <= startMs) {
    throw new Error(`startMs and endMs must be multiples of 60000 with startMs < endMs`);
  }
  const scrapeMs = Math.round(scrapeSeconds * 1000);
  if (!(scrapeMs > 0)) throw new Error(`scrapeSeconds must be positive, got ${scrapeSeconds}`);
  const minuteCount = (endMs - startMs) / 60_000;
  const sampleCount = Math.floor((endMs - startMs) / scrapeMs) + 1;

  const lines: string[] = ['# TYPE http_requests counter'];
  const minutes = new Map<string, Array<{ minuteMs: number; good: number; total: number }>>();

  for (const job of jobs) {
    if (minutes.has(job.job)) throw new Error(`duplicate job ${job.job}`);
    if (job.instances.length === 0) throw new Error(`job ${job.job} has no instances`);
    const good = new Float64Array(minuteCount);
    const total = new Float64Array(minuteCount);
    const resets = [...(job.resetsAt ?? [])].sort((a, b) => a - b);

    for (const [index, instance] of job.instances.entries()) {
      const sampler = new Sampler(mulberry32(seriesSeed(seed, job.job, instance)));
      const labels = `instance="${labelValue(instance)}",job="${labelValue(job.job)}"}`;
      const okPrefix = `http_requests_total{code="200",${labels} `;
      const errorPrefix = `http_requests_total{code="500",${labels} `;
      const okLines = new Array<string>(sampleCount);
      const errorLines = new Array<string>(sampleCount);
      let ok = 0;
      let errors = 0;
      let nextReset = 0;
      okLines[0] = `${okPrefix}0 ${startMs / 1000}`;
      errorLines[0] = `${errorPrefix}0 ${startMs / 1000}`;
      for (let k = 1; k < sampleCount; k++) {
        const t = startMs + k * scrapeMs;
        const mid = t - scrapeMs / 2;
        const requests = sampler.poisson(Math.max(0, job.rps(mid)) * scrapeSeconds);
        const failed = sampler.binomial(requests, job.errorRatio(mid));
        let reset = false;
        if (index === 0) {
          while (nextReset < resets.length && resets[nextReset]! <= t) {
            if (resets[nextReset]! > t - scrapeMs) reset = true;
            nextReset++;
          }
        }
        if (reset) {
          ok = 0;
          errors = 0;
        }
        ok += requests - failed;
        errors += failed;
        const minute = Math.floor((t - 1 - startMs) / 60_000);
        good[minute]! += requests - failed;
        total[minute]! += requests;
        const seconds = t / 1000;
        okLines[k] = `${okPrefix}${ok} ${seconds}`;
        errorLines[k] = `${errorPrefix}${errors} ${seconds}`;
      }
      // Each series' samples stay contiguous and in time order, which promtool accepts.
      for (const line of okLines) lines.push(line);
      for (const line of errorLines) lines.push(line);
    }

    minutes.set(
      job.job,
      Array.from({ length: minuteCount }, (_, i) => ({
        minuteMs: startMs + i * 60_000,
        good: good[i]!,
        total: total[i]!,
      })),
    );
  }
  lines.push('# EOF', '');
  return { openMetrics: lines.join('\n'), minutes };
}

// ---------------------------------------------------------------------------------------------
// Backfill

interface RunResult {
  readonly code: number | null;
  readonly output: string;
}

function run(bin: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-64 * 1024);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, output }));
  });
}

/**
 * Largest block promtool may write. Every block window costs promtool a full parse of the input,
 * so 2 h blocks make 30 days take ~360 passes; 486 h (a Prometheus compaction level, and below its
 * 31 d maximum) needs a handful and leaves nothing for Prometheus to compact.
 */
const BACKFILL_MAX_BLOCK_DURATION = '486h';

/** Turns OpenMetrics text into TSDB blocks in dataDir with `promtool tsdb create-blocks-from openmetrics`. */
export async function backfillOpenMetrics(openMetrics: string, dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const workDir = await mkdtemp(join(tmpdir(), 'shinrai-backfill-'));
  try {
    const input = join(workDir, 'input.om');
    await writeFile(input, openMetrics);
    const args = [
      'tsdb',
      'create-blocks-from',
      'openmetrics',
      '--quiet',
      `--max-block-duration=${BACKFILL_MAX_BLOCK_DURATION}`,
      input,
      dataDir,
    ];
    const { code, output } = await run(PROMTOOL_BIN, args);
    if (code !== 0) throw new Error(`promtool ${args.join(' ')} exited with ${code}:\n${output}`);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Server

export interface PrometheusServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Graceful stop (SIGTERM), waits for exit. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, waits for exit. */
  kill(): Promise<void>;
  /** Starts again on the same port and data dir; waits for /-/ready. */
  start(): Promise<void>;
  /** Instant query helper for tests: returns the vector as [{labels, value}] at time ms. Throws with Prometheus' error text. */
  query(expr: string, atMs: number): Promise<Array<{ labels: Record<string, string>; value: number }>>;
  /** The Prometheus process' CPU seconds (utime+stime from /proc/<pid>/stat) and RSS bytes, for benchmarks. */
  usage(): { cpuSeconds: number; rssBytes: number };
  /** SIGSTOP: the process keeps its port but answers nothing (a hung Prometheus); `resume()` undoes it. */
  pause(): void;
  resume(): void;
}

// Ports other services on the test machines own.
const RESERVED_PORTS = new Set([9090, 9093, 3000, 5432, 6379, 8420]);
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
// USER_HZ is 100 on every Linux ABI Node supports; /proc reports CPU time in those ticks.
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Vitest kills its worker processes without an 'exit' event, so the exit hook alone would leave
 * orphaned servers behind; where util-linux' setpriv exists, the kernel kills Prometheus when
 * its parent dies (setpriv execs it, so the pid is Prometheus' own).
 */
const SETPRIV_BIN = '/usr/bin/setpriv';
const useSetpriv = executable(SETPRIV_BIN);

// Children to kill if the test process exits normally without stopping them.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
  });
}

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolvePromise, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolvePromise(chosen));
      });
    });
    if (port !== 0 && !RESERVED_PORTS.has(port)) return port;
  }
}

class AddressInUseError extends Error {}

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

interface LaunchOptions {
  readonly config: string;
  readonly dataDir: string;
  readonly extraArgs: readonly string[];
  readonly tls?: TlsOptions | undefined;
}

/** Serve HTTPS: Prometheus' web config with this certificate, trusted through `caPem`. */
export interface TlsOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caPem: string;
}

/** fetch that trusts the test CA when the server speaks TLS. */
function fetcher(tls: TlsOptions | undefined): typeof fetch {
  if (!tls) return fetch;
  const dispatcher = new Agent({ connect: { ca: tls.caPem } });
  return ((input: string, init?: RequestInit) =>
    undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof fetch;
}

function baseUrl(port: number, tls: TlsOptions | undefined): string {
  return `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
}

async function launch(port: number, options: LaunchOptions): Promise<Running> {
  // Prometheus reads its config once, before it reports ready, so the file lives only that long.
  // The web config (TLS) is read on every connection, so it lives beside the data instead.
  const configDir = await mkdtemp(join(tmpdir(), 'shinrai-prometheus-'));
  try {
    const configFile = join(configDir, 'prometheus.yml');
    await writeFile(configFile, options.config);
    const extraArgs = [...options.extraArgs];
    if (options.tls) {
      const webConfig = join(options.dataDir, 'web-config.yml');
      const tlsConfig = {
        tls_server_config: { cert_file: options.tls.certFile, key_file: options.tls.keyFile },
      };
      await writeFile(webConfig, `${JSON.stringify(tlsConfig)}\n`);
      extraArgs.push(`--web.config.file=${webConfig}`);
    }
    return await launchWithConfig(port, configFile, { ...options, extraArgs });
  } finally {
    await rm(configDir, { recursive: true, force: true });
  }
}

async function launchWithConfig(
  port: number,
  configFile: string,
  { dataDir, extraArgs, tls }: LaunchOptions,
) {
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDir}`,
    // Retention counts back from the newest block, so old backfilled data survives.
    '--storage.tsdb.retention.time=3650d',
    `--web.listen-address=127.0.0.1:${port}`,
    ...extraArgs,
  ];
  const child = useSetpriv
    ? spawn(SETPRIV_BIN, ['--pdeathsig', 'KILL', '--', PROMETHEUS_BIN, ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
      })
    : spawn(PROMETHEUS_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  liveChildren.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-64 * 1024);
  });
  let exitedNow = false;
  const exited = new Promise<void>((resolvePromise) => {
    const done = () => {
      exitedNow = true;
      liveChildren.delete(child);
      resolvePromise();
    };
    child.once('exit', done);
    // A failed spawn (e.g. missing binary) may never emit 'exit'.
    child.once('error', (error) => {
      stderr += `\nspawn ${child.spawnfile}: ${error.message}`;
      if (child.pid === undefined) done();
    });
  });

  const url = baseUrl(port, tls);
  const fetchReady = fetcher(tls);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!exitedNow) {
    try {
      const response = await fetchReady(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(
        `Prometheus on port ${port} was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${stderr}`,
      );
    }
    await sleep(100);
  }
  if (exitedNow) {
    // Give 'close' a moment so the last stderr lines (the reason) are in the message.
    await sleep(50);
    const message = `Prometheus exited with ${child.exitCode ?? child.signalCode} before it was ready:\n${stderr}`;
    throw /address already in use/.test(stderr) ? new AddressInUseError(message) : new Error(message);
  }
  // A forgotten server must not keep the test process alive; setpriv or the exit hook kill it.
  child.unref();
  (child.stderr as Socket | null)?.unref();
  return { child, exited } satisfies Running;
}

function parseValue(value: string): number {
  if (value === '+Inf') return Number.POSITIVE_INFINITY;
  if (value === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(value);
}

interface QueryResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: {
    resultType: 'vector' | 'scalar' | 'matrix' | 'string';
    result: unknown;
  };
}

/**
 * Starts Prometheus on 127.0.0.1 with a generated config (no scrape targets, optional rule files)
 * and a retention long enough for old backfilled blocks. Backfill before starting: blocks written
 * while it runs are only picked up after a restart.
 */
export async function startPrometheus(opts: {
  dataDir: string;
  port?: number;
  ruleFiles?: readonly string[];
  evaluationInterval?: string;
  extraArgs?: readonly string[];
  /** Serve HTTPS with this certificate (the url is then https://…). */
  tls?: TlsOptions;
}): Promise<PrometheusServer> {
  installExitHook();
  const dataDir = resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true });
  // JSON is YAML, and JSON.stringify quotes paths safely.
  const config = {
    global: { scrape_interval: '1m', evaluation_interval: opts.evaluationInterval ?? '1m' },
    rule_files: (opts.ruleFiles ?? []).map((file) => resolve(file)),
    scrape_configs: [],
  };
  const launchOptions: LaunchOptions = {
    config: `${JSON.stringify(config, null, 2)}\n`,
    dataDir,
    extraArgs: opts.extraArgs ?? [],
    tls: opts.tls,
  };

  let port = opts.port ?? (await freePort());
  let running: Running | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      running = await launch(port, launchOptions);
      break;
    } catch (error) {
      // Someone took the free port between our probe and Prometheus' bind.
      if (!(error instanceof AddressInUseError) || opts.port !== undefined || attempt >= 3) throw error;
      port = await freePort();
    }
  }

  const url = baseUrl(port, opts.tls);
  const fetchApi = fetcher(opts.tls);
  let stopping: Promise<void> | undefined;

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const current = running;
    if (!current) return;
    if (current.child.exitCode === null && current.child.signalCode === null) {
      // Keep the event loop alive until the exit is observed.
      current.child.ref();
      (current.child.stderr as Socket | null)?.ref();
      current.child.kill(signal);
      const timer =
        signal === 'SIGKILL' ? undefined : setTimeout(() => current.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await current.exited;
      clearTimeout(timer);
    }
    await current.exited;
    if (running === current) running = undefined;
  };

  return {
    url,
    port,
    dataDir,
    stop: () => {
      stopping ??= halt('SIGTERM').finally(() => {
        stopping = undefined;
      });
      return stopping;
    },
    kill: () => halt('SIGKILL'),
    start: async () => {
      if (stopping) await stopping;
      if (running) return;
      // The old process released the port on exit; a short retry covers a slow kernel.
      for (let attempt = 1; ; attempt++) {
        try {
          running = await launch(port, launchOptions);
          return;
        } catch (error) {
          if (!(error instanceof AddressInUseError) || attempt >= 5) throw error;
          await sleep(500);
        }
      }
    },
    query: async (expr, atMs) => {
      let response: Response;
      try {
        response = await fetchApi(`${url}/api/v1/query`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ query: expr, time: String(atMs / 1000) }),
        });
      } catch (error) {
        // fetch() hides the socket error (e.g. ECONNREFUSED) in `cause`; surface it.
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const reason = cause?.code ?? cause?.message ?? String(error);
        throw new Error(`Prometheus at ${url} unreachable: ${reason}`, { cause: error });
      }
      const text = await response.text();
      let body: QueryResponse;
      try {
        body = JSON.parse(text) as QueryResponse;
      } catch {
        throw new Error(`Prometheus query ${expr} failed with HTTP ${response.status}: ${text}`);
      }
      if (body.status !== 'success' || !body.data) {
        throw new Error(
          `Prometheus query ${expr} failed (${body.errorType ?? response.status}): ${body.error}`,
        );
      }
      const { resultType, result } = body.data;
      if (resultType === 'scalar') {
        const [, value] = result as [number, string];
        return [{ labels: {}, value: parseValue(value) }];
      }
      if (resultType !== 'vector') throw new Error(`Prometheus query ${expr} returned a ${resultType}`);
      return (result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((item) => ({
        labels: item.metric,
        value: parseValue(item.value[1]),
      }));
    },
    pause: () => {
      running?.child.kill('SIGSTOP');
    },
    resume: () => {
      running?.child.kill('SIGCONT');
    },
    usage: () => {
      const pid = running?.child.pid;
      if (pid === undefined) throw new Error('Prometheus is not running');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the parenthesised command name start at field 3 (state); utime is 14, stime 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return { cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND, rssBytes: Number(rss?.[1] ?? 0) * 1024 };
    },
  };
}
