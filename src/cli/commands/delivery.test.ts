/** `shinrai delivery`: the query it sends, its flag checks, and the table in English and Japanese. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeApi, startFakeApi } from '../fake-api.js';
import { displayWidth } from '../format.js';
import { runCli } from '../testing.js';
import { type DeliveryMetricsView, formatDelivery, humanDuration } from './delivery.js';

const HOUR = 3_600_000;

const METRICS: DeliveryMetricsView = {
  scope: { services: ['checkout'] },
  period: { from: '2026-09-01', to: '2026-11-30', timeZone: 'Asia/Tokyo', days: 91 },
  benchmark: { year: 2024, source: 'Accelerate State of DevOps Report 2024' },
  deploymentFrequency: { count: 91, perDay: 1, perWeek: 7, level: { name: 'high', label: 'High' } },
  leadTime: { changes: 120, excluded: 2, medianMs: 2.5 * HOUR, p90Ms: 74.4 * HOUR, level: { name: 'high' } },
  changeFailRate: { deployments: 91, failed: 4, rate: 4 / 91, level: { name: 'elite', label: 'Elite' } },
  recoveryTime: { failed: 4, recovered: 3, medianMs: 45 * 60_000, p90Ms: 3 * HOUR, level: null },
  reworkRate: { deployments: 91, unplanned: 0, rate: 0, level: { name: 'low', label: 'Low' } },
  weeks: [
    {
      start: '2026-08-31',
      deployments: 0,
      leadTimeMedianMs: null,
      changeFailRate: null,
      recoveryMedianMs: null,
      reworkRate: null,
    },
    {
      start: '2026-09-07',
      deployments: 7,
      leadTimeMedianMs: 30_000,
      changeFailRate: 1 / 7,
      recoveryMedianMs: 2 * HOUR,
      reworkRate: 0,
    },
  ],
};

describe('humanDuration', () => {
  it('picks seconds, minutes, hours or days', () => {
    expect(humanDuration(30_000)).toBe('30 s');
    expect(humanDuration(45 * 60_000)).toBe('45 min');
    expect(humanDuration(2.5 * HOUR)).toBe('2.5 h');
    expect(humanDuration(74.4 * HOUR)).toBe('3.1 d');
    expect(humanDuration(null)).toBe('—');
    expect(humanDuration(2.5 * HOUR, 'ja')).toBe('2.5時間');
    expect(humanDuration(74.4 * HOUR, 'ja')).toBe('3.1日');
  });
});

describe('formatDelivery', () => {
  it('names the period, the benchmark year and each metric with its level', () => {
    const text = formatDelivery(METRICS);
    expect(text).toContain('Delivery of checkout, 2026-09-01 to 2026-11-30 (Asia/Tokyo, 91 days)');
    expect(text).toContain('DORA benchmarks of 2024 (Accelerate State of DevOps Report 2024)');
    expect(text).toMatch(/Deployment frequency\s+1\.0\/day, 7\.0\/week \(91 deployments\)\s+High/);
    expect(text).toMatch(/Change lead time\s+median 2\.5 h, p90 3\.1 d \(120 changes, 2 left out\)\s+High/);
    expect(text).toMatch(/Change fail rate\s+4\.4% \(4 of 91\)\s+Elite/);
    expect(text).toMatch(
      /Failed deployment recovery time\s+median 45 min, p90 3\.0 h \(3 of 4 recovered\)\s+—/,
    );
    expect(text).toMatch(/Deployment rework rate\s+0\.0% \(0 of 91\)\s+Low/);
    // A week without deployments is a row of dashes, not zeros.
    expect(text).toMatch(/2026-08-31\s+0\s+—\s+—\s+—\s+—/);
    expect(text).toMatch(/2026-09-07\s+7\s+30 s\s+14\.3%\s+2\.0 h\s+0\.0%/);
  });

  it('says "no data" where a rate has no deployments to divide by', () => {
    const empty: DeliveryMetricsView = {
      ...METRICS,
      scope: { services: [] },
      deploymentFrequency: { count: 0, perDay: 0, perWeek: 0, level: null },
      leadTime: { changes: 0, excluded: 0, medianMs: null, p90Ms: null, level: null },
      changeFailRate: { deployments: 0, failed: 0, rate: null, level: null },
      recoveryTime: { failed: 0, recovered: 0, medianMs: null, p90Ms: null, level: null },
      reworkRate: { deployments: 0, unplanned: 0, rate: null, level: null },
      weeks: [],
    };
    const text = formatDelivery(empty);
    expect(text).toContain('Delivery of all services');
    expect(text).toMatch(/Change fail rate\s+no data\s+—/);
    expect(text).toMatch(/Change lead time\s+no data \(0 changes\)/);
  });

  it('speaks Japanese with --lang ja', () => {
    const text = formatDelivery(METRICS, 'ja');
    expect(text).toContain('checkout のデリバリー: 2026-09-01 〜 2026-11-30');
    expect(text).toContain('DORA 2024 年のベンチマーク');
    expect(text).toMatch(/変更失敗率\s+4\.4% \(91 件中 4 件\)\s+エリート/);
    expect(text).toMatch(/変更のリードタイム\s+中央値 2\.5時間、p90 3\.1日/);
  });
});

describe('shinrai delivery against a server', () => {
  let api: FakeApi;
  beforeAll(async () => {
    api = await startFakeApi(() => ({ body: METRICS }));
  });
  afterAll(() => api.close());
  beforeEach(() => {
    api.requests.length = 0;
  });
  const delivery = (...args: string[]) =>
    runCli(['delivery', ...args, '--server', api.url, '--token', 'tok']);

  it('asks for the service, period, zone and benchmark given', async () => {
    const { code, stdout } = await delivery(
      '--service',
      'checkout',
      '--from',
      '2026-09-01',
      '--to',
      '2026-11-30',
      '--tz',
      'Asia/Tokyo',
      '--benchmark',
      '2023',
    );
    expect(code).toBe(0);
    expect(api.requests[0]!.url).toBe(
      '/api/v1/delivery/metrics?service=checkout&from=2026-09-01&to=2026-11-30&tz=Asia%2FTokyo&benchmark=2023',
    );
    expect(stdout).toContain('Change fail rate');
  });

  it('prints the API answer with --json, and Japanese with --lang ja', async () => {
    expect(JSON.parse((await delivery('--team', 'payments', '--json')).stdout)).toEqual(METRICS);
    expect(api.requests[0]!.url).toBe('/api/v1/delivery/metrics?team=payments');
    expect((await delivery('--lang', 'ja')).stdout).toContain('デプロイ頻度');
  });

  it('answers bad flags with exit 2 and one line, asking nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--from', '2026-9-1'], /--from "2026-9-1" is not a calendar date/],
      [['--to', '2026-02-30'], /--to "2026-02-30" is not a calendar date/],
      [['--from', '2026-12-01', '--to', '2026-11-30'], /--from 2026-12-01 is after --to 2026-11-30/],
      [['--tz', 'Mars/Olympus'], /--tz "Mars\/Olympus" is not an IANA time zone/],
      [['--benchmark', 'latest'], /--benchmark "latest"/],
      [['--lang', 'fr'], /--lang must be en or ja/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await delivery(...args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(message);
    }
    expect(api.requests).toEqual([]);
  });
});

describe('the Japanese table', () => {
  it('lines up columns by display width (a Japanese character takes two columns)', () => {
    const lines = formatDelivery(METRICS, 'ja').split('\n');
    const header = lines.find((l) => l.startsWith('指標'))!;
    const row = lines.find((l) => l.startsWith('変更失敗率'))!;
    const columnOf = (line: string, cell: string) => displayWidth(line.slice(0, line.indexOf(cell)));
    expect(columnOf(row, '4.4%')).toBe(columnOf(header, '値'));
  });
});
