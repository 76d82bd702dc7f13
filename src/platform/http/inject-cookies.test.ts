/**
 * package.json pins cookie ~1.1 for light-my-request (Fastify's app.inject), whose cookie ^2 wants
 * Node ≥ 22 while Shinrai supports ≥ 20.19: this checks inject still encodes request cookies.
 */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

describe('app.inject with the pinned cookie version', () => {
  it('sends cookies given as an object and as a list, encoded, filtered by path', async () => {
    const app = Fastify();
    app.get('/a/b', async (request) => ({ cookie: request.headers.cookie ?? null }));
    try {
      const byName = await app.inject({ url: '/a/b', cookies: { lang: 'ja', note: 'x y;z' } });
      expect(byName.json()).toEqual({ cookie: 'lang=ja; note=x%20y%3Bz' });
      const listed = await app.inject({
        url: '/a/b',
        cookies: [
          { name: 'session', value: 's1', path: '/a' },
          { name: 'other', value: 'o1', path: '/elsewhere' },
        ],
      });
      expect(listed.json()).toEqual({ cookie: 'session=s1' });
    } finally {
      await app.close();
    }
  });
});
