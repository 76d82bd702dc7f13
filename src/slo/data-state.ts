/**
 * Whether an SLO's data is current. Pushed data has no such state (a quiet service is just
 * quiet); data Shinrai pulls (Prometheus) does: when the pull falls behind, the SLO says since
 * when it has no data instead of computing a status from a gap.
 */
export interface DataState {
  /** Where the data comes from, e.g. `prometheus:default` or `prometheus:<DataSource>`. */
  readonly source: string;
  /** ok: current. waiting: the first load has not finished. no-data: nothing since `since`. */
  readonly state: 'ok' | 'waiting' | 'no-data';
  /** ISO time: the end of the data stored (no-data), absent otherwise. */
  readonly since?: string | undefined;
  /** The last pull failed and is being retried. */
  readonly retrying: boolean;
  readonly failures: number;
  readonly lastError?: string | undefined;
}

const SEVERITY: Record<DataState['state'], number> = { ok: 0, waiting: 1, 'no-data': 2 };

/** The least current of several states (a composite SLO is only as current as its oldest part). */
export function worstState(states: readonly DataState[]): DataState | undefined {
  let worst: DataState | undefined;
  for (const s of states)
    if (
      !worst ||
      SEVERITY[s.state] > SEVERITY[worst.state] ||
      (s.state === worst.state && (s.since ?? '') < (worst.since ?? ''))
    )
      worst = s;
  return worst;
}
