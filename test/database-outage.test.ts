/**
 * The API while its PostgreSQL is unreachable: every route answers 503 problem+json with
 * Retry-After — "not now", which clients retry — instead of a 500, and never the driver's words
 * (host, port, errno); the server serves again once the database is back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/databases.js';
import { PgRelay } from './support/pg-relay.js';
import { startTestServer } from './support/server.js';

describe('the API with its PostgreSQL cut off', () => {
  it('answers 503 with Retry-After on reads, writes and token checks, naming no host, then recovers', async () => {
    const specs = mkdtempSync(join(tmpdir(), 'shinrai-outage-'));
    const database = await createTestDatabase('postgres');
    const relay = new PgRelay();
    await relay.open();
    const url = new URL(database.url);
    url.hostname = '127.0.0.1';
    url.port = String(relay.port);
    const server = await startTestServer('postgres', {
      specs,
      database: { ...database, url: url.toString() },
    });
    try {
      const token = await server.token('editor');
      const call = (method: string, path: string, body?: unknown) =>
        fetch(`${server.shinrai.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      expect((await call('GET', '/api/v1/incidents')).status).toBe(200);
      await relay.cut();
      for (const [method, path, body] of [
        ['GET', '/api/v1/incidents', undefined],
        ['POST', '/api/v1/incidents', { title: 'checkout down', severity: 'SEV2' }],
        ['GET', '/api/v1/action-items', undefined],
      ] as const) {
        const answer = await call(method, path, body);
        expect(answer.status, `${method} ${path}`).toBe(503);
        expect(answer.headers.get('retry-after')).toBe('5');
        expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
        const text = await answer.text();
        expect(text).toContain('the database is unreachable');
        expect(text).not.toContain(String(relay.port));
        expect(text).not.toMatch(/ECONNREFUSED|Connection terminated|127\.0\.0\.1/);
      }
      await relay.open();
      const back = await call('GET', '/api/v1/incidents');
      expect(back.status).toBe(200);
    } finally {
      await server.close();
      await relay.cut();
      await database.drop();
      rmSync(specs, { recursive: true, force: true });
    }
  }, 60_000);
});
