/**
 * The egress dispatcher against a real loopback listener: the check runs on the address DNS gave
 * (a name resolving to the metadata address is refused like the literal), egress.allow lets only
 * listed hosts and CIDRs through, refusals are counted, and the LLM client goes through it too.
 * DNS is injected so names can resolve anywhere; the connections themselves are real.
 */
import type { LookupAddress } from 'node:dns';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatchUpWriter } from '../src/incidents/llm.js';
import { Egress, type Lookup, parseEgressAllow } from '../src/platform/egress.js';
import { Listener } from './support/listener.js';

const HOSTS: Record<string, string> = {
  'ok.test': '127.0.0.1',
  'other.test': '127.0.0.1',
  'metadata.test': '169.254.169.254',
};

const lookup: Lookup = (hostname, options, callback) => {
  const address = HOSTS[hostname];
  if (!address)
    return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '');
  const list: LookupAddress[] = [{ address, family: 4 }];
  if (options.all) callback(null, list);
  else callback(null, address, 4);
};

function egress(allow: string[], refusals: string[]): Egress {
  const parsed = parseEgressAllow(allow);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return new Egress(parsed.policy, { lookup, onRefused: (client) => refusals.push(client) });
}

describe('egress dispatcher', () => {
  const listener = new Listener();

  beforeAll(() => listener.listen());
  afterAll(() => listener.close());

  const get = async (e: Egress, host: string, path: string) => {
    const agent = e.agent('test');
    try {
      const response = await request(`http://${host}:${listener.port}${path}`, { dispatcher: agent });
      await response.body.dump();
      return `HTTP ${response.statusCode}`;
    } catch (error) {
      return (error as Error).message;
    } finally {
      await agent.close();
    }
  };

  it('without egress.allow reaches loopback by name, refuses a name that resolves to the metadata address', async () => {
    const refusals: string[] = [];
    const open = egress([], refusals);
    expect(await get(open, 'ok.test', '/open-ok')).toBe('HTTP 200');
    expect(await get(open, 'metadata.test', '/open-metadata')).toBe(
      'egress refused: metadata.test (169.254.169.254) is a link-local or metadata address, not allowed by egress.allow',
    );
    expect(refusals).toEqual(['test']);
    expect(listener.requests.map((r) => r.url)).toEqual(['/open-ok']);
  });

  it('with egress.allow reaches listed names and CIDRs only, checked on the resolved address', async () => {
    const refusals: string[] = [];
    const byName = egress(['ok.test'], refusals);
    expect(await get(byName, 'ok.test', '/listed-name')).toBe('HTTP 200');
    expect(await get(byName, 'other.test', '/unlisted-name')).toBe(
      'egress refused: other.test (127.0.0.1) is not allowed by egress.allow',
    );
    expect(await get(byName, '127.0.0.1', '/unlisted-ip')).toBe(
      'egress refused: 127.0.0.1 is not allowed by egress.allow',
    );
    const byCidr = egress(['127.0.0.0/8'], refusals);
    expect(await get(byCidr, 'other.test', '/listed-cidr')).toBe('HTTP 200');
    expect(await get(byCidr, 'metadata.test', '/cidr-metadata')).toMatch(/^egress refused: metadata\.test/);
    expect(refusals).toEqual(['test', 'test', 'test']);
    expect(listener.requests.map((r) => r.url)).toEqual(['/open-ok', '/listed-name', '/listed-cidr']);
  });

  it('the LLM client goes through it and says why, without the URL or key', async () => {
    const refusals: string[] = [];
    const writer = new CatchUpWriter(
      { url: 'http://metadata.test/v1', model: 'm', apiKey: 'sk-SECRET', timeoutMs: 5000 },
      egress([], refusals),
    );
    const answer = await writer.write('facts', [], 'en');
    expect(answer).toMatchObject({
      source: 'timeline',
      llmError:
        'the LLM endpoint: egress refused: metadata.test (169.254.169.254) is a link-local or metadata address, not allowed by egress.allow',
    });
    expect(refusals).toEqual(['llm']);
  });
});
