import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canWrite, ownersOf, readScopeOf, servicesOfSlos } from './teams.js';

const slo = (id: string, service: string, owner?: string) => ({ id, service, shinrai: { owner } });
const catalog = {
  slos: [
    slo('checkout-availability', 'checkout', 'payments'),
    slo('checkout-latency', 'checkout', 'payments'),
    slo('search-latency', 'search', 'search'),
    slo('shared-availability', 'shared', 'payments'),
    slo('shared-latency', 'shared', 'search'),
    slo('orphan-availability', 'orphan'),
  ],
};

describe('ownersOf', () => {
  it('takes owners from the SLOs, several when SLOs disagree, and config extends them', () => {
    const owners = ownersOf(catalog, { search: { services: ['checkout', 'extra'] } });
    expect(Object.fromEntries(owners)).toEqual({
      checkout: ['payments', 'search'],
      search: ['search'],
      shared: ['payments', 'search'],
      extra: ['search'],
    });
  });

  it('maps SLO ids to their services and ignores unknown ids', () => {
    expect(servicesOfSlos(catalog, ['search-latency', 'nope'])).toEqual(['search']);
    expect(servicesOfSlos(catalog, ['checkout-latency/p99'])).toEqual(['checkout']);
  });
});

describe('canWrite', () => {
  const owners = ownersOf(catalog);
  const cases: [string, { role: 'viewer' | 'editor' | 'admin'; teams?: string[] }, string[], boolean][] = [
    ['admin of no team', { role: 'admin' }, ['checkout'], true],
    ['viewer', { role: 'viewer', teams: ['payments'] }, ['checkout'], false],
    ['viewer on nothing', { role: 'viewer' }, [], false],
    ['unscoped editor', { role: 'editor' }, ['checkout', 'search'], true],
    ['editor with empty teams', { role: 'editor', teams: [] }, ['search'], true],
    ['editor of the owner', { role: 'editor', teams: ['payments'] }, ['checkout'], true],
    ['editor of another team', { role: 'editor', teams: ['search'] }, ['checkout'], false],
    ['editor of one owner of a shared service', { role: 'editor', teams: ['search'] }, ['shared'], true],
    [
      'editor touching an unowned service',
      { role: 'editor', teams: ['search'] },
      ['orphan', 'unknown'],
      true,
    ],
    ['editor touching nothing', { role: 'editor', teams: ['search'] }, [], true],
    ['editor touching own and foreign', { role: 'editor', teams: ['search'] }, ['search', 'checkout'], false],
  ];
  it.each(cases)('%s', (_name, principal, services, allowed) => {
    expect(canWrite(principal, services, owners).ok).toBe(allowed);
  });

  it('names the team, the service and the caller’s teams when it refuses', () => {
    expect(canWrite({ role: 'editor', teams: ['search'] }, ['search', 'checkout'], owners)).toEqual({
      ok: false,
      error: 'this needs editor rights on team payments (service checkout); your teams: search',
      team: { service: 'checkout', owners: ['payments'], teams: ['search'] },
    });
  });

  const team = fc.constantFrom('a', 'b', 'c');
  const service = fc.constantFrom('s1', 's2', 's3', 's4');
  const ownersArb = fc
    .dictionary(service, fc.uniqueArray(team, { minLength: 1 }))
    .map((d) => new Map(Object.entries(d)));

  it('lets an admin write anything and a viewer nothing', () => {
    fc.assert(
      fc.property(ownersArb, fc.array(service), fc.array(team), (owners, services, teams) => {
        expect(canWrite({ role: 'admin', teams }, services, owners).ok).toBe(true);
        expect(canWrite({ role: 'viewer', teams }, services, owners).ok).toBe(false);
      }),
    );
  });

  it("lets an editor of team A write iff every owned service it touches is one of A's", () => {
    fc.assert(
      fc.property(ownersArb, fc.array(service), team, (owners, services, a) => {
        const expected = services.every((s) => !owners.get(s)?.length || owners.get(s)?.includes(a));
        expect(canWrite({ role: 'editor', teams: [a] }, services, owners).ok).toBe(expected);
      }),
    );
  });
});

describe('readScopeOf', () => {
  const owners = ownersOf(catalog);
  it('reads everything as an admin or without teams', () => {
    expect(readScopeOf({ role: 'admin', teams: ['search'] }, owners)).toBeUndefined();
    expect(readScopeOf({ role: 'editor' }, owners)).toBeUndefined();
    expect(readScopeOf({ role: 'viewer', teams: [] }, owners)).toBeUndefined();
    expect(readScopeOf(undefined, owners)).toBeUndefined();
  });

  const cases: [string, string[], boolean][] = [
    ['its own service', ['search'], true],
    ['another team’s service', ['checkout'], false],
    ['a service it shares with another team', ['shared'], true],
    ['its own and another team’s', ['checkout', 'search'], true],
    ['another team’s and an unowned one', ['checkout', 'orphan'], false],
    ['unowned and unknown services', ['orphan', 'unknown'], true],
    ['nothing', [], true],
  ];
  it.each(cases)('a viewer of team search sees a record on %s: %s', (_name, services, seen) => {
    expect(readScopeOf({ role: 'viewer', teams: ['search'] }, owners)?.sees(services)).toBe(seen);
  });

  it('keys the scope by the sorted team set, whatever the role', () => {
    const a = readScopeOf({ role: 'viewer', teams: ['search', 'payments'] }, owners);
    const b = readScopeOf({ role: 'editor', teams: ['payments', 'search', 'search'] }, owners);
    expect(a?.key).toBe(b?.key);
    expect(a?.key).not.toBe(readScopeOf({ role: 'viewer', teams: ['search'] }, owners)?.key);
  });
});
