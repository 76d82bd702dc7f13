import { describe, expect, it } from 'vitest';
import type { Alert, Incident, Slo, SloStatus } from '../api';
import { overviewRows } from './OverviewPage';

const status = (id: string, remaining: number, extra: Partial<SloStatus> = {}): SloStatus => ({
  id,
  service: 'shop',
  slo: id.split('/')[0]!,
  target: 0.999,
  window: '28d',
  sli: 0.9995,
  budget: { unit: 'events', total: 100, consumed: 100 * (1 - remaining), remaining },
  burnRates: { '1h': 0.5 },
  exhaustionAt: null,
  dataSufficient: true,
  evaluatedAt: '2026-11-23T00:00:00Z',
  stale: false,
  ...extra,
});

const slo = (id: string, statuses: SloStatus[], service = 'shop'): Slo => ({
  id,
  name: id,
  service,
  labels: {},
  budgetingMethod: 'Occurrences',
  window: '28d',
  objectives: [{ key: 'a', target: 0.999 }],
  status: statuses,
});

describe('overview rows', () => {
  it('has one row per objective, each with its own reading, and counts firing alerts and open incidents per SLO', () => {
    const slos = [
      slo('api', [
        status('api/fast', 0.5, { displayName: 'Fast' }),
        status('api/ok', -0.1, { displayName: 'Succeeds' }),
      ]),
      slo('web', [status('web', 0.9)], 'web'),
      slo('new', []),
    ];
    const alerts = [
      { slo: 'api', state: 'firing' },
      { slo: 'api', state: 'pending' },
    ] as Alert[];
    const incidents = [
      { slos: ['api'], services: ['shop'] },
      { slos: [], services: ['web'] },
    ] as unknown as Incident[];
    const rows = overviewRows(slos, alerts, incidents);
    expect(rows.map((r) => [r.key, r.title, r.rag, r.firing, r.incidents])).toEqual([
      ['api/fast', 'api — Fast', 'green', 1, 1],
      ['api/ok', 'api — Succeeds', 'red', 1, 1],
      ['web', 'web', 'green', 0, 1],
      ['new', 'new', 'unknown', 0, 0],
    ]);
  });
});
