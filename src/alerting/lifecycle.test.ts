import { describe, expect, it } from 'vitest';
import { advance, INACTIVE } from './lifecycle.js';

const MIN = 60_000;

describe('advance', () => {
  it('goes inactive → pending → firing after forMs, and resolves when the condition clears', () => {
    let step = advance(INACTIVE, 'holds', 0, 2 * MIN);
    expect(step).toEqual({
      state: { phase: 'pending', pendingSinceMs: 0, firedAtMs: null },
      transition: 'pending',
    });
    step = advance(step.state, 'holds', MIN, 2 * MIN);
    expect(step.transition).toBeUndefined();
    step = advance(step.state, 'holds', 2 * MIN, 2 * MIN);
    expect(step).toEqual({
      state: { phase: 'firing', pendingSinceMs: 0, firedAtMs: 2 * MIN },
      transition: 'firing',
    });
    step = advance(step.state, 'clear', 3 * MIN, 2 * MIN);
    expect(step).toEqual({ state: INACTIVE, transition: 'resolved' });
  });

  it('fires at once without forMs, and cancels a pending alert that clears', () => {
    expect(advance(INACTIVE, 'holds', 5, 0).transition).toBe('firing');
    const pending = advance(INACTIVE, 'holds', 0, MIN).state;
    expect(advance(pending, 'clear', 1, MIN)).toEqual({ state: INACTIVE, transition: 'cancelled' });
  });

  it('holds every phase on missing data: nothing fires, nothing resolves', () => {
    const firing = advance(INACTIVE, 'holds', 0, 0).state;
    expect(advance(firing, 'no-data', MIN, 0)).toEqual({ state: firing });
    const pending = advance(INACTIVE, 'holds', 0, 10 * MIN).state;
    expect(advance(pending, 'no-data', 20 * MIN, 10 * MIN)).toEqual({ state: pending });
    expect(advance(INACTIVE, 'no-data', 0, 0)).toEqual({ state: INACTIVE });
  });
});
