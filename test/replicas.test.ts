/**
 * Several replicas on one PostgreSQL: every replica serves the API, exactly one leads (the
 * leader-only work; the SLOs themselves are evaluated by shard, test/shards-replicas.test.ts), and
 * when it dies (kill -9) another takes over within the retry interval.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { type ShinraiProcess, spawnShinrai } from './support/process.js';

const SHOP = fileURLToPath(new URL('../examples/shop', import.meta.url));

async function isLeader(server: ShinraiProcess): Promise<boolean> {
  const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { leader?: boolean };
  return ready.leader === true;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await condition()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe('replicas on PostgreSQL', () => {
  let database: TestDatabase | undefined;
  const servers: ShinraiProcess[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.kill('SIGKILL');
    await database?.drop();
  });

  it('elects exactly one evaluator and fails over when it is killed', async () => {
    database = await createTestDatabase('postgres');
    const env = {
      SHINRAI_EVALUATOR_LEADER_RETRY_SECONDS: '1',
      SHINRAI_EVALUATOR_TICK_SECONDS: '1',
      // The dead leader's shards (its SLOs' statuses) move after this lease, not the default 15 s.
      SHINRAI_EVALUATOR_SHARD_LEASE_SECONDS: '4',
      SHINRAI_EVALUATOR_SHARD_HEARTBEAT_SECONDS: '1',
    };
    const args = ['--db', database.url, '--specs', SHOP, '--anonymous-read'];
    servers.push(await spawnShinrai(args, env), await spawnShinrai(args, env));
    await waitFor(
      async () => (await Promise.all(servers.map(isLeader))).filter(Boolean).length === 1,
      15_000,
    );
    // Stable: still exactly one a few ticks later, and both serve the API.
    await new Promise((r) => setTimeout(r, 2500));
    const leaders = await Promise.all(servers.map(isLeader));
    expect(leaders.filter(Boolean)).toHaveLength(1);
    for (const server of servers) expect((await fetch(`${server.url}/api/v1/slos`)).status).toBe(200);

    const leader = servers[leaders.indexOf(true)]!;
    const follower = servers[leaders.indexOf(false)]!;
    // A follower evaluates nothing: it stays ready and shows how current the leader's statuses are.
    const followerReady = await fetch(`${follower.url}/readyz`);
    expect(followerReady.status).toBe(200);
    expect(((await followerReady.json()) as { evaluation?: unknown }).evaluation).toMatchObject({
      ready: true,
      role: 'follower',
      leaderStale: false,
    });
    await leader.kill('SIGKILL');
    const killedAt = Date.now();
    // The bound: another replica evaluates within 30 s of the leader's death.
    await waitFor(() => isLeader(follower), 30_000);
    // …and really evaluates: statuses get newer than the kill.
    await waitFor(async () => {
      const slo = (await (await fetch(`${follower.url}/api/v1/slos/checkout-availability`)).json()) as {
        status: { evaluatedAt: string }[];
      };
      return slo.status.length > 0 && Date.parse(slo.status[0]!.evaluatedAt) > killedAt;
    }, 30_000);
    const metrics = await (await fetch(`${follower.url}/metrics`)).text();
    expect(metrics).toMatch(/^shinrai_leader 1$/m);
  });
});
