/** Webhook authentication: HMAC signatures as GitHub computes them, shared tokens, bearer headers. */
import { describe, expect, it } from 'vitest';
import { bearerToken, hmacSignature, tokenMatches, verifyHmac } from './verify.js';

describe('verify', () => {
  it("matches GitHub's documented example signature", () => {
    // docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody", payload "Hello, World!".
    expect(hmacSignature("It's a Secret to Everybody", 'Hello, World!')).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
    const body = Buffer.from('Hello, World!');
    expect(
      verifyHmac("It's a Secret to Everybody", body, hmacSignature("It's a Secret to Everybody", body)),
    ).toBe(true);
  });

  it('refuses a missing, short, other-secret or other-body signature', () => {
    const body = Buffer.from('{"a":1}');
    const good = hmacSignature('s3cret', body);
    expect(verifyHmac('s3cret', body, undefined)).toBe(false);
    expect(verifyHmac('s3cret', body, 'sha256=')).toBe(false);
    expect(verifyHmac('s3cret', body, good.slice(0, -1))).toBe(false);
    expect(verifyHmac('other', body, good)).toBe(false);
    expect(verifyHmac('s3cret', Buffer.from('{"a":2}'), good)).toBe(false);
    expect(verifyHmac('s3cret', body, `${good}0`)).toBe(false);
  });

  it('compares tokens of any length and reads bearer headers', () => {
    expect(tokenMatches('t0ken', 't0ken')).toBe(true);
    expect(tokenMatches('t0ken', 't0ke')).toBe(false);
    expect(tokenMatches('t0ken', undefined)).toBe(false);
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
