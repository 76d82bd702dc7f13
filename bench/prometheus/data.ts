/**
 * Synthetic data for the Prometheus bench: J jobs of HTTP request counters (codes 200 and 500,
 * one sample a minute on the minute) and N Sloth SLOs spread over the jobs, written as OpenMetrics
 * straight to a file (1,000 SLOs × 30 days is gigabytes of text, so nothing is held as one string).
 *
 * Besides the raw counters the file can hold the history of Sloth's `slo:sli_error:ratio_rate5m`
 * recording rule, one sample a minute on the minute, computed from the same counts exactly as
 * Prometheus evaluates the rule there: with samples on the minute, `rate(x[5m])` at t sees the
 * samples at t−5m … t (Prometheus 2.x ranges are closed), so the ratio of the two rates is the
 * ratio of the errors and requests counted in the five minutes (t−5m, t].
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

export const MIN = 60_000;
export const DAY = 1_440 * MIN;

/** A job's traffic. Counts are a pure function of (job, minute), so any range can be re-generated. */
export interface Job {
  readonly name: string;
  readonly index: number;
  /** Mean requests a second. */
  readonly rps: number;
  /** Phase of the daily ±10% swing (radians). */
  readonly phase: number;
  /** Steady error ratio. */
  readonly errorRatio: number;
  /** Incidents: [fromMs, toMs) with their error ratio. */
  readonly incidents: ReadonlyArray<{ fromMs: number; toMs: number; errorRatio: number }>;
}

export interface BenchSlo {
  /** Sloth SLO name; the id Shinrai and the rules use is `<job>-<name>`. */
  readonly name: string;
  readonly id: string;
  readonly job: Job;
  /** Percent, as Sloth writes it. */
  readonly objective: number;
}

/** mulberry32 over a 32-bit state. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    h = Math.imul(h ^ (v & 0xffff), 0x01000193) >>> 0;
    h = Math.imul(h ^ ((v / 65_536) & 0xffff), 0x01000193) >>> 0;
    h = Math.imul(h ^ Math.floor(v / 4_294_967_296), 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Jobs with 5–50 rps, a steady error ratio of 0.01–0.04 %, and for every third job one incident of
 * 30–180 minutes at 1–5 % errors somewhere in the last `days` days before `endMs`.
 */
export function makeJobs(count: number, endMs: number, days: number, seed = 7): Job[] {
  const jobs: Job[] = [];
  for (let i = 0; i < count; i++) {
    const r = rng(hash(seed, i));
    const incidents = [];
    if (i % 3 === 0) {
      const fromMs = endMs - Math.floor(r() * (days - 0.5) * 1_440 + 60) * MIN;
      incidents.push({
        fromMs,
        toMs: fromMs + Math.floor(30 + r() * 150) * MIN,
        errorRatio: 0.01 + r() * 0.04,
      });
    }
    jobs.push({
      name: `svc${String(i).padStart(3, '0')}`,
      index: i,
      rps: 5 + r() * 45,
      phase: r() * 2 * Math.PI,
      errorRatio: 0.0001 + r() * 0.0003,
      incidents,
    });
  }
  return jobs;
}

/** SLO i reads job i mod J; objectives rotate 99.9, 99.5, 99.95, so budgets differ within a job. */
export function makeSlos(count: number, jobs: readonly Job[]): BenchSlo[] {
  const objectives = [99.9, 99.5, 99.95];
  return Array.from({ length: count }, (_, i) => {
    const job = jobs[i % jobs.length]!;
    const name = `o${String(i).padStart(4, '0')}`;
    return { name, id: `${job.name}-${name}`, job, objective: objectives[i % objectives.length]! };
  });
}

/** One Sloth `prometheus/v1` document per job, with the job's SLOs (alerts as Sloth generates them). */
export function slothSpec(job: Job, slos: readonly BenchSlo[]): string {
  const lines = ['version: prometheus/v1', `service: ${job.name}`, 'slos:'];
  for (const slo of slos) {
    lines.push(
      `  - name: ${slo.name}`,
      `    objective: ${slo.objective}`,
      '    sli:',
      '      events:',
      `        error_query: sum(rate(http_requests_total{job="${job.name}",code="500"}[{{.window}}]))`,
      `        total_query: sum(rate(http_requests_total{job="${job.name}"}[{{.window}}]))`,
      '    alerting:',
      '      name: SloErrorBudgetBurn',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Requests and errors of every minute [startMs + m·1m, startMs + (m+1)·1m) for m < minutes:
 * Poisson-like (normal approximation) around rps·60 with a ±10% daily swing; errors binomial-like.
 */
export function jobCounts(
  job: Job,
  startMs: number,
  minutes: number,
): { total: Int32Array; errors: Int32Array } {
  const total = new Int32Array(minutes);
  const errors = new Int32Array(minutes);
  for (let m = 0; m < minutes; m++) {
    const ms = startMs + m * MIN;
    const r = rng(hash(job.index, ms / MIN));
    const mean = job.rps * 60 * (1 + 0.1 * Math.sin((2 * Math.PI * ms) / DAY + job.phase));
    const gauss = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const requests = Math.max(1, Math.round(mean + Math.sqrt(mean) * gauss));
    let ratio = job.errorRatio;
    for (const incident of job.incidents)
      if (ms >= incident.fromMs && ms < incident.toMs) ratio = incident.errorRatio;
    // Poisson errors (Knuth for small means, normal above 30), capped by the requests.
    const errorMean = requests * ratio;
    let failed: number;
    if (errorMean < 30) {
      const limit = Math.exp(-errorMean);
      failed = 0;
      for (let p = r(); p > limit; p *= r()) failed++;
    } else {
      const g = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      failed = Math.max(0, Math.round(errorMean + Math.sqrt(errorMean) * g));
    }
    total[m] = requests;
    errors[m] = Math.min(requests, failed);
  }
  return { total, errors };
}

/** Buffered line writer over a file stream that respects back-pressure. */
class LineWriter {
  private readonly stream;
  private chunk: string[] = [];
  private size = 0;
  bytes = 0;
  lines = 0;
  constructor(file: string) {
    this.stream = createWriteStream(file);
  }
  /** Queues a line; true when the buffer is full and flush() should be awaited. */
  push(text: string): boolean {
    this.chunk.push(text);
    this.size += text.length + 1;
    this.lines++;
    return this.size >= 4 << 20;
  }
  async flush(): Promise<void> {
    if (!this.chunk.length) return;
    const text = `${this.chunk.join('\n')}\n`;
    this.bytes += text.length;
    this.chunk = [];
    this.size = 0;
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }
  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

export interface WriteOptions {
  readonly jobs: readonly Job[];
  readonly slos: readonly BenchSlo[];
  /** Start of the counters (value 0 at this instant), on the minute. */
  readonly dataStartMs: number;
  /** Write samples with timestamps in [fromMs, toMs] (on the minute). */
  readonly fromMs: number;
  readonly toMs: number;
  /** Also write `slo:sli_error:ratio_rate5m` for every SLO, from fromMs (or dataStart + 5m) to toMs. */
  readonly ratioHistory: boolean;
  readonly progress?: (message: string) => void;
}

/** Writes the OpenMetrics file; returns its size in bytes and samples. */
export async function writeOpenMetrics(
  file: string,
  o: WriteOptions,
): Promise<{ bytes: number; samples: number }> {
  const out = new LineWriter(file);
  const minutes = Math.round((o.toMs - o.dataStartMs) / MIN);
  const firstSample = Math.round((o.fromMs - o.dataStartMs) / MIN);
  const counts = new Map<Job, { total: Int32Array; errors: Int32Array }>();
  for (const job of o.jobs) counts.set(job, jobCounts(job, o.dataStartMs, minutes));
  const seconds = (k: number) => (o.dataStartMs + k * MIN) / 1000;

  out.push('# TYPE http_requests counter');
  for (const job of o.jobs) {
    const { total, errors } = counts.get(job)!;
    for (const code of ['200', '500'] as const) {
      const prefix = `http_requests_total{job="${job.name}",code="${code}"} `;
      // The sample at dataStart + k minutes counts minutes 0 … k−1.
      let value = 0;
      for (let k = 0; k <= minutes; k++) {
        if (k > 0) value += code === '500' ? errors[k - 1]! : total[k - 1]! - errors[k - 1]!;
        if (k >= firstSample && out.push(`${prefix}${value} ${seconds(k)}`)) await out.flush();
      }
    }
  }
  o.progress?.(`counters written (${(out.bytes / 2 ** 20).toFixed(0)} MiB so far)`);

  if (o.ratioHistory) {
    out.push('# TYPE slo:sli_error:ratio_rate5m gauge');
    let done = 0;
    for (const slo of o.slos) {
      const { total, errors } = counts.get(slo.job)!;
      const prefix = `slo:sli_error:ratio_rate5m{sloth_id="${slo.id}",sloth_service="${slo.job.name}",sloth_slo="${slo.name}",sloth_window="5m"} `;
      let e = 0;
      let t = 0;
      for (let m = 0; m < 5; m++) {
        e += errors[m]!;
        t += total[m]!;
      }
      // At sample k: minutes k−5 … k−1.
      for (let k = 5; k <= minutes; k++) {
        if (k > 5) {
          e += errors[k - 1]! - errors[k - 6]!;
          t += total[k - 1]! - total[k - 6]!;
        }
        if (k >= firstSample && out.push(`${prefix}${e === 0 ? '0' : (e / t).toPrecision(9)} ${seconds(k)}`))
          await out.flush();
      }
      if (++done % 100 === 0) o.progress?.(`ratio history: ${done}/${o.slos.length} SLOs`);
    }
  }
  out.push('# EOF');
  await out.close();
  return { bytes: out.bytes, samples: out.lines };
}
