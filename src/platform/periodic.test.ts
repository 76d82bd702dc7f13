import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PeriodicTask } from './periodic.js';

describe('PeriodicTask.runNow', () => {
  it('queues one more run behind a run in flight, shared by every call meanwhile, never two at once', async () => {
    let stored = 0;
    let active = 0;
    let most = 0;
    const release: Array<() => void> = [];
    const task = new PeriodicTask(
      async () => {
        active += 1;
        most = Math.max(most, active);
        const seen = stored;
        await new Promise<void>((resolve) => release.push(resolve));
        active -= 1;
        return seen;
      },
      { intervalMs: 60_000, log: pino({ level: 'silent' }), failure: 'failed' },
    );
    const first = task.runNow();
    stored = 1; // written after the first run read
    const [second, third] = [task.runNow(), task.runNow()];
    expect(second).toBe(third);
    expect(second).not.toBe(first);
    release.shift()!();
    expect(await first).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    release.shift()!();
    expect(await second).toBe(1);
    expect(most).toBe(1);
  });

  it('answers null for a failed run and goes on', async () => {
    let calls = 0;
    const task = new PeriodicTask(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
        return calls;
      },
      { intervalMs: 60_000, log: pino({ level: 'silent' }), failure: 'failed' },
    );
    expect(await task.runNow()).toBeNull();
    expect(await task.runNow()).toBe(2);
  });
});
