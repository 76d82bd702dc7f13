/**
 * The read cache of GET /api/v1/slos (docs/api.md#caching): one answer per tick and spec reload,
 * served with a strong ETag and 304, gzip and br bodies of the same JSON, credentials checked on
 * every request, and the same ETag from every replica of one database.
 */
import { request as httpRequest } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeToken } from '../src/platform/auth/tokens.js';
import { DIALECTS } from './support/databases.js';
import { ManualClock, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0);
const MIN = 60_000;
/** Ticks are driven by hand; a status is stale after 3 ticks of this length. */
const TICK_SECONDS = 3600;

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET with exactly these headers (fetch would add Accept-Encoding and decode the body). */
function rawGet(
  base: string,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method, headers }, (res) => {
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

function specFiles(names: readonly string[]) {
  return {
    files: names.map((name) => ({ path: `${name}.yaml`, content: ratioSloYaml(name, { service: 'shop' }) })),
  };
}

describe.each(DIALECTS)('read cache on %s', (dialect) => {
  let server: TestServer;
  let replica: TestServer;
  let viewer: string;
  let editor: string;
  const clock = new ManualClock(NOW);
  let batch = 0;

  const get = (path: string, headers: Record<string, string> = {}, on: TestServer = server) =>
    rawGet(on.shinrai.url, path, { authorization: `Bearer ${viewer}`, ...headers });

  /** One minute of traffic for every SLO, then a tick of the evaluator (on the first server). */
  async function tick(names: readonly string[]): Promise<void> {
    clock.advance(MIN);
    for (const name of names) {
      const response = await server.request('POST', `/api/v1/sli/${name}-requests/events`, {
        token: editor,
        body: [{ ts: clock.ms - MIN, good: 990 + (batch % 10), total: 1000 }],
        headers: { 'idempotency-key': `read-cache-${dialect}-${++batch}` },
      });
      expect(response.status).toBe(200);
    }
    await server.shinrai.evaluator.tick();
  }

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock, tickSeconds: TICK_SECONDS });
    viewer = await server.token('viewer');
    editor = await server.token('editor');
    expect(
      (await server.request('PUT', '/api/v1/specs', { token: editor, body: specFiles(['a', 'b']) })).status,
    ).toBe(200);
    await tick(['a', 'b']);
    // A second replica on the same database: it loads the uploaded specs and never evaluates here.
    replica = await startTestServer(dialect, { clock, tickSeconds: TICK_SECONDS, database: server.database });
  });
  afterAll(async () => {
    await replica?.close();
    await server?.close();
  });

  it('answers with a strong ETag and 304 Not Modified when If-None-Match names it', async () => {
    const first = await get('/api/v1/slos');
    expect(first.status).toBe(200);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(first.headers['cache-control']).toBe('private, no-cache');
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    const slos = JSON.parse(first.body.toString('utf8'));
    expect(slos.map((s: { id: string }) => s.id)).toEqual(['a', 'b']);
    expect(slos[0].status).toHaveLength(1);

    const again = await get('/api/v1/slos');
    expect(again.headers.etag).toBe(etag);
    expect(again.body.equals(first.body)).toBe(true);

    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const notModified = await get('/api/v1/slos', { 'if-none-match': ifNoneMatch });
      expect(notModified.status).toBe(304);
      expect(notModified.headers.etag).toBe(etag);
      expect(notModified.body).toHaveLength(0);
    }
    expect((await get('/api/v1/slos', { 'if-none-match': '"other"' })).status).toBe(200);
    const head = await rawGet(
      server.shinrai.url,
      '/api/v1/slos',
      { authorization: `Bearer ${viewer}` },
      'HEAD',
    );
    expect(head.status).toBe(200);
    expect(head.headers.etag).toBe(etag);
    expect(head.body).toHaveLength(0);
  });

  it('serves gzip and br bodies that decode to the same bytes, each with its own ETag', async () => {
    const plain = await get('/api/v1/slos', { 'accept-encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    const gzip = await get('/api/v1/slos', { 'accept-encoding': 'gzip' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    const br = await get('/api/v1/slos', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(gunzipSync(gzip.body).equals(plain.body)).toBe(true);
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    expect(JSON.parse(gunzipSync(gzip.body).toString('utf8'))).toEqual(
      JSON.parse(plain.body.toString('utf8')),
    );
    for (const answer of [plain, gzip, br]) expect(answer.headers.vary).toMatch(/accept-encoding/);
    const tags = [plain, gzip, br].map((a) => a.headers.etag as string);
    expect(new Set(tags).size).toBe(3);
    // The content is the same, so any of its tags makes a 304, in the encoding asked for now.
    const notModified = await get('/api/v1/slos', { 'accept-encoding': 'gzip', 'if-none-match': tags[2]! });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.etag).toBe(tags[1]);
    // A client that refuses every encoding we have gets the JSON itself.
    const refused = await get('/api/v1/slos', { 'accept-encoding': 'br;q=0, gzip;q=0' });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(refused.body.equals(plain.body)).toBe(true);
  });

  it('answers the filter and sort variants, each with its own ETag', async () => {
    const all = await get('/api/v1/slos?sort=budget');
    const one = await get('/api/v1/slos?service=shop&label=none=x');
    expect(JSON.parse(one.body.toString('utf8'))).toEqual([]);
    expect(one.headers.etag).not.toBe(all.headers.etag);
    expect(
      (await get('/api/v1/slos?service=shop&label=none=x', { 'if-none-match': one.headers.etag as string }))
        .status,
    ).toBe(304);
    expect((await get('/api/v1/slos?label=oops')).status).toBe(400);
  });

  it('changes the answer after a tick, on every replica, with the same ETag everywhere', async () => {
    const before = await get('/api/v1/slos');
    const onReplica = await get('/api/v1/slos', {}, replica);
    expect(onReplica.headers.etag).toBe(before.headers.etag);
    expect(onReplica.body.equals(before.body)).toBe(true);

    await tick(['a', 'b']);
    const after = await get('/api/v1/slos', { 'if-none-match': before.headers.etag as string });
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    const evaluatedAt = JSON.parse(after.body.toString('utf8'))[0].status[0].evaluatedAt;
    expect(evaluatedAt).toBe(new Date(clock.ms).toISOString());
    // The replica did not evaluate: it sees the tick in the database.
    const replicaAfter = await get(
      '/api/v1/slos',
      { 'if-none-match': before.headers.etag as string },
      replica,
    );
    expect(replicaAfter.status).toBe(200);
    expect(replicaAfter.headers.etag).toBe(after.headers.etag);
    expect(replicaAfter.body.equals(after.body)).toBe(true);
    for (const encoding of ['gzip', 'br'])
      expect((await get('/api/v1/slos', { 'accept-encoding': encoding }, replica)).headers.etag).toBe(
        (await get('/api/v1/slos', { 'accept-encoding': encoding })).headers.etag,
      );
  });

  it('changes the answer when the statuses age into stale, without a tick', async () => {
    const current = await get('/api/v1/slos');
    expect(JSON.parse(current.body.toString('utf8'))[0].status[0].stale).toBe(false);
    clock.advance(3 * TICK_SECONDS * 1000 + MIN);
    const stale = await get('/api/v1/slos', { 'if-none-match': current.headers.etag as string });
    expect(stale.status).toBe(200);
    expect(JSON.parse(stale.body.toString('utf8'))[0].status[0].stale).toBe(true);
    await tick(['a', 'b']);
    expect(JSON.parse((await get('/api/v1/slos')).body.toString('utf8'))[0].status[0].stale).toBe(false);
  });

  it('changes the answer after a spec reload, before the next tick', async () => {
    const before = await get('/api/v1/slos');
    const put = await server.request('PUT', '/api/v1/specs', {
      token: editor,
      body: specFiles(['a', 'b', 'c']),
    });
    expect(put.status).toBe(200);
    const after = await get('/api/v1/slos', { 'if-none-match': before.headers.etag as string });
    expect(after.status).toBe(200);
    const slos = JSON.parse(after.body.toString('utf8'));
    expect(slos.map((s: { id: string }) => s.id)).toEqual(['a', 'b', 'c']);
    expect(slos[2].status).toEqual([]);
    // …and the new SLO's first status after the next tick.
    await tick(['a', 'b', 'c']);
    const ticked = await get('/api/v1/slos', { 'if-none-match': after.headers.etag as string });
    expect(ticked.status).toBe(200);
    expect(JSON.parse(ticked.body.toString('utf8'))[2].status).toHaveLength(1);
  });

  it('checks the credential on every request, cached answer or not', async () => {
    const ok = await get('/api/v1/slos');
    const etag = ok.headers.etag as string;
    const anonymous = await rawGet(server.shinrai.url, '/api/v1/slos', { 'if-none-match': etag });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.etag).toBeUndefined();
    const unknown = await rawGet(server.shinrai.url, '/api/v1/slos', {
      authorization: 'Bearer shr_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
      'if-none-match': etag,
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body.toString('utf8')).not.toContain('"slo');
    // A token revoked after it read the list: the next read (even a revalidation) is refused.
    const reader = await server.token('viewer');
    expect(
      (await rawGet(server.shinrai.url, '/api/v1/slos', { authorization: `Bearer ${reader}` })).status,
    ).toBe(200);
    const id = reader.split('_')[1]!;
    await revokeToken(server.shinrai.ctx, id);
    const revoked = await rawGet(server.shinrai.url, '/api/v1/slos', {
      authorization: `Bearer ${reader}`,
      'if-none-match': etag,
    });
    expect(revoked.status).toBe(401);
    // Writing needs more than viewer, with the cache as without it.
    const write = await server.request('PUT', '/api/v1/specs', { token: viewer, body: specFiles(['a']) });
    expect(write.status).toBe(403);
  });

  it('gives the overview’s other reads an ETag and 304 too', async () => {
    for (const path of [
      '/api/v1/alerts',
      '/api/v1/incidents?state=open',
      '/api/v1/slos/a',
      '/api/v1/services',
    ]) {
      const first = await get(path);
      expect(first.status, path).toBe(200);
      const etag = first.headers.etag as string;
      expect(etag, path).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);
      const again = await get(path, { 'if-none-match': etag });
      expect(again.status, path).toBe(304);
      expect(again.body, path).toHaveLength(0);
    }
  });
});
