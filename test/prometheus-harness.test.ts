/**
 * Self-test of the real-Prometheus harness: backfilled synthetic counters must read back through
 * PromQL as the generator's per-minute truth, across a counter reset and a restart.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backfillOpenMetrics,
  type GeneratedData,
  generateRequestCounters,
  type PrometheusServer,
  prometheusAvailable,
  startPrometheus,
} from './support/prometheus.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2024, 2, 1);
const END = START + 2 * DAY;
// Mid-interval on purpose: the restart lands between two scrapes.
const RESET = START + 26 * HOUR + 20_000;
const INCIDENT = { from: START + 30 * HOUR, to: START + 31 * HOUR };

function truthBetween(data: GeneratedData, job: string, fromMs: number, toMs: number) {
  let good = 0;
  let total = 0;
  for (const minute of data.minutes.get(job) ?? []) {
    if (minute.minuteMs < fromMs || minute.minuteMs >= toMs) continue;
    good += minute.good;
    total += minute.total;
  }
  return { good, total };
}

describe.skipIf(!prometheusAvailable())('Prometheus harness', () => {
  const dirs: string[] = [];
  let data: GeneratedData;
  let prometheus: PrometheusServer;

  async function tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  }

  async function total(expr: string, atMs: number): Promise<number> {
    const result = await prometheus.query(expr, atMs);
    expect(result).toHaveLength(1);
    return result[0]!.value;
  }

  beforeAll(async () => {
    data = generateRequestCounters({
      jobs: [
        {
          job: 'x',
          instances: ['a', 'b'],
          // A daily traffic cycle between 10 and 30 rps per instance.
          rps: (ms) => 20 + 10 * Math.sin((2 * Math.PI * ms) / DAY),
          errorRatio: (ms) => (ms >= INCIDENT.from && ms < INCIDENT.to ? 0.2 : 0.001),
          resetsAt: [RESET],
        },
      ],
      startMs: START,
      endMs: END,
      scrapeSeconds: 15,
      seed: 42,
    });
    const dataDir = await tempDir('shinrai-prom-data-');
    await backfillOpenMetrics(data.openMetrics, dataDir);
    prometheus = await startPrometheus({ dataDir });
  });

  afterAll(async () => {
    await prometheus?.kill();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('generates one minute of truth per minute in [start, end), summed over instances', () => {
    const minutes = data.minutes.get('x')!;
    expect(minutes).toHaveLength((END - START) / 60_000);
    expect(minutes[0]!.minuteMs).toBe(START);
    expect(minutes.at(-1)!.minuteMs).toBe(END - 60_000);
    // ~20 rps × 2 instances × 60 s.
    const perMinute = truthBetween(data, 'x', START, END).total / minutes.length;
    expect(perMinute).toBeGreaterThan(2000);
    expect(perMinute).toBeLessThan(2800);
    expect(data.openMetrics.endsWith('# EOF\n')).toBe(true);
    const again = generateRequestCounters({
      jobs: [{ job: 'x', instances: ['a'], rps: () => 5, errorRatio: () => 0.5 }],
      startMs: START,
      endMs: START + HOUR,
      scrapeSeconds: 15,
      seed: 7,
    });
    const same = generateRequestCounters({
      jobs: [{ job: 'x', instances: ['a'], rps: () => 5, errorRatio: () => 0.5 }],
      startMs: START,
      endMs: START + HOUR,
      scrapeSeconds: 15,
      seed: 7,
    });
    expect(same.openMetrics).toBe(again.openMetrics);
  });

  it('reads back hourly increase() within 2% of the truth', async () => {
    let worst = 0;
    for (let at = START + HOUR; at <= END; at += HOUR) {
      const truth = truthBetween(data, 'x', at - HOUR, at);
      const seen = await total('sum(increase(http_requests_total{job="x"}[1h]))', at);
      const seenBad = await total('sum(increase(http_requests_total{job="x",code="500"}[1h]))', at);
      const error = Math.abs(seen - truth.total) / truth.total;
      worst = Math.max(worst, error);
      expect(error, `hour ending ${new Date(at).toISOString()}`).toBeLessThan(0.02);
      expect(Math.abs(seenBad - (truth.total - truth.good))).toBeLessThanOrEqual(
        Math.max(2, 0.02 * (truth.total - truth.good)),
      );
    }
    console.log(`worst hourly increase() error vs truth: ${(worst * 100).toFixed(4)}%`);
    // The incident hour shows up as ~20% errors.
    const incident = truthBetween(data, 'x', INCIDENT.from, INCIDENT.to);
    expect(1 - incident.good / incident.total).toBeGreaterThan(0.18);
  });

  it('matches the per-minute attribution: increase([1m]) at m+60s is minute m', async () => {
    const minutes = data.minutes.get('x')!;
    const resetMinute = Math.floor(RESET / 60_000) * 60_000;
    for (const minuteMs of [START, START + 17 * HOUR + 5 * 60_000, resetMinute, END - 60_000]) {
      const truth = minutes.find((minute) => minute.minuteMs === minuteMs)!;
      const seen = await total('sum(increase(http_requests_total{job="x"}[1m]))', minuteMs + 60_000);
      expect(seen, new Date(minuteMs).toISOString()).toBeCloseTo(truth.total, 6);
    }
  });

  it('treats the counter reset as a reset, not a negative or huge increase', async () => {
    const at = Math.ceil(RESET / HOUR) * HOUR;
    const counters = await prometheus.query(
      'http_requests_total{job="x",instance="a",code="200"}',
      RESET + 60_000,
    );
    // The counter really dropped: a minute after the restart it holds only a minute of requests.
    expect(counters[0]!.value).toBeLessThan(20 * 60 * 4);
    const a = await total('sum(increase(http_requests_total{job="x",instance="a"}[1h]))', at);
    const b = await total('sum(increase(http_requests_total{job="x",instance="b"}[1h]))', at);
    const truth = truthBetween(data, 'x', at - HOUR, at).total;
    expect(a).toBeGreaterThan(0);
    // Both instances see similar traffic; a missed reset would be hugely negative or positive.
    expect(a / b).toBeGreaterThan(0.9);
    expect(a / b).toBeLessThan(1.1);
    expect(Math.abs(a + b - truth) / truth).toBeLessThan(0.02);
    expect(await total('sum(resets(http_requests_total{job="x"}[2d]))', END)).toBeGreaterThanOrEqual(1);
  });

  it("throws Prometheus' error text for a bad query", async () => {
    await expect(prometheus.query('sum(', END)).rejects.toThrow(/bad_data|parse error/);
  });

  it('keeps the data across stop() and start(), and fails queries after kill()', async () => {
    const expr = 'sum(increase(http_requests_total{job="x"}[1h]))';
    const before = await total(expr, START + 12 * HOUR);
    expect(prometheus.usage().rssBytes).toBeGreaterThan(0);
    await prometheus.stop();
    await prometheus.stop();
    await expect(prometheus.query(expr, START + 12 * HOUR)).rejects.toThrow(/ECONNREFUSED/);
    await prometheus.start();
    expect(await total(expr, START + 12 * HOUR)).toBe(before);
    await prometheus.kill();
    await expect(prometheus.query(expr, START + 12 * HOUR)).rejects.toThrow(/ECONNREFUSED/);
    await prometheus.start();
    expect(await total(expr, START + 12 * HOUR)).toBe(before);
  });

  it('generates and backfills 30 days × 4 series at 15 s quickly (timing reported, not asserted)', async () => {
    const startMs = Date.UTC(2024, 0, 1);
    const began = performance.now();
    const month = generateRequestCounters({
      jobs: [{ job: 'checkout', instances: ['a', 'b'], rps: () => 10, errorRatio: () => 0.001 }],
      startMs,
      endMs: startMs + 30 * DAY,
      scrapeSeconds: 15,
      seed: 1,
    });
    const generated = performance.now();
    const dataDir = await tempDir('shinrai-prom-month-');
    await backfillOpenMetrics(month.openMetrics, dataDir);
    const backfilled = performance.now();
    console.log(
      `30 d × 4 series @ 15 s: generate ${(generated - began).toFixed(0)} ms ` +
        `(${(month.openMetrics.length / 1e6).toFixed(1)} MB), backfill ${(backfilled - generated).toFixed(0)} ms`,
    );
    expect((await readdir(dataDir)).length).toBeGreaterThan(0);
  });
});
