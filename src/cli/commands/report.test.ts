/** `shinrai report`: the query it sends, its flag checks, and the report it writes as Markdown or JSON. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MonthlyReport } from '../../reports/index.js';
import { type FakeApi, startFakeApi } from '../fake-api.js';
import { runCli } from '../testing.js';

const REPORT: MonthlyReport = {
  product: { name: 'checkout', services: ['checkout'] },
  month: '2026-11',
  timeZone: 'Asia/Tokyo',
  period: { fromMs: Date.UTC(2026, 9, 31, 15), toMs: Date.UTC(2026, 10, 30, 15) },
  language: 'ja',
  generatedAtMs: Date.UTC(2026, 11, 7),
  verdict: [
    {
      slo: 'checkout-availability',
      service: 'checkout',
      target: 0.999,
      attainment: 0.9995,
      met: true,
      budget: { unit: 'events', allowed: 1000, consumed: 500, consumedShare: 0.5 },
      link: '/slos/checkout-availability',
    },
  ],
  todo: [],
  trend: [],
  incidents: [],
  actionItems: { opened: {}, closed: {}, overdue: {} },
  risks: [],
  alerts: { weeks: [], noiseShare: null, medianDetectionMs: null },
  delivery: null,
};

describe('shinrai report', () => {
  let api: FakeApi;
  let dir: string;
  beforeAll(async () => {
    api = await startFakeApi((request) =>
      request.url.includes('product=nope')
        ? {
            status: 404,
            headers: { 'content-type': 'application/problem+json' },
            body: { detail: 'no product "nope" (did you mean "checkout"?)' },
          }
        : { body: REPORT },
    );
    dir = await mkdtemp(join(tmpdir(), 'shinrai-report-cli-'));
  });
  afterAll(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    api.requests.length = 0;
  });
  const report = (...args: string[]) =>
    runCli(['report', ...args, '--server', api.url, '--token', 'tok'], { cwd: dir });

  it('asks the server for the product, month and language as JSON, and prints Markdown', async () => {
    const { code, stdout } = await report('--product', 'checkout', '--month', '2026-11', '--lang', 'ja');
    expect(code).toBe(0);
    expect(api.requests[0]!.url).toBe(
      '/api/v1/reports/monthly?product=checkout&month=2026-11&lang=ja&format=json',
    );
    expect(api.requests[0]!.headers.authorization).toBe('Bearer tok');
    expect(stdout).toContain('# 信頼性レポート: checkout(2026-11)');
    expect(stdout).toContain('## 判定');
  });

  it('writes JSON to a file with -o', async () => {
    const { code, stderr } = await report(
      '--product',
      'owner:team-pay',
      '--format',
      'json',
      '-o',
      'out/report.json',
    );
    expect(code).toBe(0);
    expect(stderr).toContain('wrote out/report.json');
    expect(api.requests[0]!.url).toContain('product=owner%3Ateam-pay');
    expect(JSON.parse(await readFile(join(dir, 'out/report.json'), 'utf8'))).toEqual(REPORT);
  });

  it('renders one self-contained HTML file with links to the server it asked', async () => {
    const { code } = await report('--product', 'checkout', '--format', 'html', '-o', 'out/report.html');
    expect(code).toBe(0);
    const html = await readFile(join(dir, 'out/report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<h1');
    expect(html).not.toMatch(/<script/i);
  });

  it('refuses bad flags before calling anyone, and passes the server’s 404 on', async () => {
    for (const args of [
      ['--product', 'checkout', '--month', '2026-13'],
      ['--product', 'checkout', '--lang', 'fr'],
      ['--product', 'checkout', '--format', 'docx'],
      ['--product', 'checkout', '--format', 'pdf'],
    ]) {
      const { code, stderr } = await report(...args);
      expect(code).toBe(2);
      expect(stderr).not.toBe('');
    }
    expect(api.requests).toHaveLength(0);
    const missing = await report('--product', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('did you mean "checkout"');
  });
});
