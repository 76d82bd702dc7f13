import { describe, expect, it } from 'vitest';
import { rolesNeedEmail, slackUserGrant, slackUserRole } from './roles.js';

describe('slackUserRole', () => {
  const users = {
    U0ALICE: { role: 'admin' },
    'bob@example.com': { role: 'editor', teams: ['team-payments'] },
    '*': { role: 'viewer' },
  } as const;

  it('maps by user ID first, then e-mail (any case), then "*"', () => {
    expect(slackUserRole(users, 'U0ALICE', 'bob@example.com')).toBe('admin');
    expect(slackUserRole(users, 'U0BOB', 'Bob@Example.com')).toBe('editor');
    expect(slackUserRole(users, 'U0CAROL', 'carol@example.com')).toBe('viewer');
  });

  it('leaves a user unmapped when nothing names them and there is no "*"', () => {
    expect(slackUserRole({ U0ALICE: { role: 'admin' } }, 'U0CAROL', 'carol@example.com')).toBeUndefined();
    expect(slackUserRole({}, 'toString')).toBeUndefined();
  });

  it('needs the e-mail only when the ID is not mapped and some key is an address', () => {
    expect(rolesNeedEmail(users, 'U0ALICE')).toBe(false);
    expect(rolesNeedEmail(users, 'U0BOB')).toBe(true);
    expect(rolesNeedEmail({ U0ALICE: { role: 'admin' } }, 'U0BOB')).toBe(false);
  });
});

describe('slackUserGrant', () => {
  it("gives an entry's teams with its role", () => {
    const users = {
      'bob@example.com': { role: 'editor', teams: ['team-payments'] },
      '*': { role: 'viewer' },
    } as const;
    expect(slackUserGrant(users, 'U0BOB', 'BOB@example.com')).toEqual({
      role: 'editor',
      teams: ['team-payments'],
    });
    expect(slackUserGrant(users, 'U0CAROL')).toEqual({ role: 'viewer' });
  });
});
