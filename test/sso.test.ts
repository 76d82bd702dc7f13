/**
 * Single sign-on against a real OpenID provider (oidc-provider on a loopback port), on both
 * databases, without a browser: the provider's pages are walked with fetch and a cookie jar.
 * Sign-in gives the role and teams of the person's groups; cookie writes need the CSRF token;
 * tampered state, a nonce of another login, a replayed code, another issuer and a sign-in the
 * person cancelled are refused with no session opened; sessions end when idle, at their absolute end and at sign-out.
 */
import { Writable } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import {
  CookieJar,
  oidcSettings,
  send,
  startTestProvider,
  type TestProvider,
  walkProvider,
} from './support/oidc.js';
import { freePort } from './support/prometheus.js';
import { type JsonBody, ManualClock, startTestServer, type TestServer } from './support/server.js';

const PEOPLE = {
  alice: { name: 'Alice Editor', email: 'alice@example.com', groups: ['sre', 'payments-eng'] },
  bob: { name: 'Bob Viewer', email: 'bob@example.com', groups: ['staff'] },
  carol: { name: 'Carol Nobody', email: 'carol@example.com', groups: ['marketing'] },
};

const COOKIE = 'shinrai_session';

describe.each(DIALECTS)('single sign-on on %s', (dialect) => {
  let provider: TestProvider;
  let server: TestServer;
  let base = '';
  const clock = new ManualClock(Date.now());
  // Everything the server logs, at debug: no session cookie or client secret may be in it.
  const logged: string[] = [];
  const cookiesSeen = new Set<string>();
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, done) {
        logged.push(String(chunk));
        done();
      },
    }),
  );

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    provider = await startTestProvider({ shinraiUrl: () => base, people: PEOPLE });
    server = await startTestServer(dialect, {
      clock,
      log,
      config: {
        'server.port': port,
        'auth.oidc': oidcSettings(provider, base, {
          sre: { role: 'editor', teams: ['sre'] },
          'payments-eng': { teams: ['payments'] },
          staff: { role: 'viewer' },
        }),
        'auth.sessions': { idleMinutes: 30, absoluteHours: 8, secureCookie: false },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await provider?.close();
  });

  /** Starts a sign-in at Shinrai: the provider URL it redirects to. */
  async function startLogin(jar: CookieJar, returnTo = '/incidents'): Promise<string> {
    const login = await send(jar, `${base}/auth/login?return=${encodeURIComponent(returnTo)}`);
    expect(login.status).toBe(302);
    return login.headers.get('location')!;
  }

  async function signIn(person: keyof typeof PEOPLE): Promise<{ jar: CookieJar; csrf: string }> {
    const jar = new CookieJar();
    const callback = await walkProvider(jar, await startLogin(jar), person);
    const back = await send(jar, callback);
    expect(back.status, await back.clone().text()).toBe(302);
    expect(back.headers.get('location')).toBe('/incidents');
    const set = back.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`))!;
    expect(set).toMatch(/; HttpOnly/);
    expect(set).toMatch(/; SameSite=Lax/);
    expect(set).toMatch(/; Path=\//);
    const who = await json(send(jar, `${base}/api/v1/whoami`));
    cookiesSeen.add(jar.get(base, COOKIE)!);
    return { jar, csrf: who.csrfToken };
  }

  async function sessionCount(): Promise<number> {
    const rows = await server.shinrai.ctx.db.kysely.selectFrom('auth_sessions').select('id_hash').execute();
    return rows.length;
  }

  it('signs a person in through the provider with the role and teams of their groups', async () => {
    const { jar, csrf } = await signIn('alice');
    const who = await json(send(jar, `${base}/api/v1/whoami`));
    expect(who).toEqual({
      name: 'Alice Editor',
      role: 'editor',
      kind: 'session',
      email: 'alice@example.com',
      teams: ['payments', 'sre'],
      // An editor with teams learns what other teams own (docs/api.md#teams): nothing in these specs.
      readOnly: { services: [], slos: [] },
      csrfToken: csrf,
    });
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const config = await json(fetch(`${base}/auth/config`));
    expect(config).toEqual({ sso: true, loginUrl: '/auth/login' });
  });

  it('opens a new session at every sign-in and ends the one the browser had (rotation)', async () => {
    const { jar } = await signIn('alice');
    const first = jar.get(base, COOKIE)!;
    const callback = await walkProvider(jar, await startLogin(jar), 'alice');
    expect((await send(jar, callback)).status).toBe(302);
    const second = jar.get(base, COOKIE)!;
    expect(second).not.toBe(first);
    cookiesSeen.add(second);
    expect(
      (await fetch(`${base}/api/v1/whoami`, { headers: { cookie: `${COOKIE}=${second}` } })).status,
    ).toBe(200);
    expect((await fetch(`${base}/api/v1/whoami`, { headers: { cookie: `${COOKIE}=${first}` } })).status).toBe(
      401,
    );
  });

  it('lets an editor write with the cookie and the CSRF token; refuses a write without it, and a viewer', async () => {
    const alice = await signIn('alice');
    const body = JSON.stringify({ title: 'SSO write', severity: 'SEV3' });
    const headers = { 'content-type': 'application/json' };
    const written = await send(alice.jar, `${base}/api/v1/incidents`, {
      method: 'POST',
      body,
      headers: { ...headers, 'x-csrf-token': alice.csrf },
    });
    expect(written.status).toBe(201);
    const noToken = await send(alice.jar, `${base}/api/v1/incidents`, { method: 'POST', body, headers });
    expect(noToken.status).toBe(403);
    expect(noToken.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await noToken.json()) as JsonBody).detail).toMatch(/needs the X-CSRF-Token header/);
    const wrongToken = await send(alice.jar, `${base}/api/v1/incidents`, {
      method: 'POST',
      body,
      headers: { ...headers, 'x-csrf-token': 'x'.repeat(43) },
    });
    expect(wrongToken.status).toBe(403);
    expect(((await wrongToken.json()) as JsonBody).detail).toMatch(/does not match/);

    const bob = await signIn('bob');
    expect((await json(send(bob.jar, `${base}/api/v1/whoami`))).role).toBe('viewer');
    expect((await send(bob.jar, `${base}/api/v1/incidents`)).status).toBe(200);
    const refused = await send(bob.jar, `${base}/api/v1/incidents`, {
      method: 'POST',
      body,
      headers: { ...headers, 'x-csrf-token': bob.csrf },
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as JsonBody).detail).toMatch(
      /needs the editor role; Bob Viewer is viewer/,
    );
  });

  it('refuses a person in no mapped group with a clear message, opening no session', async () => {
    const before = await sessionCount();
    const jar = new CookieJar();
    const callback = await walkProvider(jar, await startLogin(jar), 'carol');
    const refused = await send(jar, callback, { headers: { accept: 'text/html' } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await refused.text();
    expect(page).toContain('サインインできませんでした');
    expect(page).toMatch(/Carol Nobody is in none of the groups that give a role in Shinrai/);
    expect(jar.get(base, COOKIE)).toBeUndefined();
    expect(await sessionCount()).toBe(before);
  });

  it('refuses a tampered state, a replayed code, a nonce of another login and another issuer, opening no session', async () => {
    const before = await sessionCount();
    const problem = async (jar: CookieJar, url: string) => {
      const response = await send(jar, url);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(jar.get(base, COOKIE)).toBeUndefined();
      return ((await response.json()) as JsonBody).detail as string;
    };

    // Tampered state: no login in progress has it.
    const tampered = new CookieJar();
    const tamperedUrl = new URL(await walkProvider(tampered, await startLogin(tampered), 'alice'));
    tamperedUrl.searchParams.set('state', `${tamperedUrl.searchParams.get('state')}x`);
    expect(await problem(tampered, tamperedUrl.href)).toMatch(/unknown or was already used/);

    // Replayed code: the first callback signs in, the same answer again finds its login gone.
    const replay = new CookieJar();
    const replayUrl = await walkProvider(replay, await startLogin(replay), 'alice');
    const loginCookie = replay.get(base, `${COOKIE}_login`)!;
    expect((await send(replay, replayUrl)).status).toBe(302);
    const attacker = new CookieJar();
    attacker.set(base, `${COOKIE}_login`, loginCookie);
    expect(await problem(attacker, replayUrl)).toMatch(/unknown or was already used/);

    // A nonce of another login: the authorization request is sent with another nonce (PKCE and
    // state kept), so the provider's ID token answers some other sign-in.
    const nonce = new CookieJar();
    const authorization = new URL(await startLogin(nonce));
    authorization.searchParams.set('nonce', 'another-login-nonce-0123456789');
    expect(await problem(nonce, await walkProvider(nonce, authorization.href, 'alice'))).toMatch(
      /issued for another sign-in \(its nonce does not match/,
    );

    // Another issuer: the answer's iss parameter (RFC 9207) names another provider.
    const issuer = new CookieJar();
    const issuerUrl = new URL(await walkProvider(issuer, await startLogin(issuer), 'alice'));
    expect(issuerUrl.searchParams.get('iss')).toBe(provider.issuer);
    issuerUrl.searchParams.set('iss', 'http://127.0.0.1:1/evil');
    expect(await problem(issuer, issuerUrl.href)).toMatch(
      /names another issuer than the configured auth.oidc.issuer/,
    );

    // A callback from another browser (no login cookie) is refused too: login CSRF.
    const other = new CookieJar();
    const otherUrl = await walkProvider(other, await startLogin(other), 'alice');
    expect(await problem(new CookieJar(), otherUrl)).toMatch(/started in another browser/);

    // The person cancels at the provider: its error comes back, said as it is.
    const cancel = new CookieJar();
    const interaction = await send(cancel, await startLogin(cancel));
    let cancelled = `${new URL(interaction.headers.get('location')!, provider.issuer).href}/abort`;
    for (let step = 0; step < 5 && !cancelled.includes('/auth/callback'); step++)
      cancelled = new URL((await send(cancel, cancelled)).headers.get('location')!, cancelled).href;
    expect(await problem(cancel, cancelled)).toMatch(/the provider refused the sign-in: access_denied/);

    // One session: the replayed login's first, legitimate callback.
    expect(await sessionCount()).toBe(before + 1);
  });

  it('answers any malformed callback, login or cookie with a 4xx problem, never a 5xx (fuzzed)', async () => {
    const before = await sessionCount();
    const text = fc.string({ maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('state', 'code', 'iss', 'error', 'session_state', 'x'), text),
        text,
        async (params, cookie) => {
          const query = new URLSearchParams(params).toString();
          const callback = await fetch(`${base}/auth/callback?${query}`, {
            redirect: 'manual',
            headers: {
              cookie: `${COOKIE}_login=${encodeURIComponent(cookie)}; ${COOKIE}=${encodeURIComponent(cookie)}`,
            },
          });
          expect(callback.status, query).toBeGreaterThanOrEqual(400);
          expect(callback.status, query).toBeLessThan(500);
          expect(callback.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        },
      ),
      { numRuns: 40 },
    );
    // A few forged cookies (each counts against the failed-authentication limit, 20 a minute).
    for (const forged of ['', 'x'.repeat(43), '%zz', 'a;b'])
      expect(
        (await fetch(`${base}/api/v1/whoami`, { headers: { cookie: `${COOKIE}=${forged}` } })).status,
        forged,
      ).toBe(401);
    const login = await fetch(`${base}/auth/login?return=${'x'.repeat(3000)}`, { redirect: 'manual' });
    expect(login.status).toBe(400);
    expect(await sessionCount()).toBe(before);
  });

  it('ends a session after its idle minutes and at its absolute end', async () => {
    const idle = await signIn('alice');
    clock.advance(20 * 60_000);
    expect((await send(idle.jar, `${base}/api/v1/whoami`)).status).toBe(200); // used: idle time starts again
    clock.advance(29 * 60_000);
    expect((await send(idle.jar, `${base}/api/v1/whoami`)).status).toBe(200);
    clock.advance(31 * 60_000);
    const expired = await send(idle.jar, `${base}/api/v1/whoami`);
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as JsonBody).detail).toMatch(/expired after 30 min without use/);

    const absolute = await signIn('alice');
    for (let i = 0; i < 16; i++) {
      clock.advance(29 * 60_000);
      expect((await send(absolute.jar, `${base}/api/v1/whoami`)).status).toBe(200);
    }
    clock.advance(29 * 60_000); // 8 h 13 min after sign-in
    const ended = await send(absolute.jar, `${base}/api/v1/whoami`);
    expect(ended.status).toBe(401);
    expect(((await ended.json()) as JsonBody).detail).toMatch(/expired \(sessions last 8 h\)/);
  });

  it("signs out: the cookie stops working and the provider's end-session URL is given", async () => {
    const { jar, csrf } = await signIn('alice');
    const without = await send(jar, `${base}/auth/logout`, { method: 'POST' });
    expect(without.status).toBe(403);
    const cookie = jar.get(base, COOKIE)!;
    const out = await send(jar, `${base}/auth/logout`, { method: 'POST', headers: { 'x-csrf-token': csrf } });
    expect(out.status).toBe(200);
    const { endSessionUrl } = (await out.json()) as JsonBody;
    const end = new URL(endSessionUrl);
    expect(`${end.origin}${end.pathname}`).toBe(`${provider.issuer}/session/end`);
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${base}/`);
    expect(end.searchParams.get('id_token_hint')).toBeTruthy();
    expect(jar.get(base, COOKIE)).toBeUndefined();
    const replayed = await fetch(`${base}/api/v1/whoami`, { headers: { cookie: `${COOKIE}=${cookie}` } });
    expect(replayed.status).toBe(401);
    expect(((await replayed.json()) as JsonBody).detail).toMatch(/session has ended/);
  });

  it("lets an admin assign a role over the provider's groups, reaching open sessions at once", async () => {
    const admin = await server.token('admin');
    const people = (method: string, person: string, body?: unknown, token = admin) =>
      server.request(method, `/api/v1/auth/people/${encodeURIComponent(person)}`, { token, body });

    // Carol is in no mapped group: an assignment by her e-mail address lets her in.
    const assigned = await people('PUT', 'Carol@Example.com', { role: 'viewer', teams: ['marketing'] });
    expect(assigned.status).toBe(200);
    expect(await assigned.json()).toMatchObject({
      person: 'carol@example.com',
      role: 'viewer',
      teams: ['marketing'],
    });
    const carol = await signIn('carol');
    expect(await json(send(carol.jar, `${base}/api/v1/whoami`))).toMatchObject({
      role: 'viewer',
      teams: ['marketing'],
    });

    // Alice's open session takes a new role at once; removing it ends her sessions.
    const alice = await signIn('alice');
    expect((await people('PUT', 'alice', { role: 'admin' })).status).toBe(200);
    expect((await json(send(alice.jar, `${base}/api/v1/whoami`))).role).toBe('admin');
    expect(
      (await json(server.request('GET', '/api/v1/auth/people', { token: admin }))).map(
        (p: JsonBody) => p.person,
      ),
    ).toEqual(['alice', 'carol@example.com']);
    const removed = await people('DELETE', 'alice');
    expect(await removed.json()).toEqual({ endedSessions: 1 });
    expect((await send(alice.jar, `${base}/api/v1/whoami`)).status).toBe(401);
    expect((await people('DELETE', 'alice')).status).toBe(404);

    // Each assignment and removal is in the audit log, with the role before and after.
    const audit = await json(server.request('GET', '/api/v1/audit?action=person.', { token: admin }));
    expect(
      audit.events
        .map((e: JsonBody) => [
          e.action,
          e.target.id,
          e.changes.before?.role ?? null,
          e.changes.after?.role ?? null,
        ])
        .reverse(),
    ).toEqual([
      ['person.assign', 'carol@example.com', null, 'viewer'],
      ['person.assign', 'alice', null, 'admin'],
      ['person.unassign', 'alice', 'admin', null],
    ]);

    // Only admins; clear refusals for bad input.
    expect(
      (await people('PUT', 'x@example.com', { role: 'admin' }, await server.token('editor'))).status,
    ).toBe(403);
    expect(
      (await server.request('GET', '/api/v1/auth/people', { token: await server.token('editor') })).status,
    ).toBe(403);
    const badTeam = await people('PUT', 'x@example.com', { role: 'viewer', teams: ['no spaces'] });
    expect(badTeam.status).toBe(400);
    expect(((await badTeam.json()) as JsonBody).detail).toMatch(/team "no spaces" must be letters/);
    expect((await people('PUT', 'x@example.com', { role: 'owner' })).status).toBe(400);
    expect((await people('DELETE', 'carol@example.com')).status).toBe(200);
  });

  it('never logs a session cookie, a CSRF token or the client secret (debug level, after every test above)', async () => {
    const { csrf } = await signIn('bob');
    const text = logged.join('');
    expect(logged.length).toBeGreaterThan(0);
    for (const secret of [provider.clientSecret, csrf, ...cookiesSeen]) expect(text).not.toContain(secret);
  });

  it('keeps API tokens working beside sessions, and never sends a return path off the site', async () => {
    const token = await server.token('editor');
    expect((await json(server.request('GET', '/api/v1/whoami', { token }))).kind).toBe('token');
    const jar = new CookieJar();
    const callback = await walkProvider(jar, await startLogin(jar, '//evil.example/steal'), 'alice');
    const back = await send(jar, callback);
    expect(back.headers.get('location')).toBe('/');
  });
});

describe('single sign-on with a provider Shinrai may not trust', () => {
  let provider: TestProvider;
  let wrongIssuer: TestServer;
  let egressRefused: TestServer;

  beforeAll(async () => {
    provider = await startTestProvider({ shinraiUrl: () => 'http://127.0.0.1:1', people: PEOPLE });
    const oidc = (issuer: string) => ({
      issuer,
      clientId: provider.clientId,
      redirectUrl: 'http://127.0.0.1:1/auth/callback',
      defaultRole: 'viewer',
    });
    [wrongIssuer, egressRefused] = await Promise.all([
      // The same provider under another name: its discovery document names another issuer.
      startTestServer('sqlite', {
        config: { 'auth.oidc': oidc(provider.issuer.replace('127.0.0.1', 'localhost')) },
      }),
      startTestServer('sqlite', {
        config: { 'auth.oidc': oidc(provider.issuer), 'egress.allow': '10.0.0.0/8' },
      }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([wrongIssuer?.close(), egressRefused?.close()]);
    await provider?.close();
  });

  it('refuses to start a sign-in when the discovery document names another issuer', async () => {
    const refused = await wrongIssuer.request('GET', '/auth/login');
    expect(refused.status).toBe(503);
    const detail = ((await refused.json()) as JsonBody).detail;
    expect(detail).toMatch(/^the OpenID provider's discovery at http:\/\/localhost:\d+ failed: /);
    expect(detail).toMatch(/issuer/);
  });

  it('reaches the provider only where egress.allow lets it', async () => {
    const refused = await egressRefused.request('GET', '/auth/login');
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as JsonBody).detail).toMatch(
      /egress refused: .*127\.0\.0\.1.* not allowed by egress\.allow/,
    );
  });
});

async function json(response: Response | Promise<Response>): Promise<JsonBody> {
  return (await response).json() as Promise<JsonBody>;
}
