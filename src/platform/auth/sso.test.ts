// Unit tests of single sign-on's pure parts: claims → role and teams, cookies, the return path (fuzzed).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ClaimMapping, claimAt, groupsOf, mapClaims } from './claims.js';
import { parseCookies, safeReturnPath, serializeCookie } from './cookies.js';
import { csrfMatches, csrfTokenFor, randomSecret, sessionHandle } from './sessions.js';

const mapping: ClaimMapping = {
  groupsClaim: 'groups',
  groups: {
    sre: { role: 'editor', teams: ['sre'] },
    admins: { role: 'admin', teams: [] },
    payments: { teams: ['payments'] },
    staff: { role: 'viewer', teams: ['staff'] },
  },
  allowedDomains: [],
};

describe('mapClaims', () => {
  it('gives the highest role of the mapped groups and the union of their teams', () => {
    const mapped = mapClaims(
      { sub: 'u1', name: 'Aiko', email: 'Aiko@Example.com', groups: ['staff', 'payments', 'sre', 'other'] },
      mapping,
    );
    expect(mapped).toEqual({
      ok: true,
      person: {
        subject: 'u1',
        name: 'Aiko',
        email: 'aiko@example.com',
        role: 'editor',
        teams: ['payments', 'sre', 'staff'],
      },
    });
    expect(mapClaims({ sub: 'u1', groups: ['admins', 'staff'] }, mapping)).toMatchObject({
      person: { role: 'admin', name: 'u1' },
    });
  });

  it('refuses a person in no group that gives a role, unless a default role is set', () => {
    const refused = mapClaims({ sub: 'u2', preferred_username: 'ken', groups: ['payments'] }, mapping);
    expect(refused).toEqual({
      ok: false,
      error:
        'ken is in none of the groups that give a role in Shinrai (claim "groups": payments); ask an administrator to add you to one',
    });
    expect(mapClaims({ sub: 'u2' }, mapping)).toMatchObject({ ok: false, error: /claim "groups" is empty/ });
    expect(
      mapClaims({ sub: 'u2', groups: ['payments'] }, { ...mapping, defaultRole: 'viewer' }),
    ).toMatchObject({
      ok: true,
      person: { role: 'viewer', teams: ['payments'] },
    });
  });

  it("takes an admin's assignment over the groups, still inside the allowed domains", () => {
    const assignment = { role: 'admin' as const, teams: ['z', 'a'] };
    expect(
      mapClaims({ sub: 'u3', email: 'n@example.com', groups: ['staff'] }, mapping, assignment),
    ).toMatchObject({
      ok: true,
      person: { role: 'admin', teams: ['a', 'z'] },
    });
    expect(
      mapClaims(
        { sub: 'u3', email: 'n@other.example' },
        { ...mapping, allowedDomains: ['example.com'] },
        assignment,
      ),
    ).toMatchObject({ ok: false, error: /not in a domain allowed/ });
  });

  it('refuses an answer without a subject', () => {
    expect(mapClaims({ groups: ['sre'] }, mapping)).toMatchObject({ ok: false, error: /no subject/ });
  });

  it('limits sign-in to the allowed domains, on verified addresses only', () => {
    const google = { ...mapping, defaultRole: 'viewer' as const, allowedDomains: ['example.com'] };
    expect(mapClaims({ sub: 'g1', email: 'a@example.com', email_verified: true }, google).ok).toBe(true);
    expect(mapClaims({ sub: 'g2', email: 'a@evil.example' }, google)).toMatchObject({
      ok: false,
      error: 'a@evil.example is not in a domain allowed to sign in (example.com)',
    });
    expect(mapClaims({ sub: 'g3', email: 'a@example.com', email_verified: false }, google)).toMatchObject({
      ok: false,
      error: /no verified e-mail address/,
    });
    // An unverified address is not kept as the person's e-mail either.
    expect(
      mapClaims({ sub: 'g4', email: 'x@y.z', email_verified: false }, { ...mapping, defaultRole: 'viewer' }),
    ).toMatchObject({ person: { email: null } });
  });

  it('reads groups as a list or a string, and dotted claims inside objects (Keycloak realm_access.roles)', () => {
    expect(groupsOf(['a', 3, '', 'b'])).toEqual(['a', 'b']);
    expect(groupsOf('a b,c')).toEqual(['a', 'b', 'c']);
    expect(groupsOf({ a: 1 })).toEqual([]);
    expect(claimAt({ realm_access: { roles: ['sre'] } }, 'realm_access.roles')).toEqual(['sre']);
    expect(claimAt({ 'https://example.com/groups': ['x'] }, 'https://example.com/groups')).toEqual(['x']);
    expect(claimAt({ a: 'text' }, 'a.b')).toBeUndefined();
    expect(
      mapClaims(
        { sub: 'k', realm_access: { roles: ['sre'] } },
        { ...mapping, groupsClaim: 'realm_access.roles' },
      ),
    ).toMatchObject({ person: { role: 'editor' } });
  });
});

describe('cookies', () => {
  it('parses a Cookie header: trims, unquotes, decodes, keeps the first of a name, skips garbage', () => {
    const cookies = parseCookies('a=1; b="two"; c=%E4%BF%A1; a=again; junk; d=%zz; =x');
    expect([...cookies]).toEqual([
      ['a', '1'],
      ['b', 'two'],
      ['c', '信'],
    ]);
    expect(parseCookies(undefined).size).toBe(0);
  });

  it('writes HttpOnly, SameSite=Lax cookies, Secure when asked, and deletes with Max-Age=0', () => {
    expect(serializeCookie('s', 'v', { secure: true, maxAgeSeconds: 3600 })).toBe(
      's=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=3600',
    );
    expect(serializeCookie('s', '', { secure: false, path: '/auth/callback', maxAgeSeconds: 0 })).toBe(
      's=; Path=/auth/callback; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    );
  });

  it('round-trips any cookie value', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const set = serializeCookie('n', value, { secure: true });
        const pair = set.split(';')[0]!;
        expect(parseCookies(pair).get('n')).toBe(value);
      }),
      { numRuns: 200 },
    );
  });
});

describe('safeReturnPath', () => {
  it('keeps paths on this site and sends everything else to /', () => {
    expect(safeReturnPath('/incidents?status=open#top')).toBe('/incidents?status=open#top');
    expect(safeReturnPath('/slos/checkout')).toBe('/slos/checkout');
    for (const bad of [
      undefined,
      '',
      'incidents',
      '//evil.example',
      '/\\evil.example',
      '/\t/evil.example',
      'https://evil.example/',
      'javascript:alert(1)',
      '/auth/login',
      '/auth/callback?code=x',
    ])
      expect(safeReturnPath(bad), String(bad)).toBe('/');
  });

  it('never answers a path a browser would take to another origin (fuzzed)', () => {
    const pieces = fc.constantFrom(
      '/',
      '//',
      '\\',
      '\t',
      '\n',
      '%2f',
      'evil.example',
      ':',
      '@',
      '?',
      '#',
      '.',
      'http:',
      ' ',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(pieces, { maxLength: 8 }).map((p) => p.join('')),
        ),
        (raw) => {
          const path = safeReturnPath(raw);
          // Resolved the way a browser resolves a Location header against this site, it stays here.
          expect(new URL(path, 'https://shinrai.example.com/').origin).toBe('https://shinrai.example.com');
          expect(path.startsWith('/')).toBe(true);
          expect(path.startsWith('//')).toBe(false);
          // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not pass
          expect(path).not.toMatch(/[\\\u0000-\u001f]/);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('session secrets', () => {
  it('derives a CSRF token per session, compared in constant time, and an audit handle that is not the secret', () => {
    const secret = randomSecret();
    const token = csrfTokenFor(secret);
    expect(csrfMatches(secret, token)).toBe(true);
    expect(csrfMatches(secret, undefined)).toBe(false);
    expect(csrfMatches(secret, `${token}x`)).toBe(false);
    expect(csrfMatches(randomSecret(), token)).toBe(false);
    const handle = sessionHandle(secret);
    expect(handle.tokenId).toMatch(/^session:[0-9a-f]{8}$/);
    expect(handle.sessionId.startsWith(handle.tokenId.slice(8))).toBe(true);
    expect(handle.sessionId).not.toContain(secret);
  });
});
