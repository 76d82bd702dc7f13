/**
 * The OpenID Connect relying party (adapter over openid-client): discovery, the authorization
 * request with PKCE, state and nonce, the code exchange (openid-client checks iss, aud, the
 * signature, nonce, state, PKCE and the `iss` response parameter) and RP-initiated logout. Every
 * call to the provider goes through the egress-checked dispatcher (egress.allow). docs/sso.md.
 */
import { createRemoteJWKSet, type JWTVerifyGetKey, customFetch as joseFetch } from 'jose';
import * as client from 'openid-client';
import { type Agent, fetch as undiciFetch } from 'undici';
import { describeTransportError } from '../remote-error.js';
import { type LogoutTokenCheck, verifyLogoutToken } from './logout-token.js';

/** The part of `auth.oidc` the client needs. */
export interface OidcSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: string;
  readonly redirectUrl: string;
}

/** A refused sign-in: `status` 400 for a bad or replayed answer, 502 when the provider failed. */
export class OidcError extends Error {
  constructor(
    readonly status: 400 | 502,
    message: string,
  ) {
    super(message);
    this.name = 'OidcError';
  }
}

export interface AuthorizationRequest {
  readonly url: string;
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface SignInResult {
  /** The ID token's claims, completed from userinfo when the groups or e-mail claim was missing. */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly idToken: string | undefined;
}

const TIMEOUT_SECONDS = 10;

export class OidcClient {
  private discovered: Promise<client.Configuration> | undefined;
  /** The provider's signing keys (its discovered jwks_uri), fetched through egress and cached by jose. */
  private keys: { readonly uri: string; readonly get: JWTVerifyGetKey } | undefined;

  constructor(
    private readonly settings: OidcSettings,
    private readonly dispatcher: Agent,
    /** Claims worth a userinfo call when the ID token lacks them. */
    private readonly wantedClaims: readonly string[] = ['email'],
  ) {}

  /** The provider's configuration, discovered on first use (the server starts while the provider is down). */
  private configuration(): Promise<client.Configuration> {
    this.discovered ??= this.discover().catch((error: unknown) => {
      // A failed discovery is tried again by the next sign-in.
      this.discovered = undefined;
      throw error;
    });
    return this.discovered;
  }

  private async discover(): Promise<client.Configuration> {
    const { issuer, clientId, clientSecret } = this.settings;
    const customFetch: client.CustomFetch = (url, options) => this.fetch(url, options);
    try {
      const config = await client.discovery(
        new URL(issuer),
        clientId,
        { client_secret: clientSecret || undefined },
        clientSecret ? client.ClientSecretPost(clientSecret) : client.None(),
        {
          [client.customFetch]: customFetch,
          timeout: TIMEOUT_SECONDS,
          // http:// is accepted only for loopback issuers (config validation), e.g. a local test provider.
          ...(new URL(issuer).protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {}),
        },
      );
      return config;
    } catch (error) {
      throw new OidcError(502, `the OpenID provider's discovery at ${issuer} failed: ${describe(error)}`);
    }
  }

  /** Every call to the provider: through the egress-checked dispatcher. */
  private fetch(url: string, options: object): Promise<Response> {
    return undiciFetch(url, {
      ...options,
      dispatcher: this.dispatcher,
    } as never) as unknown as Promise<Response>;
  }

  /**
   * Checks a back-channel logout token (logout-token.ts) against the provider's discovered issuer
   * and JWKS; a provider that publishes no jwks_uri cannot send one.
   */
  async checkLogoutToken(logoutToken: string, nowMs: number): Promise<LogoutTokenCheck> {
    let metadata: client.ServerMetadata;
    try {
      metadata = (await this.configuration()).serverMetadata();
    } catch (error) {
      return { ok: false, status: 503, error: (error as Error).message };
    }
    if (!metadata.jwks_uri)
      return {
        ok: false,
        status: 400,
        error: 'the provider publishes no jwks_uri to verify a logout token with',
      };
    if (this.keys?.uri !== metadata.jwks_uri)
      this.keys = {
        uri: metadata.jwks_uri,
        get: createRemoteJWKSet(new URL(metadata.jwks_uri), {
          timeoutDuration: TIMEOUT_SECONDS * 1000,
          [joseFetch]: (url, options) => this.fetch(url, options),
        }),
      };
    return verifyLogoutToken(logoutToken, {
      issuer: metadata.issuer,
      clientId: this.settings.clientId,
      keys: this.keys.get,
      nowMs,
    });
  }

  /** Starts a sign-in: the provider URL to send the browser to, and the values the callback is checked against. */
  async authorizationRequest(): Promise<AuthorizationRequest> {
    const config = await this.configuration();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUrl,
      scope: this.settings.scopes,
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state, nonce, codeVerifier };
  }

  /** Takes the provider's answer (the callback's query string) and checks it against the login. */
  async signIn(
    query: string,
    login: { readonly state: string; readonly nonce: string; readonly codeVerifier: string },
  ): Promise<SignInResult> {
    const config = await this.configuration();
    // The registered redirect URL, not the request's Host header: the callback is checked against what was sent.
    const current = new URL(this.settings.redirectUrl);
    current.search = query;
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: login.codeVerifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw refusal(error);
    }
    const idClaims = (tokens.claims() ?? {}) as Record<string, unknown>;
    let claims: Record<string, unknown> = { ...idClaims };
    const missing = this.wantedClaims.some((claim) => !(claim in idClaims));
    if (missing && config.serverMetadata().userinfo_endpoint && typeof idClaims.sub === 'string') {
      try {
        const userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        // The ID token is signed; userinfo only fills in what it does not say.
        claims = { ...userinfo, ...idClaims };
      } catch (error) {
        throw new OidcError(502, `the provider's userinfo endpoint failed: ${describe(error)}`);
      }
    }
    return { claims, idToken: tokens.id_token };
  }

  /** The provider's logout URL for a session (RP-initiated logout), or undefined when it has none. */
  async endSessionUrl(
    idToken: string | undefined,
    postLogoutRedirectUri: string,
  ): Promise<string | undefined> {
    let config: client.Configuration;
    try {
      config = await this.configuration();
    } catch {
      return undefined;
    }
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    return client.buildEndSessionUrl(config, {
      post_logout_redirect_uri: postLogoutRedirectUri,
      client_id: this.settings.clientId,
      ...(idToken ? { id_token_hint: idToken } : {}),
    }).href;
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

/** A failed code exchange in words a person can act on; the provider's own words are kept short. */
function refusal(error: unknown): OidcError {
  if (error instanceof client.AuthorizationResponseError)
    return new OidcError(
      400,
      `the provider refused the sign-in: ${short(error.error)}${error.error_description ? ` (${short(error.error_description)})` : ''}`,
    );
  if (error instanceof client.ResponseBodyError)
    return new OidcError(
      400,
      `the provider refused the code exchange: ${short(error.error)}${error.error_description ? ` (${short(error.error_description)})` : ''} — a code works once, for the login it was issued to`,
    );
  const code = (error as { code?: string }).code;
  // openid-client wraps oauth4webapi's error, whose cause names the claim that failed.
  const inner = (error as { cause?: unknown }).cause;
  const details = [inner, (inner as { cause?: unknown } | undefined)?.cause] as Array<
    { claim?: string; attribute?: string; parameter?: string } | undefined
  >;
  const message = inner instanceof Error ? inner.message : (error as Error).message;
  // The claim or response parameter that failed: named in the cause, or quoted in the message.
  const claim =
    details.map((d) => d?.claim ?? d?.parameter ?? d?.attribute).find(Boolean) ??
    /"(iss|nonce|state|aud)"/.exec(message)?.[1];
  if (claim === 'nonce')
    return new OidcError(
      400,
      'the ID token was issued for another sign-in (its nonce does not match this login)',
    );
  if (claim === 'iss')
    return new OidcError(400, 'the answer names another issuer than the configured auth.oidc.issuer');
  if (claim === 'state') return new OidcError(400, 'the state in the answer does not match this login');
  if (code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' || code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED')
    return new OidcError(400, `the provider's answer failed a check: ${short(message)}`);
  if (code?.startsWith('OAUTH_'))
    return new OidcError(400, `the provider's answer is not valid: ${short(message)}`);
  return new OidcError(502, `the OpenID provider could not be reached: ${describe(error)}`);
}

function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code?.startsWith('OAUTH_')) return short((error as Error).message);
  return describeTransportError(error, TIMEOUT_SECONDS * 1000).message;
}

function short(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a provider's text is shown on one line
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
