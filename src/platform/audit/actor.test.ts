import { describe, expect, it } from 'vitest';
import { actorOf, cliActor, slackActor } from './actor.js';

describe('actorOf', () => {
  const request = { ip: '10.0.0.7', id: 'req-1' };

  it('names a token by its name and id', () => {
    expect(actorOf({ ...request, principal: { tokenId: 'abc123', name: 'ci', role: 'editor' } })).toEqual({
      actor: 'ci',
      credential: 'token:abc123',
      role: 'editor',
      clientAddress: '10.0.0.7',
      requestId: 'req-1',
    });
  });

  it('names an SSO session by the user’s e-mail and its subject', () => {
    expect(
      actorOf({
        ...request,
        principal: {
          tokenId: 'session-9',
          name: 'Alice',
          role: 'admin',
          kind: 'session',
          subject: 'sub-42',
          email: 'alice@example.com',
        },
      }),
    ).toMatchObject({ actor: 'alice@example.com', credential: 'session:sub-42', role: 'admin' });
  });

  it('answers anonymous without a principal', () => {
    expect(actorOf(request)).toMatchObject({ actor: 'anonymous', credential: 'anonymous', role: null });
  });

  it('names Slack users and CLI users by their own credentials', () => {
    expect(slackActor({ id: 'U1', name: 'Bob (U1)' })).toMatchObject({
      actor: 'Bob (U1)',
      credential: 'slack:U1',
    });
    expect(slackActor({ id: 'U1' }).actor).toBe('U1');
    const cli = cliActor();
    expect(cli.credential).toBe(`cli:${cli.actor}`);
    expect(cli.actor.length).toBeGreaterThan(0);
  });
});
