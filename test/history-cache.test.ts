/**
 * The read cache of GET /api/v1/slos/{id}/history (docs/api.md#caching), on both databases: the
 * cached answer is the uncached route's, byte for byte (and its gzip and br bodies decode to it),
 * with a strong ETag and 304; a point written into the range (a tick, on the leader) or removed
 * from it (retention) changes the answer, on a replica that did not evaluate too; what the cache
 * holds stays within its bound, least recently used out first.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/platform/http/index.js';
import {
  AnswerCache,
  getStatus,
  history,
  historyFingerprint,
  historyRows,
  historyVersion,
  isStale,
  listStatuses,
  sloRoutes,
  statusesVersion,
} from '../src/slo/index.js';
import { DIALECTS } from './support/databases.js';
import { ManualClock, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';
import { seedRequests } from './support/traffic.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** On a history step (5 minutes, the default), so ticks write points on the minute. */
const NOW = Date.UTC(2026, 10, 23, 12, 0);

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET with exactly these headers (fetch would add Accept-Encoding and decode the body). */
function rawGet(base: string, path: string, headers: Record<string, string>): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const historyPath = (fromMs: number, toMs: number, step = '5m') =>
  `/api/v1/slos/api/history?from=${new Date(fromMs).toISOString()}&to=${new Date(toMs).toISOString()}&step=${step}`;

describe.each(DIALECTS)('the history read cache on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  let replica: TestServer;
  let viewer: string;
  const clock = new ManualClock(NOW);
  /** The routes over the leader's database and specs: uncached, and cached with a small bound. */
  let uncached: Awaited<ReturnType<typeof buildServer>>;
  let cachedSmall: Awaited<ReturnType<typeof buildServer>>;
  let uncachedUrl: string;
  let smallUrl: string;
  const smallCache = new AnswerCache(0);
  let seededTo = NOW - 6 * HOUR;

  const get = (path: string, headers: Record<string, string> = {}, base = server.shinrai.url) =>
    rawGet(base, path, { authorization: `Bearer ${viewer}`, ...headers });

  /** Clean traffic up to the clock moved `ms` on, then two ticks (the second fills history). */
  async function advance(ms: number): Promise<void> {
    clock.advance(ms);
    await seedAndTick();
  }

  /** Clean traffic up to the clock, then two ticks. */
  async function seedAndTick(): Promise<void> {
    const { db } = server.shinrai.ctx;
    await seedRequests(db, {
      sli: 'api-requests',
      fromMs: seededTo,
      minutes: (clock.ms - seededTo) / MIN,
      errorRate: 0.001,
      nowMs: clock.ms,
      stamp: 'clock',
    });
    seededTo = clock.ms;
    await server.shinrai.evaluator.tick();
    await server.shinrai.evaluator.tick();
  }

  const routes = (
    cache: boolean,
    historyCache?: AnswerCache,
    onRows?: (range: { fromMs: number; toMs: number }) => void,
  ) => {
    const { ctx } = server.shinrai;
    return sloRoutes({
      specs: ctx.specs,
      now: () => clock.now(),
      isStale: (evaluatedAt) => isStale(evaluatedAt, clock.now(), ctx.config.evaluator.tickSeconds),
      statuses: {
        listStatuses: () => listStatuses(ctx.db),
        getStatus: (id) => getStatus(ctx.db, id),
        history: (id, range) => history(ctx.db, id, range),
        historyRows: (id, range) => {
          onRows?.(range);
          return historyRows(ctx.db, id, range.fromMs, range.toMs);
        },
        version: () => statusesVersion(ctx.db),
        historyVersion: (id, range) => historyVersion(ctx.db, id, range.fromMs, range.toMs),
      },
      cache,
      historyCache,
    });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-history-cache-'));
    await writeFile(join(dir, 'api.yaml'), ratioSloYaml('api', { service: 'shop', window: '1d' }));
    server = await startTestServer(dialect, { specs: dir, clock });
    viewer = await server.token('viewer');
    // Six hours of minutes, evaluated: the history backfill writes their 5-minute points.
    clock.advance(-MIN);
    await advance(MIN);
    const points = async () =>
      JSON.parse((await get(historyPath(NOW - 6 * HOUR, NOW), {}, server.shinrai.url)).body.toString('utf8'))
        .points.length as number;
    for (let i = 0; i < 20 && (await points()) < 72; i++) await server.shinrai.evaluator.tick();
    expect(await points()).toBeGreaterThanOrEqual(72);
    replica = await startTestServer(dialect, { specs: dir, clock, database: server.database });
    const { ctx } = server.shinrai;
    uncached = await buildServer(ctx, [routes(false)]);
    cachedSmall = await buildServer(ctx, [routes(true, smallCache)]);
    await uncached.listen({ host: '127.0.0.1', port: 0 });
    await cachedSmall.listen({ host: '127.0.0.1', port: 0 });
    uncachedUrl = `http://127.0.0.1:${(uncached.server.address() as AddressInfo).port}`;
    smallUrl = `http://127.0.0.1:${(cachedSmall.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await cachedSmall?.close();
    await uncached?.close();
    await replica?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the uncached bytes, in every encoding, with a strong ETag and 304', async () => {
    const path = historyPath(NOW - 6 * HOUR, NOW + HOUR);
    const fresh = await get(path, { 'accept-encoding': 'identity' }, uncachedUrl);
    expect(fresh.status).toBe(200);
    const points = JSON.parse(fresh.body.toString('utf8')).points;
    expect(points.length).toBeGreaterThanOrEqual(70);
    const plain = await get(path, { 'accept-encoding': 'identity' });
    expect(plain.status).toBe(200);
    expect(plain.body.equals(fresh.body)).toBe(true);
    const gzip = await get(path, { 'accept-encoding': 'gzip' });
    const br = await get(path, { 'accept-encoding': 'gzip, deflate, br' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(br.headers['content-encoding']).toBe('br');
    expect(gunzipSync(gzip.body).equals(fresh.body)).toBe(true);
    expect(brotliDecompressSync(br.body).equals(fresh.body)).toBe(true);
    const tags = [plain, gzip, br].map((a) => a.headers.etag as string);
    for (const tag of tags) expect(tag).toMatch(/^"[A-Za-z0-9_-]+(-gzip|-br)?"$/);
    expect(new Set(tags).size).toBe(3);
    expect(plain.headers['cache-control']).toBe('private, no-cache');
    for (const tag of tags) {
      const notModified = await get(path, { 'accept-encoding': 'gzip, deflate, br', 'if-none-match': tag });
      expect(notModified.status).toBe(304);
      expect(notModified.body).toHaveLength(0);
    }
    // A replica over the same database answers the same bytes and tags.
    const onReplica = await get(path, { 'accept-encoding': 'gzip, deflate, br' }, replica.shinrai.url);
    expect(onReplica.headers.etag).toBe(tags[2]);
    // Without `to` the answer ends now: built for the request, still the uncached bytes.
    const open = `/api/v1/slos/api/history?from=${new Date(NOW - HOUR).toISOString()}&step=5m`;
    const openFresh = await get(open, { 'accept-encoding': 'identity' }, uncachedUrl);
    expect((await get(open, { 'accept-encoding': 'identity' })).body.equals(openFresh.body)).toBe(true);
    // Bad input is still refused before any cache.
    expect((await get('/api/v1/slos/nope/history?step=5m')).status).toBe(404);
    expect((await get(historyPath(NOW, NOW - HOUR))).status).toBe(400);
  });

  it('changes the answer when a tick writes a point into the range, on a replica too', async () => {
    const path = historyPath(NOW - 6 * HOUR, NOW + HOUR);
    const before = await get(path, { 'accept-encoding': 'identity' });
    const beforeOnReplica = await get(path, { 'accept-encoding': 'identity' }, replica.shinrai.url);
    expect(beforeOnReplica.body.equals(before.body)).toBe(true);
    // A point outside the range changes nothing: a range that ended before it keeps its tag.
    const closed = historyPath(NOW - 6 * HOUR, NOW);
    const closedBefore = await get(closed);

    await advance(5 * MIN);
    const fresh = await get(path, { 'accept-encoding': 'identity' }, uncachedUrl);
    const after = await get(path, {
      'accept-encoding': 'identity',
      'if-none-match': before.headers.etag as string,
    });
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(after.body.equals(fresh.body)).toBe(true);
    const last = JSON.parse(after.body.toString('utf8')).points.at(-1);
    expect(last.ts).toBe(new Date(clock.ms).toISOString());
    const onReplica = await get(
      path,
      { 'accept-encoding': 'identity', 'if-none-match': before.headers.etag as string },
      replica.shinrai.url,
    );
    expect(onReplica.status).toBe(200);
    expect(onReplica.body.equals(fresh.body)).toBe(true);
    expect((await get(closed, { 'if-none-match': closedBefore.headers.etag as string })).status).toBe(304);
  });

  it('changes the answer when a point of the range is removed (retention thinning it)', async () => {
    const path = historyPath(NOW - 6 * HOUR, NOW + HOUR);
    const before = await get(path, { 'accept-encoding': 'identity' });
    const { db } = server.shinrai.ctx;
    await db.kysely
      .deleteFrom('slo_history')
      .where('slo_id', '=', 'api')
      .where('ts', '=', NOW - 3 * HOUR)
      .execute();
    const after = await get(path, {
      'accept-encoding': 'identity',
      'if-none-match': before.headers.etag as string,
    });
    expect(after.status).toBe(200);
    expect(after.body.equals((await get(path, { 'accept-encoding': 'identity' }, uncachedUrl)).body)).toBe(
      true,
    );
    expect(after.body.length).toBeLessThan(before.body.length);
  });

  it('builds the next range of a series from the answer before it, byte for byte a build from scratch', async () => {
    const { db } = server.shinrai.ctx;
    const reads: [number, number][] = [];
    const app = await buildServer(server.shinrai.ctx, [
      routes(true, new AnswerCache(), (range) => reads.push([range.fromMs, range.toMs])),
    ]);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    /** The cached answer (identity and br) against the uncached route's; the rows it read. */
    const served = async (fromMs: number, toMs: number) => {
      const path = historyPath(fromMs, toMs);
      const fresh = await get(path, { 'accept-encoding': 'identity' }, uncachedUrl);
      const plain = await get(path, { 'accept-encoding': 'identity' }, url);
      expect(plain.status).toBe(200);
      expect(plain.body.equals(fresh.body)).toBe(true);
      const br = await get(path, { 'accept-encoding': 'gzip, deflate, br' }, url);
      expect(brotliDecompressSync(br.body).equals(fresh.body)).toBe(true);
      // The fingerprint the answer was checked against is the stored rows' own.
      const times = (await historyRows(db, 'api', fromMs, toMs)).map((r) => r.tsMs);
      expect(historyFingerprint(times)).toBe(await historyVersion(db, 'api', fromMs, toMs));
      return {
        points: JSON.parse(plain.body.toString('utf8')).points as { ts: string }[],
        read: reads.at(-1),
      };
    };
    /**
     * The answer was built from the previous one, reading only `tail`, or (when a background write
     * of the leader or the replica changed the copied rows meanwhile) from scratch.
     */
    let fromPrevious = 0;
    const expectFrom = (answer: { read: [number, number] | undefined }, tail: [number, number]) => {
      if (answer.read?.[0] === tail[0]) fromPrevious++;
      expect(answer.read?.[1]).toBe(tail[1]);
    };
    try {
      const STEP = 5 * MIN;
      // The SLO page's range ending on a step, and one ending a minute past it (another phase).
      for (const offset of [0, MIN]) {
        let to = Math.floor(clock.ms / STEP) * STEP + offset - STEP;
        expect((await served(to - 6 * HOUR, to)).read).toEqual([to - 6 * HOUR, to]);
        for (let k = 0; k < 2; k++) {
          // The clock moves a step: readers ask for the next range before its point is written,
          // then again after (as a tick writes it). Only the previous answer's last bucket onwards
          // is read: from `to`, then from `next` (the held answer is the same range's).
          const next = to + STEP;
          if (clock.ms < next) clock.advance(next - clock.ms);
          await db.kysely
            .deleteFrom('slo_history')
            .where('slo_id', '=', 'api')
            .where('ts', '=', next)
            .execute();
          expectFrom(await served(next - 6 * HOUR, next), [to, next]);
          const last = await db.kysely
            .selectFrom('slo_history')
            .select(['sli', 'remaining', 'burn_rates'])
            .where('slo_id', '=', 'api')
            .where('ts', '<', next)
            .orderBy('ts', 'desc')
            .executeTakeFirstOrThrow();
          await db.kysely
            .insertInto('slo_history')
            .values({ slo_id: 'api', ts: next, ...last })
            .execute();
          const after = await served(next - 6 * HOUR, next);
          expectFrom(after, [next, next]);
          expect(after.points.at(-1)?.ts).toBe(new Date(next).toISOString());
          to = next;
        }
        expect(fromPrevious, 'answers built from the previous one').toBeGreaterThan(0);
        fromPrevious = 0;
        // A stored row of the range removed (retention thinning it): built from scratch.
        await db.kysely
          .deleteFrom('slo_history')
          .where('slo_id', '=', 'api')
          .where('ts', '=', to - 2 * HOUR - offset)
          .execute();
        const thinned = await served(to - 6 * HOUR, to);
        expect(thinned.read).toEqual([to - 6 * HOUR, to]);
        // A range that starts earlier than the held one (a client behind): from scratch too.
        expect((await served(to - 6 * HOUR - STEP, to - STEP)).read).toEqual([
          to - 6 * HOUR - STEP,
          to - STEP,
        ]);
      }
    } finally {
      await app.close();
    }
  });

  it('keeps what it holds within its bound, least recently used out first', async () => {
    // One answer's bytes (JSON and br) measured first, then a bound of two and a half of them.
    const one = new AnswerCache();
    const probe = await buildServer(server.shinrai.ctx, [routes(true, one)]);
    await probe.listen({ host: '127.0.0.1', port: 0 });
    const probeUrl = `http://127.0.0.1:${(probe.server.address() as AddressInfo).port}`;
    await get(historyPath(NOW - 6 * HOUR, NOW), { 'accept-encoding': 'br' }, probeUrl);
    await probe.close();
    const answerBytes = one.bytes;
    expect(answerBytes).toBeGreaterThan(10_000);

    const bounded = new AnswerCache(Math.floor(2.5 * answerBytes));
    const app = await buildServer(server.shinrai.ctx, [routes(true, bounded)]);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      // Five ranges of the same length (the same size), one after another.
      const paths = [0, 1, 2, 3, 4].map((k) => historyPath(NOW - 6 * HOUR - k * MIN, NOW - k * MIN));
      for (const path of paths) {
        const answer = await get(path, { 'accept-encoding': 'br' }, url);
        expect(answer.status).toBe(200);
        expect(bounded.bytes).toBeLessThanOrEqual(Math.floor(2.5 * answerBytes));
      }
      expect(bounded.misses).toBe(5);
      expect(bounded.size).toBe(2);
      // The two most recent are held (no build); the first was let go (built again).
      await get(paths[4]!, { 'accept-encoding': 'br' }, url);
      await get(paths[3]!, { 'accept-encoding': 'br' }, url);
      expect(bounded.misses).toBe(5);
      await get(paths[0]!, { 'accept-encoding': 'br' }, url);
      expect(bounded.misses).toBe(6);
      expect(bounded.bytes).toBeLessThanOrEqual(Math.floor(2.5 * answerBytes));
      // An answer larger than the whole bound is served, the uncached bytes, and not kept.
      const path = historyPath(NOW - 6 * HOUR, NOW + HOUR);
      const fresh = await get(path, { 'accept-encoding': 'identity' }, uncachedUrl);
      const served = await get(path, { 'accept-encoding': 'identity' }, smallUrl);
      expect(served.body.equals(fresh.body)).toBe(true);
      expect(smallCache.size).toBe(0);
      expect(smallCache.bytes).toBe(0);
    } finally {
      await app.close();
    }
  });
});
