/**
 * Web UI charts (issue 7: "charts stay fast with 30 days of one-minute data"): the demo shop with D
 * seeded days of one-minute data, served in-process, and Debian's Chromium (playwright-core) on its
 * SLO pages. Measures, per chart range (24 hours = the baseline, 7 days, 30 days): the time from
 * clicking the range button until every chart on the page has been rebuilt with the new data and
 * painted, with the history fetched (cold) and from the page's query cache (cached); the history
 * API on its own; points per series; the JS heap. Then raw uPlot draws of 30 days at one-minute
 * resolution (43,200 points per series) against the 5-minute step the page uses, for the headroom.
 * Flags: --days D (30), --runs N (5, medians), --slos a,b (checkout-availability,checkout-latency),
 * --draws K (10, raw draws per case). See bench/README.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { findWebRoot } from '../src/platform/http/web-routes.js';
import { CHROMIUM, launchBrowser, startDemoServer } from '../test/support/browser.js';
import type { TestServer } from '../test/support/server.js';
import { intFlag } from './flags.js';
import type { BenchFlags } from './run.js';

const RANGES = [
  { key: '24h', label: '24 hours' },
  { key: '7d', label: '7 days' },
  { key: '30d', label: '30 days' },
] as const;
type RangeKey = (typeof RANGES)[number]['key'];

const VIEWPORT = { width: 1440, height: 900 };
const MINUTES_PER_DAY = 1440;

const started = performance.now();
function progress(message: string): void {
  process.stderr.write(
    `[ui ${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s] ${message}\n`,
  );
}

function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const ms = (v: number) => (Number.isNaN(v) ? '—' : v < 10 ? v.toFixed(1) : v.toFixed(0));
const ratio = (v: number, base: number) =>
  Number.isNaN(v) || !(base > 0) ? '—' : `${(v / base).toFixed(2)}×`;
const mib = (bytes: number) => (Number.isNaN(bytes) ? '—' : `${(bytes / 2 ** 20).toFixed(1)} MiB`);
const count = (n: number) => n.toLocaleString('en-US');
/** Long tasks are reported from 50 ms. */
const task = (v: number) => (v >= 50 ? `${v.toFixed(0)} ms` : '< 50 ms');

/** What the in-page helper answers for one switch (all in ms from the click or navigation). */
interface Switch {
  /** Every chart holds a canvas made after the action (uPlot has drawn it in the same task). */
  builtMs: number;
  /** The next frame with them has been produced (requestAnimationFrame, then a task). */
  drawnMs: number;
  /** responseEnd of the history request started by the action, if there was one. */
  responseMs: number | null;
  /** Longest main-thread task (≥ 50 ms, Long Tasks API) in between; 0 if none. */
  longestTaskMs: number;
  /** The page's own label of the step, e.g. "one point every 5m". */
  stepText: string;
}

/** Points per series, their spacing, and series per chart (one entry per chart). */
interface RawCase {
  points: number;
  stepSeconds: number;
  series: number[];
}

/** Until uPlot's draw hook (the canvas calls made), and until they are rasterized (a pixel read back). */
interface RawDraw {
  createMs: number[];
  createRasterMs: number[];
  setDataMs: number[];
  setDataRasterMs: number[];
}

/** The helper's functions, as page.evaluate sees them. */
interface PageBench {
  __uiBench: {
    click(label: string, charts: number): Promise<Switch>;
    navigate(path: string, charts: number): Promise<Switch>;
    raw(cases: RawCase[], width: number, draws: number): Promise<RawDraw[]>;
  };
}

/**
 * Installed in the page through the DevTools protocol (page.evaluate), which the UI's CSP does not
 * govern; the CSP stays on. Plain JS: it runs in the browser.
 *
 * "Drawn" is deterministic: the SLO page unmounts its charts while a range loads, and TimeChart
 * builds a new uPlot (a new <canvas>) whenever its data changes, so the action is done when every
 * one of the expected chart figures holds a canvas that was not there before. uPlot appends its
 * canvas in its constructor and draws in a microtask queued right after, so both have run by the
 * next animation frame; the end is a task after that frame (its layout, ResizeObserver and paint).
 */
const PAGE_HELPER = `
(() => {
  const waitDrawn = (act, charts) => new Promise((resolve, reject) => {
    const old = new Set(document.querySelectorAll('figure.chart canvas'));
    performance.clearResourceTimings();
    let longest = 0;
    const tasks = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longest = Math.max(longest, e.duration);
    });
    tasks.observe({ type: 'longtask' });
    let done = false;
    let t0 = 0;
    const check = () => {
      if (done) return;
      const figures = document.querySelectorAll('figure.chart');
      if (figures.length !== charts) return;
      for (const f of figures) {
        const c = f.querySelector('canvas');
        if (!c || old.has(c)) return;
      }
      done = true;
      observer.disconnect();
      clearTimeout(timeout);
      const builtMs = performance.now() - t0;
      requestAnimationFrame(() => {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => {
          const drawnMs = performance.now() - t0;
          for (const e of tasks.takeRecords()) longest = Math.max(longest, e.duration);
          tasks.disconnect();
          const fetched = performance
            .getEntriesByType('resource')
            .filter((e) => e.name.includes('/history?') && e.startTime >= t0 && e.responseEnd > 0);
          const stepText = document.querySelector('fieldset.range .muted')?.textContent?.trim() ?? '';
          resolve({
            builtMs,
            drawnMs,
            responseMs: fetched.length ? fetched[0].responseEnd - t0 : null,
            longestTaskMs: longest,
            stepText,
          });
        };
        channel.port2.postMessage(0);
      });
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, { childList: true, subtree: true });
    const timeout = setTimeout(() => {
      observer.disconnect();
      reject(new Error('charts not redrawn within 60 s (expected ' + charts + ' charts, found ' +
        document.querySelectorAll('figure.chart').length + ')'));
    }, 60000);
    t0 = performance.now();
    act();
    check();
  });

  // Raw uPlot draws with options like TimeChart's. Cases run round-robin (round 0 warms up and is
  // dropped), so JIT warm-up and GC fall on every case alike.
  const raw = async (cases, width, draws) => {
    const uPlot = window.uPlot;
    let seed = 12345;
    const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296);
    // Deterministic shapes like the page's: a falling budget, a noisy ratio, burn rates with bursts.
    const shape = (points, kind) => {
      const v = new Array(points);
      let walk = 1;
      for (let i = 0; i < points; i++) {
        if (kind === 0) { walk -= random() * 2 / points; v[i] = walk; }
        else if (kind === 1) v[i] = 0.999 + (random() - 0.5) * 0.002;
        else if (kind === 2) v[i] = random() < 0.002 ? 5 + random() * 20 : random() * 1.5;
        else v[i] = 14.4;
      }
      return v;
    };
    const end = Math.floor(Date.now() / 60000) * 60;
    const dataFor = (c, series) => [
      Array.from({ length: c.points }, (_, i) => end - (c.points - 1 - i) * c.stepSeconds),
      ...Array.from({ length: series }, (_, s) => shape(c.points, s === series - 1 ? 3 : s % 3)),
    ];
    const holder = document.createElement('div');
    holder.style.width = width + 'px';
    document.body.replaceChildren(holder);
    const optsFor = (series, onDraw) => ({
      width, height: 220, legend: { show: true }, cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true }, y: { auto: true } },
      axes: [{ stroke: '#333', grid: { stroke: '#e3e3e3' } }, { stroke: '#333', grid: { stroke: '#e3e3e3' }, size: 70 }],
      series: [{}, ...Array.from({ length: series }, (_, s) => ({
        label: 's' + s, stroke: ['#1f5fbf', '#b3261e', '#1b7f3b', '#7a3fb0'][s % 4], width: 1.5,
        spanGaps: false, points: { show: false },
      }))],
      hooks: { draw: [onDraw] },
    });
    const prepared = cases.map((c) => ({
      series: c.series,
      first: c.series.map((n) => dataFor(c, n)),
      second: c.series.map((n) => dataFor(c, n)),
      createMs: [],
      createRasterMs: [],
      setDataMs: [],
      setDataRasterMs: [],
    }));
    let drawn = 0;
    let last = 0;
    const onDraw = () => { drawn++; last = performance.now(); };
    const allDrawn = async (n) => {
      await Promise.resolve();
      while (drawn < n) await new Promise((r) => setTimeout(r, 0));
    };
    for (let round = 0; round <= draws; round++) {
      for (const c of prepared) {
        drawn = 0;
        const t0 = performance.now();
        const charts = c.series.map((n, i) => new uPlot(optsFor(n, onDraw), c.first[i], holder));
        // Chromium records 2D canvas calls and rasterizes them later; reading a pixel flushes them.
        const rasterized = () => {
          for (const u of charts) u.ctx.getImageData(0, 0, 1, 1);
          return performance.now();
        };
        await allDrawn(charts.length);
        const created = last - t0;
        const createdRaster = rasterized() - t0;
        drawn = 0;
        const t1 = performance.now();
        charts.forEach((u, i) => u.setData(c.second[i]));
        await allDrawn(charts.length);
        const updated = last - t1;
        const updatedRaster = rasterized() - t1;
        for (const u of charts) u.destroy();
        if (round > 0) {
          c.createMs.push(created);
          c.createRasterMs.push(createdRaster);
          c.setDataMs.push(updated);
          c.setDataRasterMs.push(updatedRaster);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return prepared.map(({ createMs, createRasterMs, setDataMs, setDataRasterMs }) =>
      ({ createMs, createRasterMs, setDataMs, setDataRasterMs }));
  };

  window.__uiBench = {
    click: (label, charts) => waitDrawn(() => {
      const button = [...document.querySelectorAll('fieldset.range button')].find((b) => b.textContent.trim() === label);
      if (!button) throw new Error('no range button "' + label + '"');
      button.click();
    }, charts),
    navigate: (path, charts) => waitDrawn(() => {
      history.pushState(null, '', path);
      dispatchEvent(new PopStateEvent('popstate'));
    }, charts),
    raw,
  };
})();
`;

/** One measured SLO: per range, cold and cached switches, heap, and the history URL the page asked for. */
interface RangeFigures {
  cold: Switch[];
  cached: Switch[];
  heapBytes: number[];
  url?: string;
}

interface SloFigures {
  slo: string;
  /** Series per chart, in page order. */
  layout: number[];
  chartWidth: number;
  open: Switch[];
  ranges: Record<RangeKey, RangeFigures>;
}

/** Series per chart on the SLO page, in page order: budget (remaining, exhausted, policy steps above 0),
 * SLI (sli, target), one burn-rate chart per rule condition (its windows, the threshold). */
async function layoutOf(server: TestServer, slo: string): Promise<number[]> {
  const spec = (await (
    await server.request('GET', `/api/v1/slos/${encodeURIComponent(slo)}/spec`)
  ).json()) as {
    rules: { conditions: { shortWindow?: string }[] }[];
    policy: { below: number }[];
  };
  const burn = spec.rules.flatMap((r) => r.conditions).map((c) => (c.shortWindow ? 3 : 2));
  return [2 + spec.policy.filter((p) => p.below > 0).length, 2, ...burn];
}

class Tab {
  private inFlight = 0;
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly cdp: CDPSession,
    readonly errors: string[],
    readonly historyUrls: string[],
  ) {
    page.on('request', (r) => {
      if (r.url().includes('/history?')) {
        this.inFlight++;
        historyUrls.push(r.url());
      }
    });
    const finished = (r: { url(): string }) => {
      if (r.url().includes('/history?')) this.inFlight--;
    };
    page.on('requestfinished', finished);
    page.on('requestfailed', finished);
  }

  static async open(browser: Browser): Promise<Tab> {
    const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC', viewport: VIEWPORT });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    return new Tab(context, page, cdp, errors, []);
  }

  /** Loads `path` and waits until its `charts` charts are drawn (the helper is installed on load). */
  async goto(url: string, charts: number): Promise<void> {
    await this.page.goto(url);
    await this.page.evaluate(PAGE_HELPER);
    await this.page.waitForFunction(
      (n) => {
        const d = (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } })
          .document;
        return d.querySelectorAll('figure.chart canvas').length === n;
      },
      charts,
      { timeout: 60_000 },
    );
    await this.settle();
  }

  async click(label: string, charts: number): Promise<Switch> {
    const result = await this.page.evaluate(
      ([l, n]) => (globalThis as unknown as PageBench).__uiBench.click(l, n),
      [label, charts] as const,
    );
    await this.settle();
    return result;
  }

  async navigate(path: string, charts: number): Promise<Switch> {
    const result = await this.page.evaluate(
      ([p, n]) => (globalThis as unknown as PageBench).__uiBench.navigate(p, n),
      [path, charts] as const,
    );
    await this.settle();
    return result;
  }

  async pressed(): Promise<string | null> {
    return this.page.locator('fieldset.range button[aria-pressed="true"]').textContent();
  }

  async chartWidth(): Promise<number> {
    return this.page
      .locator('figure.chart canvas')
      .first()
      .evaluate((c) => (c as unknown as { width: number }).width);
  }

  /** JS heap in use after a full garbage collection. */
  async heapBytes(): Promise<number> {
    await this.cdp.send('HeapProfiler.collectGarbage');
    const { metrics } = await this.cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? Number.NaN;
  }

  /** No history request in flight (a background refetch of stale data), then a short quiet time. */
  async settle(): Promise<void> {
    for (let i = 0; i < 600 && this.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 250));
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

async function measureSlo(
  browser: Browser,
  server: TestServer,
  slo: string,
  warm: string,
  runs: number,
): Promise<SloFigures> {
  const base = server.shinrai.url;
  const layout = await layoutOf(server, slo);
  const mine = { charts: layout.length };
  const theirs = { charts: (await layoutOf(server, warm)).length };
  const figures: SloFigures = {
    slo,
    layout,
    chartWidth: 0,
    open: [],
    ranges: {
      '24h': { cold: [], cached: [], heapBytes: [] },
      '7d': { cold: [], cached: [], heapBytes: [] },
      '30d': { cold: [], cached: [], heapBytes: [] },
    },
  };
  const path = `/slos/${encodeURIComponent(slo)}`;
  const urlOf = (tab: Tab) => tab.historyUrls.at(-1);
  const errors: string[] = [];
  for (let run = 1; run <= runs; run++) {
    // Pass A: 24h and 30d cold (from 7d, the page's default), then all three from the cache.
    // Every pass starts on another SLO's page so the first measured draw is not the page's first.
    const a = await Tab.open(browser);
    try {
      await a.goto(`${base}/slos/${encodeURIComponent(warm)}`, theirs.charts);
      figures.open.push(await a.navigate(path, mine.charts));
      if ((await a.pressed()) !== '7 days') throw new Error('the SLO page did not open on 7 days');
      figures.chartWidth = await a.chartWidth();
      for (const key of ['24h', '30d'] as const) {
        const range = RANGES.find((r) => r.key === key)!;
        figures.ranges[key].cold.push(await a.click(range.label, mine.charts));
        figures.ranges[key].url = urlOf(a);
        figures.ranges[key].heapBytes.push(await a.heapBytes());
      }
      for (const key of ['7d', '24h', '30d'] as const) {
        const range = RANGES.find((r) => r.key === key)!;
        figures.ranges[key].cached.push(await a.click(range.label, mine.charts));
      }
      errors.push(...a.errors);
    } finally {
      await a.close();
    }
    // Pass B: 7d cold. The range is component state that survives in-app navigation between SLO
    // pages, so open the other SLO, pick 24 hours, navigate here (24h loads), then click 7 days.
    const b = await Tab.open(browser);
    try {
      await b.goto(`${base}/slos/${encodeURIComponent(warm)}`, theirs.charts);
      await b.click('24 hours', theirs.charts);
      await b.navigate(path, mine.charts);
      if ((await b.pressed()) !== '24 hours')
        throw new Error('the range did not carry over to the next SLO page');
      figures.ranges['7d'].cold.push(await b.click('7 days', mine.charts));
      figures.ranges['7d'].url = urlOf(b);
      figures.ranges['7d'].heapBytes.push(await b.heapBytes());
      errors.push(...b.errors);
    } finally {
      await b.close();
    }
    const c = figures.ranges;
    progress(
      `${slo} run ${run}/${runs}: cold 24h ${ms(c['24h'].cold.at(-1)!.drawnMs)} ms, 7d ${ms(c['7d'].cold.at(-1)!.drawnMs)} ms, 30d ${ms(c['30d'].cold.at(-1)!.drawnMs)} ms; cached 24h ${ms(c['24h'].cached.at(-1)!.drawnMs)} ms, 7d ${ms(c['7d'].cached.at(-1)!.drawnMs)} ms, 30d ${ms(c['30d'].cached.at(-1)!.drawnMs)} ms`,
    );
  }
  if (errors.length) progress(`${slo}: ${errors.length} page errors, first: ${errors[0]}`);
  return figures;
}

/** The history API alone: the URL the page asked for, fetched from Node, `runs` times after one warm-up. */
async function apiTimes(
  url: string,
  runs: number,
): Promise<{ medianMs: number; points: number; bytes: number; step: string }> {
  const times: number[] = [];
  let points = 0;
  let bytes = 0;
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const response = await fetch(url);
    const text = await response.text();
    const took = performance.now() - t0;
    if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
    points = (JSON.parse(text) as { points: unknown[] }).points.length;
    bytes = Buffer.byteLength(text);
    if (i > 0) times.push(took);
  }
  return { medianMs: median(times), points, bytes, step: new URL(url).searchParams.get('step') ?? '?' };
}

function reportSlo(f: SloFigures, api: Record<RangeKey, Awaited<ReturnType<typeof apiTimes>>>): void {
  const baseCold = median(f.ranges['24h'].cold.map((s) => s.drawnMs));
  const baseCached = median(f.ranges['24h'].cached.map((s) => s.drawnMs));
  const baseApi = api['24h'].medianMs;
  console.log(
    `### ${f.slo}: ${f.layout.length} charts, ${f.layout.reduce((a, b) => a + b, 0)} series, ${f.chartWidth} px wide; medians of ${f.ranges['24h'].cold.length} runs\n`,
  );
  console.log(
    '| range | step | points per series | history API (server) | response | click → drawn, cold | of which → response | → built | cached click → drawn | longest task (cold / cached) | JS heap after | ratio cold / cached / API vs 24h |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const { key } of RANGES) {
    const r = f.ranges[key];
    const cold = median(r.cold.map((s) => s.drawnMs));
    const response = median(r.cold.map((s) => s.responseMs ?? Number.NaN));
    const built = median(r.cold.map((s) => s.builtMs));
    const cached = median(r.cached.map((s) => s.drawnMs));
    const a = api[key];
    console.log(
      `| ${key} | ${a.step} | ${count(a.points)} | ${ms(a.medianMs)} ms | ${(a.bytes / 1024).toFixed(0)} KiB | ${ms(cold)} ms | ${ms(response)} ms | ${ms(built)} ms | ${ms(cached)} ms | ${task(median(r.cold.map((s) => s.longestTaskMs)))} / ${task(median(r.cached.map((s) => s.longestTaskMs)))} | ${mib(median(r.heapBytes))} | ${ratio(cold, baseCold)} / ${ratio(cached, baseCached)} / ${ratio(a.medianMs, baseApi)} |`,
    );
  }
  const steps = [...new Set(RANGES.flatMap(({ key }) => f.ranges[key].cold.map((s) => s.stepText)))];
  console.log(
    `\nOpening the page in the app (7d; with the SLO, spec, history fetches): ${ms(median(f.open.map((s) => s.drawnMs)))} ms. Step labels seen: ${steps.join('; ')}.\n`,
  );
}

async function rawDraws(
  browser: Browser,
  draws: number,
  chartWidth: number,
  pageSeries: number[],
): Promise<void> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    await page.setContent('<!doctype html><html><body></body></html>');
    const require = createRequire(import.meta.url);
    await page.addStyleTag({ content: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8') });
    await page.evaluate(readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'));
    await page.evaluate(PAGE_HELPER);
    const sizes = [
      { name: '24 h at 1m (baseline)', points: MINUTES_PER_DAY, stepSeconds: 60 },
      { name: '30 d at 5m (the page)', points: (30 * MINUTES_PER_DAY) / 5, stepSeconds: 300 },
      { name: '30 d at 1m', points: 30 * MINUTES_PER_DAY, stepSeconds: 60 },
    ];
    const total = pageSeries.reduce((a, b) => a + b, 0);
    const layouts = [
      { name: 'one chart, 3 series', series: [3] },
      { name: `the SLO page's ${pageSeries.length} charts, ${total} series`, series: pageSeries },
    ];
    const cases = layouts.flatMap((layout) => sizes.map((size) => ({ layout, size })));
    progress(`raw uPlot draws: ${cases.length} cases × ${draws} rounds after a warm-up round`);
    const results = await page.evaluate(
      ([c, w, k]) => (globalThis as unknown as PageBench).__uiBench.raw(c, w, k),
      [
        cases.map(({ layout, size }) => ({
          points: size.points,
          stepSeconds: size.stepSeconds,
          series: layout.series,
        })),
        chartWidth,
        draws,
      ] as const,
    );
    console.log(
      `### Raw uPlot draws (${chartWidth} × 220 px, device pixel ratio 1), median of ${draws} rounds\n`,
    );
    console.log(
      '| charts | data | points per series | new uPlot → drawn / rasterized | setData → drawn / rasterized | ratio vs 24 h at 1m, rasterized (new / setData) |',
    );
    console.log('|---|---|---|---|---|---|');
    let base = { create: Number.NaN, set: Number.NaN };
    for (const [i, { layout, size }] of cases.entries()) {
      const r = results[i]!;
      const create = median(r.createRasterMs);
      const set = median(r.setDataRasterMs);
      if (size === sizes[0]) base = { create, set };
      console.log(
        `| ${layout.name} | ${size.name} | ${count(size.points)} | ${ms(median(r.createMs))} / ${ms(create)} ms | ${ms(median(r.setDataMs))} / ${ms(set)} ms | ${ratio(create, base.create)} / ${ratio(set, base.set)} |`,
      );
    }
    console.log('');
  } finally {
    await context.close();
  }
}

export async function run(flags: BenchFlags): Promise<void> {
  const days = intFlag(flags, 'days', 30);
  const runs = intFlag(flags, 'runs', 5);
  const draws = intFlag(flags, 'draws', 10);
  const slos = (typeof flags.slos === 'string' ? flags.slos : 'checkout-availability,checkout-latency')
    .split(',')
    .filter(Boolean);
  if (!existsSync(CHROMIUM)) {
    console.error(`ui.bench: no Chromium at ${CHROMIUM} (apt-get install chromium, or set SHINRAI_CHROMIUM)`);
    process.exitCode = 1;
    return;
  }
  if (!findWebRoot()) {
    console.error('ui.bench: the web UI is not built (no dist/web/index.html): run `npm run build` first');
    process.exitCode = 1;
    return;
  }

  progress(`seeding the demo shop with ${days} days of one-minute data and starting Chromium …`);
  const [server, browser] = await Promise.all([startDemoServer(days), launchBrowser()]);
  try {
    progress(`ready: ${server.shinrai.url}`);
    const all = ((await (await server.request('GET', '/api/v1/slos')).json()) as { id: string }[]).map(
      (s) => s.id,
    );
    for (const slo of slos)
      if (!all.includes(slo)) throw new Error(`no SLO "${slo}" in the demo (${all.join(', ')})`);
    console.log(
      `Demo shop, ${days} seeded days, Chromium ${browser.version()}, viewport ${VIEWPORT.width}×${VIEWPORT.height}, ${runs} runs\n`,
    );
    let pageSeries: number[] = [3];
    let chartWidth = 1300;
    for (const slo of slos) {
      const warm = all.find((id) => id !== slo)!;
      progress(`${slo}: ${runs} runs (warm-up page: ${warm})`);
      const figures = await measureSlo(browser, server, slo, warm, runs);
      const api = {} as Record<RangeKey, Awaited<ReturnType<typeof apiTimes>>>;
      for (const { key } of RANGES) {
        const url = figures.ranges[key].url;
        if (!url) throw new Error(`no history request seen for ${slo} ${key}`);
        api[key] = await apiTimes(url, runs);
      }
      reportSlo(figures, api);
      if (slo === slos[0]) {
        chartWidth = figures.chartWidth;
        pageSeries = figures.layout;
      }
    }
    await rawDraws(browser, draws, chartWidth, pageSeries);
  } finally {
    await browser.close();
    await server.close();
  }
}
