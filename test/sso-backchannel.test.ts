/**
 * OpenID Connect Back-Channel Logout 1.0 against the real provider (oidc-provider with its
 * backchannelLogout feature) on both databases: signing out at the provider ends the Shinrai
 * session it opened; a tampered, expired, replayed, wrong-audience (or otherwise malformed) logout
 * token answers 400 and ends nothing.
 */
import { randomUUID } from 'node:crypto';
import { type CryptoKey, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import {
  CookieJar,
  oidcSettings,
  SIGNING_KID,
  send,
  startTestProvider,
  type TestProvider,
  walkProvider,
} from './support/oidc.js';
import { freePort } from './support/prometheus.js';
import { startTestServer, type TestServer } from './support/server.js';

const PEOPLE = {
  alice: { name: 'Alice Editor', email: 'alice@example.com', groups: ['sre'] },
  bob: { name: 'Bob Editor', email: 'bob@example.com', groups: ['sre'] },
};
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

describe.each(DIALECTS)('OIDC back-channel logout on %s', (dialect) => {
  let provider: TestProvider;
  let server: TestServer;
  let base = '';

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    provider = await startTestProvider({ shinraiUrl: () => base, people: PEOPLE });
    server = await startTestServer(dialect, {
      config: {
        'server.port': port,
        'auth.oidc': oidcSettings(provider, base, { sre: { role: 'editor' } }),
        'auth.sessions': { idleMinutes: 30, absoluteHours: 8, secureCookie: false },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await provider?.close();
  });

  /** Signs `login` in through the provider; the jar then holds both sites' cookies. */
  async function signIn(login: string): Promise<CookieJar> {
    const jar = new CookieJar();
    const start = await send(jar, `${base}/auth/login`);
    const callback = await walkProvider(jar, start.headers.get('location')!, login);
    expect((await send(jar, callback)).status).toBe(302);
    return jar;
  }
  const whoami = async (jar: CookieJar) => (await send(jar, `${base}/api/v1/whoami`)).status;
  const sessionsOf = (subject: string) =>
    server.shinrai.ctx.db.kysely
      .selectFrom('auth_sessions')
      .select(['sid', 'subject'])
      .where('subject', '=', subject)
      .execute();
  const postLogout = (logoutToken: string, asJson = false) =>
    fetch(`${base}/auth/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': asJson ? 'application/json' : 'application/x-www-form-urlencoded' },
      body: asJson
        ? JSON.stringify({ logout_token: logoutToken })
        : new URLSearchParams({ logout_token: logoutToken }).toString(),
    });
  /** A logout token as the provider signs one, with `claims` changed. */
  const logoutToken = (claims: Record<string, unknown>, key: CryptoKey = provider.signingKey) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: provider.issuer,
      aud: provider.clientId,
      iat: now,
      exp: now + 120,
      events: { [EVENT]: {} },
      jti: randomUUID(),
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: SIGNING_KID, typ: 'logout+jwt' })
      .sign(key);
  };

  it("stores the provider's sid at sign-in, and a sign-out at the provider ends the session", async () => {
    const jar = await signIn('alice');
    expect(await whoami(jar)).toBe(200);
    const [session] = await sessionsOf('alice');
    expect(session?.sid).toEqual(expect.any(String));
    // The provider's own logout page: confirm, and it POSTs the logout token to Shinrai.
    const page = await send(jar, `${provider.issuer}/session/end`);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(await page.text())?.[1];
    expect(xsrf).toBeDefined();
    const confirm = await send(jar, `${provider.issuer}/session/end/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf: xsrf!, logout: 'yes' }).toString(),
    });
    expect(confirm.status).toBeLessThan(400);
    expect(await sessionsOf('alice')).toEqual([]);
    expect(await whoami(jar)).toBe(401);
  });

  it('refuses bad logout tokens with 400 and ends nothing; a good one works once', async () => {
    const jar = await signIn('bob');
    const [session] = await sessionsOf('bob');
    const sid = session!.sid!;
    const { privateKey: otherKey } = await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      true,
      ['sign', 'verify'],
    );
    const good = await logoutToken({ sid });
    const [header, payload, signature] = good.split('.');
    const otherPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sid: 'another' }),
    ).toString('base64url');
    const hourAgo = Math.floor(Date.now() / 1000) - 3600;
    const bad: Record<string, string> = {
      tampered: `${header}.${otherPayload}.${signature}`,
      'signed by another key': await logoutToken({ sid }, otherKey),
      expired: await logoutToken({ sid, iat: hourAgo, exp: hourAgo + 120 }),
      'wrong audience': await logoutToken({ sid, aud: 'another-client' }),
      'wrong issuer': await logoutToken({ sid, iss: 'http://127.0.0.1:1' }),
      'with a nonce (an ID token)': await logoutToken({ sid, nonce: 'n' }),
      'without the event': await logoutToken({ sid, events: { other: {} } }),
      'without sid or sub': await logoutToken({}),
      'without jti': await logoutToken({ sid, jti: undefined }),
      'not a JWT': 'not-a-jwt',
    };
    for (const [what, token] of Object.entries(bad)) {
      const response = await postLogout(token);
      expect({ what, status: response.status }).toEqual({ what, status: 400 });
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await whoami(jar)).toBe(200);
    }
    expect((await postLogout(good, true)).status).toBe(415);
    expect(await whoami(jar)).toBe(200);

    const ended = await postLogout(good);
    expect(ended.status).toBe(200);
    expect(ended.headers.get('cache-control')).toBe('no-store');
    expect(await whoami(jar)).toBe(401);
    // Replayed: refused, even though there is nothing left to end.
    const replayed = await postLogout(good);
    expect(replayed.status).toBe(400);
    expect(((await replayed.json()) as { detail: string }).detail).toMatch(/already used/);
  });

  it('ends every session of a subject when the token names only sub', async () => {
    const first = await signIn('bob');
    const second = await signIn('bob');
    expect(await sessionsOf('bob')).toHaveLength(2);
    expect((await postLogout(await logoutToken({ sub: 'bob' }))).status).toBe(200);
    expect([await whoami(first), await whoami(second)]).toEqual([401, 401]);
  });
});
