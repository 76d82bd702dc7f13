/**
 * One alert's lifecycle (pure): inactive → pending → firing → resolved (→ inactive). The live
 * evaluator and the backtest step through the same function, so a backtest shows exactly what
 * the live alerts would have done. Missing data holds the state: it neither fires nor resolves.
 */

export type AlertPhase = 'inactive' | 'pending' | 'firing';

export interface AlertState {
  readonly phase: AlertPhase;
  /** When the condition started to hold (pending and firing). */
  readonly pendingSinceMs: number | null;
  readonly firedAtMs: number | null;
}

export const INACTIVE: AlertState = { phase: 'inactive', pendingSinceMs: null, firedAtMs: null };

/** What the rule's condition says at one instant. */
export type Observation = 'holds' | 'clear' | 'no-data';

export type Transition = 'pending' | 'firing' | 'resolved' | 'cancelled';

export interface Step {
  readonly state: AlertState;
  /** Set when the phase changed: `resolved` ends a firing alert, `cancelled` a pending one. */
  readonly transition?: Transition | undefined;
}

export function advance(state: AlertState, observation: Observation, atMs: number, forMs: number): Step {
  if (observation === 'no-data') return { state };
  if (observation === 'clear') {
    if (state.phase === 'firing') return { state: INACTIVE, transition: 'resolved' };
    if (state.phase === 'pending') return { state: INACTIVE, transition: 'cancelled' };
    return { state };
  }
  if (state.phase === 'firing') return { state };
  const pendingSinceMs = state.pendingSinceMs ?? atMs;
  if (atMs - pendingSinceMs >= forMs)
    return { state: { phase: 'firing', pendingSinceMs, firedAtMs: atMs }, transition: 'firing' };
  return state.phase === 'pending'
    ? { state }
    : { state: { phase: 'pending', pendingSinceMs, firedAtMs: null }, transition: 'pending' };
}
