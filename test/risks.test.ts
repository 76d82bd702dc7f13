/**
 * The risk catalog over the API on both databases, from the example shop's specs: ranked by bad
 * minutes a year with each SLO's share, filtered by service, and read with a viewer token only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, startTestServer, type TestServer } from './support/server.js';

describe.each(DIALECTS)('risks API on %s', (dialect) => {
  let server: TestServer;
  let viewer: string;

  beforeAll(async () => {
    server = await startTestServer(dialect, { specs: 'examples/shop', config: { 'risks.tooBigShare': 0.2 } });
    viewer = await server.token('viewer');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('ranks the shop’s risks and sums what each SLO’s budget must absorb', async () => {
    expect((await server.request('GET', '/api/v1/risks')).status).toBe(401);
    const analysis = await json(server.request('GET', '/api/v1/risks', { token: viewer }));
    expect(analysis.tooBigShare).toBe(0.2);
    expect(analysis.risks.map((r: JsonBody) => r.name)).toEqual([
      'search-index-rebuild',
      'db-failover-manual',
      'bad-payment-config',
    ]);
    // db-failover-manual: (5 + 30 + 30 no-runbook) × 100% × 1/yr = 65 of 525.96 minutes.
    const failover = analysis.risks[1];
    expect(failover).toMatchObject({ incidentsPerYear: 1, badMinutesPerYear: 65, tooBig: false });
    expect(failover.effective.ettrMinutes).toBe(60);
    const checkout = analysis.slos.find((s: JsonBody) => s.slo === 'checkout-availability');
    expect(checkout).toMatchObject({ achievable: true, risks: ['db-failover-manual', 'bad-payment-config'] });
    expect(checkout.share).toBeCloseTo((65 + 35 * 0.3 * (365.25 / 60)) / 525.96, 9);
  });

  it('filters by service', async () => {
    const search = await json(server.request('GET', '/api/v1/risks?service=search', { token: viewer }));
    expect(search.risks.map((r: JsonBody) => r.name)).toEqual(['search-index-rebuild']);
    expect(search.slos.map((s: JsonBody) => s.slo)).toEqual(['search-latency']);
  });
});
