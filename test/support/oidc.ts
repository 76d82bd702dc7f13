/**
 * A real OpenID provider for the SSO tests: the certified `oidc-provider` on a loopback port,
 * with its development login pages (any password), a client for Shinrai, and people whose groups
 * the tests choose. `signInWithFetch` walks its pages without a browser, keeping cookies by hand.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export interface TestPerson {
  readonly name: string;
  readonly email: string;
  readonly groups: readonly string[];
}

export interface TestProvider {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The provider's signing key (in its JWKS as `kid` SIGNING_KID), for tests that forge logout tokens. */
  readonly signingKey: CryptoKey;
  close(): Promise<void>;
}

export const SIGNING_KID = 'test-signing-key';

export const CLIENT_ID = 'shinrai';
export const CLIENT_SECRET = 'test-client-secret-that-is-long-enough';

/**
 * Starts the provider. `issuerHost` lets a test run it under another name for the same address
 * (`localhost` vs `127.0.0.1`), which is how a wrong issuer is made.
 */
export async function startTestProvider(options: {
  readonly shinraiUrl: () => string;
  readonly people: Readonly<Record<string, TestPerson>>;
}): Promise<TestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  // A key the test knows, so it can sign logout tokens the way the provider does (or tamper with them).
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingJwk = { ...(await exportJWK(privateKey)), kid: SIGNING_KID, alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    jwks: { keys: [signingJwk as never] },
    // The provider's own fetch refuses loopback addresses (SSRF guard); Shinrai is on one here.
    fetch: (url: string, { dispatcher: _guard, ...options }: RequestInit & { dispatcher?: unknown }) =>
      fetch(url, options),
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        // Shinrai's port is known only once it listens: the client is read per request.
        redirect_uris: [`${issuer}/placeholder`],
        post_logout_redirect_uris: [`${issuer}/placeholder`],
        // Back-channel logout: the provider POSTs a logout token naming the session (sid).
        backchannel_logout_uri: `${issuer}/placeholder`,
        backchannel_logout_session_required: true,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'profile', 'email', 'groups'],
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: true },
    },
    pkce: { required: () => true },
    async findAccount(_ctx, id) {
      const person = options.people[id];
      if (!person) return undefined;
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          name: person.name,
          email: person.email,
          email_verified: true,
          groups: [...person.groups],
        }),
      };
    },
    // Shinrai is a first-party client here: no consent page between login and the callback.
    async loadExistingGrant(ctx) {
      const accountId = ctx.oidc.session?.accountId;
      const clientId = ctx.oidc.client?.clientId;
      if (!accountId || !clientId) return undefined;
      const existing = ctx.oidc.session?.grantIdFor(clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({ accountId, clientId });
      grant.addOIDCScope('openid profile email groups');
      await grant.save();
      return grant;
    },
  });
  // The registered URIs follow Shinrai's address, which exists only after the provider started.
  const client = await provider.Client.find(CLIENT_ID);
  if (!client) throw new Error('the test client is missing');
  // A logout token the provider failed to deliver would only show as a session left open.
  (provider as unknown as { on(event: string, listener: (...args: never[]) => void): void }).on(
    'backchannel.error',
    (_ctx: unknown, error: Error) =>
      console.error(`oidc-provider: back-channel logout failed: ${error.message}`),
  );
  const callback = provider.callback();
  server.on('request', (request, response) => {
    const shinrai = options.shinraiUrl();
    const metadata = client as unknown as {
      redirectUris: string[];
      postLogoutRedirectUris: string[];
      backchannelLogoutUri: string;
    };
    metadata.redirectUris = [`${shinrai}/auth/callback`];
    metadata.postLogoutRedirectUris = [`${shinrai}/`];
    metadata.backchannelLogoutUri = `${shinrai}/auth/backchannel-logout`;
    callback(request, response);
  });
  return {
    issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    signingKey: privateKey,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `auth.oidc` for a Shinrai at `shinraiUrl` signing in with the test provider; `groups` as in the config file. */
export function oidcSettings(
  provider: TestProvider,
  shinraiUrl: string,
  groups: Record<string, { role?: string; teams?: string[] }>,
): Record<string, unknown> {
  return {
    issuer: provider.issuer,
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
    scopes: 'openid profile email groups',
    redirectUrl: `${shinraiUrl}/auth/callback`,
    groups,
  };
}

/** Cookies per origin, enough for the provider's and Shinrai's pages. */
export class CookieJar {
  private readonly jars = new Map<string, Map<string, string>>();

  store(url: string, response: Response): void {
    const origin = new URL(url).origin;
    const jar = this.jars.get(origin) ?? new Map<string, string>();
    this.jars.set(origin, jar);
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1).trim();
      if (/max-age=0/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  header(url: string): string {
    const jar = this.jars.get(new URL(url).origin);
    return jar ? [...jar].map(([name, value]) => `${name}=${value}`).join('; ') : '';
  }

  get(url: string, name: string): string | undefined {
    return this.jars.get(new URL(url).origin)?.get(name);
  }

  set(url: string, name: string, value: string): void {
    const origin = new URL(url).origin;
    const jar = this.jars.get(origin) ?? new Map<string, string>();
    this.jars.set(origin, jar);
    jar.set(name, value);
  }
}

/** One request without following redirects, carrying and keeping the jar's cookies. */
export async function send(
  jar: CookieJar,
  url: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    redirect: 'manual',
    headers: { cookie: jar.header(url), ...init.headers },
    body: init.body,
  });
  jar.store(url, response);
  return response;
}

/**
 * Walks the provider from its authorization URL to the redirect back to Shinrai, signing in as
 * `login` on the development login page; answers that redirect's URL (`…/auth/callback?code=…`).
 */
export async function walkProvider(jar: CookieJar, authorizationUrl: string, login: string): Promise<string> {
  let url = authorizationUrl;
  for (let step = 0; step < 10; step++) {
    const response = await send(jar, url);
    const location = response.headers.get('location');
    if (location) {
      const next = new URL(location, url).href;
      if (next.includes('/auth/callback')) return next;
      url = next;
      continue;
    }
    const html = await response.text();
    if (response.status !== 200 || !html.includes('name="login"'))
      throw new Error(`the provider answered ${response.status} at ${url}: ${html.slice(0, 300)}`);
    const submit = await send(jar, url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ prompt: 'login', login, password: 'any' }).toString(),
    });
    const after = submit.headers.get('location');
    if (!after)
      throw new Error(`the login form answered ${submit.status}: ${(await submit.text()).slice(0, 300)}`);
    url = new URL(after, url).href;
  }
  throw new Error('the provider did not send the browser back within 10 steps');
}
