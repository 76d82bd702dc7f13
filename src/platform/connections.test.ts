// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the syntax under test
import { describe, expect, it } from 'vitest';
import { parseConnectionDetails, resolveConnection } from './connections.js';

const files: Record<string, string> = { '/secrets/token': 'tok-from-file\n', '/secrets/ca.pem': 'PEM' };
const sources = {
  env: { PROM_TOKEN: 's3cret', TENANT: 'team-a' },
  readFile: (path: string) => {
    const text = files[path];
    if (text === undefined) throw new Error('ENOENT');
    return text;
  },
};

describe('parseConnectionDetails', () => {
  it('reads a map and the OpenSLO list-of-maps form', () => {
    expect(parseConnectionDetails({ url: 'http://prom:9090' })).toEqual({
      ok: true,
      details: { url: 'http://prom:9090' },
    });
    expect(parseConnectionDetails([{ url: 'https://prom' }, { bearerToken: '${PROM_TOKEN}' }])).toEqual({
      ok: true,
      details: { url: 'https://prom', bearerToken: '${PROM_TOKEN}' },
    });
  });

  it.each([
    [undefined, 'connectionDetails: missing'],
    [{}, 'connectionDetails.url'],
    [{ url: 'prom:9090' }, 'connectionDetails.url: must be an http:// or https:// URL'],
    [{ url: 'http://p', token: 'x' }, 'unknown key token'],
    [{ url: 'http://p', bearerToken: 'a', bearerTokenFile: '/f' }, 'not both'],
    [{ url: 'http://p', basicAuth: { username: 'u' } }, 'exactly one of password or passwordFile'],
    [{ url: 'http://p', headers: { 'bad header': 'x' } }, 'is not a header name'],
    [['http://p'], 'a list must hold maps'],
  ])('refuses %j with a message naming the problem', (raw, expected) => {
    const parsed = parseConnectionDetails(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems.join('\n')).toContain(expected);
  });
});

describe('resolveConnection', () => {
  it('expands ${VAR}, reads secret files and builds the headers', () => {
    const bearer = resolveConnection(
      {
        url: 'https://prom/',
        bearerTokenFile: '/secrets/token',
        headers: { 'X-Scope-OrgID': '${TENANT}' },
        tlsCaFile: '/secrets/ca.pem',
        timeoutSeconds: 5,
      },
      sources,
    );
    expect(bearer).toEqual({
      url: 'https://prom',
      headers: { 'X-Scope-OrgID': 'team-a', authorization: 'Bearer tok-from-file' },
      ca: 'PEM',
      timeoutMs: 5000,
      credentials: {},
    });
    const basic = resolveConnection(
      { url: 'http://p', basicAuth: { username: 'u', password: '${PROM_TOKEN}' } },
      sources,
    );
    expect(basic.headers.authorization).toBe(`Basic ${Buffer.from('u:s3cret').toString('base64')}`);
  });

  it("expands a vendor's keys into credentials, and a SaaS connection may leave out url", () => {
    const parsed = parseConnectionDetails([{ apiKey: '${PROM_TOKEN}' }, { appKey: 'app' }], { required: [] });
    expect(parsed).toEqual({ ok: true, details: { apiKey: '${PROM_TOKEN}', appKey: 'app' } });
    expect(resolveConnection({ apiKey: '${PROM_TOKEN}', accountId: '42' }, sources)).toEqual({
      url: undefined,
      headers: {},
      ca: undefined,
      timeoutMs: undefined,
      credentials: { apiKey: 's3cret', accountId: '42' },
    });
    expect(() => resolveConnection({ apiKey: '${NOPE}' }, sources)).toThrow(/apiKey uses \$\{NOPE\}/);
    // Without `required`, url is what a connection must give (Prometheus, Loki).
    expect(parseConnectionDetails({ apiKey: 'k' })).toEqual({
      ok: false,
      problems: ['connectionDetails.url: Required'],
    });
  });

  it('names the missing variable or unreadable file', () => {
    expect(() => resolveConnection({ url: 'http://p', bearerToken: '${NOPE}' }, sources)).toThrow(
      /bearerToken uses \$\{NOPE\}/,
    );
    expect(() => resolveConnection({ url: 'http://p', tlsCaFile: '/missing' }, sources)).toThrow(
      /tlsCaFile: cannot read \/missing/,
    );
  });
});

describe('connections by name', () => {
  it('reads `connection: <name>` alone, and refuses it with other keys', () => {
    expect(parseConnectionDetails({ connection: 'main' })).toEqual({
      ok: true,
      details: { connection: 'main' },
    });
    expect(parseConnectionDetails([{ connection: 'main' }], { uploaded: true })).toEqual({
      ok: true,
      details: { connection: 'main' },
    });
    const mixed = parseConnectionDetails({ connection: 'main', url: 'http://p' });
    expect(mixed.ok).toBe(false);
    if (!mixed.ok) expect(mixed.problems[0]).toContain('give only `connection: main`');
  });

  it('refuses an inline connection uploaded through the API, saying where to configure it', () => {
    const parsed = parseConnectionDetails({ url: 'http://p' }, { uploaded: true });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems[0]).toContain('connections.<name> in the config file');
  });
});
