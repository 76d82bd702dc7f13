import { describe, expect, it } from 'vitest';
import { ownedByOtherTeams, owningTeams, silenceOwnedByOtherTeams } from './teams';

describe('ownedByOtherTeams', () => {
  const who = { readOnly: { services: ['search'], slos: ['search-latency'] } };

  it('names the services and SLOs of a record another team owns', () => {
    expect(ownedByOtherTeams(who, { services: ['checkout', 'search'], slos: ['search-latency'] })).toEqual([
      'search',
      'search-latency',
    ]);
  });

  it('leaves records of the caller’s teams, and callers without a scope, editable', () => {
    expect(ownedByOtherTeams(who, { services: ['checkout'], slos: [] })).toEqual([]);
    expect(ownedByOtherTeams({}, { services: ['search'], slos: [] })).toEqual([]);
    expect(ownedByOtherTeams(undefined, { services: ['search'], slos: [] })).toEqual([]);
  });
});

describe('silenceOwnedByOtherTeams', () => {
  const who = { readOnly: { services: ['search', 'login'], slos: ['search-latency'] } };

  it('counts exact service and slo matchers, as the API does', () => {
    expect(silenceOwnedByOtherTeams(who, [{ label: 'slo', value: 'search-latency' }])).toEqual([
      'search-latency',
    ]);
    expect(silenceOwnedByOtherTeams(who, [{ label: 'service', value: 'checkout' }])).toEqual([]);
  });

  it('treats a silence without them (or with only regular expressions) as touching every team', () => {
    expect(silenceOwnedByOtherTeams(who, [{ label: 'tier', value: 'page' }])).toEqual(['search', 'login']);
    expect(silenceOwnedByOtherTeams(who, [{ label: 'service', value: 'check.*', regex: true }])).toEqual([
      'search',
      'login',
    ]);
    expect(silenceOwnedByOtherTeams({}, [{ label: 'tier', value: 'page' }])).toEqual([]);
  });
});

describe('owningTeams', () => {
  it('names the teams owning any of the services', () => {
    const teams = [
      { team: 'team-discovery', services: ['search'] },
      { team: 'team-payments', services: ['checkout'] },
    ];
    expect(owningTeams(teams, ['search', 'search-latency'])).toEqual(['team-discovery']);
    expect(owningTeams(teams, ['nobody'])).toEqual([]);
  });
});
