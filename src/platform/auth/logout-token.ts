/**
 * OpenID Connect Back-Channel Logout 1.0, §2.6: checks a logout token the provider POSTs to
 * /auth/backchannel-logout — its signature against the provider's JWKS, `iss`, `aud`, `iat`, the
 * `events` claim, `sid` or `sub`, and no `nonce` (an ID token is not a logout token). Replays are
 * refused by the caller, by `jti` (sessions.ts takeLogoutToken). docs/sso.md#back-channel-logout.
 */
import { errors, type JWTVerifyGetKey, jwtVerify } from 'jose';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** How old (by `iat`) a logout token may be; its `jti` is remembered for as long. */
export const LOGOUT_TOKEN_MAX_AGE_SECONDS = 600;
/** Clock skew allowed between the provider and this server. */
const CLOCK_TOLERANCE_SECONDS = 60;

export interface LogoutToken {
  readonly issuer: string;
  readonly jti: string;
  readonly sid: string | undefined;
  readonly sub: string | undefined;
  /** Past this (epoch ms) the token would be refused as too old: how long its `jti` is kept. */
  readonly acceptedUntil: number;
}

export type LogoutTokenCheck =
  | { readonly ok: true; readonly token: LogoutToken }
  | { readonly ok: false; readonly status: 400 | 503; readonly error: string };

/** Verifies a logout token; never throws for a bad token (400), only answers 503 when the keys could not be fetched. */
export async function verifyLogoutToken(
  logoutToken: string,
  expected: {
    readonly issuer: string;
    readonly clientId: string;
    readonly keys: JWTVerifyGetKey;
    readonly nowMs: number;
  },
): Promise<LogoutTokenCheck> {
  const refuse = (error: string): LogoutTokenCheck => ({ ok: false, status: 400, error });
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(logoutToken, expected.keys, {
      issuer: expected.issuer,
      audience: expected.clientId,
      currentDate: new Date(expected.nowMs),
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      maxTokenAge: LOGOUT_TOKEN_MAX_AGE_SECONDS,
      requiredClaims: ['iat', 'jti', 'events'],
    }));
  } catch (error) {
    return joseRefusal(error);
  }
  const events = payload.events as Record<string, unknown> | undefined;
  const event = events && typeof events === 'object' ? events[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  if (event === null || typeof event !== 'object' || Array.isArray(event))
    return refuse(`the logout token's events claim does not hold ${BACKCHANNEL_LOGOUT_EVENT} as an object`);
  if ('nonce' in payload) return refuse('the logout token carries a nonce: it is not a logout token');
  const text = (name: 'jti' | 'sid' | 'sub') => {
    const value = payload[name];
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  };
  const jti = text('jti');
  if (!jti) return refuse('the logout token has no jti');
  const sid = text('sid');
  const sub = text('sub');
  if (!sid && !sub) return refuse('the logout token names neither a session (sid) nor a subject (sub)');
  const iat = payload.iat as number;
  return {
    ok: true,
    token: {
      issuer: expected.issuer,
      jti,
      sid,
      sub,
      acceptedUntil: (iat + LOGOUT_TOKEN_MAX_AGE_SECONDS + CLOCK_TOLERANCE_SECONDS) * 1000,
    },
  };
}

/** jose's refusal in words an operator can act on; a failure to fetch the keys is the provider's (503: retry). */
function joseRefusal(error: unknown): LogoutTokenCheck {
  const refuse = (message: string): LogoutTokenCheck => ({ ok: false, status: 400, error: message });
  if (error instanceof errors.JWTExpired) return refuse('the logout token has expired');
  if (error instanceof errors.JWTClaimValidationFailed)
    return refuse(`the logout token's ${error.claim} claim is not valid (${error.reason})`);
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return refuse("the logout token's signature does not verify with the provider's keys");
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return refuse("the logout token is signed with a key the provider's JWKS does not publish");
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return refuse("the logout token's algorithm is not accepted");
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return refuse(`the logout token is not a valid signed JWT (${(error as Error).message})`);
  if (error instanceof errors.JWKSTimeout)
    return { ok: false, status: 503, error: "the provider's JWKS did not answer in time" };
  const message = error instanceof Error ? error.message : String(error);
  return { ok: false, status: 503, error: `the provider's JWKS could not be read: ${message.slice(0, 200)}` };
}
