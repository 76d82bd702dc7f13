import { describe, expect, it } from 'vitest';
import { ownedByOtherTeams } from './teams';

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
