/**
 * The evaluator's pure core: one incremental engine per distinct (storage key, objective spec),
 * the evaluation targets that read them, and replace-semantics updates from re-read rows of
 * `sli_minutes`. No I/O and no clock: the service passes time in and does the reading and writing.
 */

import { DAY_MS } from '../../platform/dates.js';
import {
  type BudgetStatus,
  ColdMinutes,
  calendarPeriodAt,
  combineComposite,
  IncrementalObjective,
  MINUTE_MS,
  type MinuteRange,
  type ObjectiveSpec,
  validateObjective,
} from '../budget/index.js';
import type { Duration } from '../duration.js';
import type { EvaluationPart, EvaluationTarget } from '../evaluation.js';

/** One row of `sli_minutes` as the evaluator reads it: the minute's current counts. */
export interface MinuteRow {
  readonly storageKey: string;
  readonly minuteMs: number;
  readonly good: number;
  readonly total: number;
  /** When the row was last written (change-feed rows); lets a tiered engine skip a re-read it holds. */
  readonly updatedAtMs?: number | undefined;
}

export interface TargetStatus {
  readonly target: EvaluationTarget;
  readonly status: BudgetStatus;
}

/** Rows up to this far ahead of the clock wait inside the engines; later ones wait here. */
export const FUTURE_MINUTES = 60;

/** Late data of longer calendar periods is kept for this long only (a ring of ~8.5 MB per part). */
const MAX_KEPT_PERIOD_MS = 367 * DAY_MS;

/** Parts with the same key share one engine: same stored stream, same objective. */
export function partKey(part: Pick<EvaluationPart, 'storageKey' | 'spec'>): string {
  let key = partKeys.get(part);
  if (key === undefined) {
    key = `${part.storageKey}\u0000${JSON.stringify(part.spec)}`;
    partKeys.set(part, key);
  }
  return key;
}

/** Parts are immutable once built: their keys (a JSON of the spec) are computed once, not per tick. */
const partKeys = new WeakMap<object, string>();

/** The longest range a status covers apart from a calendar period: rolling period, burn windows, one slice. */
export function windowsSpanMs(spec: ObjectiveSpec): number {
  return Math.max(
    spec.window.kind === 'rolling' ? spec.window.windowMs : 0,
    spec.currentBurnWindowMs,
    spec.timeSliceMs ?? MINUTE_MS,
    ...spec.burnWindows.map((w) => w.windowMs),
  );
}

/** An upper bound of a calendar period's length (longest months, DST days), capped at 367 days. */
export function longestPeriodMs(duration: Duration): number {
  const perUnitMs: Record<Duration['unit'], number> = {
    m: MINUTE_MS,
    h: 60 * MINUTE_MS,
    d: DAY_MS,
    w: 7 * DAY_MS,
    M: 31 * DAY_MS,
    Q: 92 * DAY_MS,
    Y: 366 * DAY_MS,
  };
  // A day of slack covers every DST shift the periods may contain.
  const slackMs = duration.unit === 'm' || duration.unit === 'h' ? 0 : DAY_MS;
  return Math.min(duration.count * perUnitMs[duration.unit] + slackMs, MAX_KEPT_PERIOD_MS);
}

/**
 * The first minute a backfill must read so that every minute a status at `nowMs` covers is
 * included: `now −` the longest window, or the calendar period's start when that is earlier.
 */
export function replayStartMs(spec: ObjectiveSpec, nowMs: number): number {
  const nowMinuteMs = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  let startMs = nowMinuteMs - windowsSpanMs(spec);
  if (spec.window.kind === 'calendar') {
    const periodStartMs = calendarPeriodAt(spec.window, nowMs).startMs;
    startMs = Math.min(startMs, Math.floor(periodStartMs / MINUTE_MS) * MINUTE_MS);
  }
  return startMs;
}

/**
 * A target's status from its parts' statuses at one instant: a composite combines them with
 * `combineComposite` (as `evaluateTarget` does), otherwise the single part's status. Undefined when
 * a part has none; throws when the parts cannot be combined. The live path and the history replay
 * both go through here, so their points are the same math.
 */
export function targetStatus(
  target: EvaluationTarget,
  partStatus: (part: EvaluationPart) => BudgetStatus | undefined,
): BudgetStatus | undefined {
  const parts: Array<{ status: BudgetStatus; weight: number; target: number }> = [];
  for (const part of target.parts) {
    const status = partStatus(part);
    if (!status) return undefined;
    parts.push({ status, weight: part.weight, target: part.target });
  }
  return target.slo.composite ? combineComposite(parts) : parts[0]!.status;
}

/**
 * A fresh engine for one part; a calendar part keeps its whole period so late data is never lost.
 * With `hotMinutes` the engine is tiered (see `EvaluationStateOptions`); `phase` spreads its drift
 * rebuilds.
 */
export function newEngine(spec: ObjectiveSpec, hotMinutes?: number, phase = 0): IncrementalObjective {
  return new IncrementalObjective(spec, {
    futureMinutes: FUTURE_MINUTES,
    historyMinutes:
      spec.window.kind === 'calendar' ? longestPeriodMs(spec.window.duration) / MINUTE_MS : undefined,
    hotMinutes,
    rebuildPhase: phase,
  });
}

/** Stored minutes to read before `advance`: `[fromMs, toMs)` of one storage key. */
export interface ColdRead {
  readonly storageKey: string;
  readonly fromMs: number;
  readonly toMs: number;
  /** Ready engines cannot move without it; the others are rebuilds, which may wait a tick. */
  readonly required: boolean;
}

export interface EvaluationStateOptions {
  /**
   * Keep each engine's per-minute counts for only this many minutes behind the clock (default:
   * every window's whole length). Longer windows then read the minutes leaving them, and the
   * ranges they rebuild from, from `sli_minutes` (`coldReads`, `putCold`, `advance`): memory is
   * O(windows) per SLO instead of O(minutes). See docs/evaluation.md#memory.
   */
  readonly hotMinutes?: number | undefined;
}

/**
 * Cold minutes are read ahead in blocks of this many minutes per storage key, ending on a
 * boundary that depends on the key, so keys refill at different ticks instead of all at once.
 */
const COLD_BLOCK_MINUTES = 60;

interface PartState {
  readonly key: string;
  readonly storageKey: string;
  readonly spec: ObjectiveSpec;
  /** Null until the part has been backfilled from the store. */
  engine: IncrementalObjective | null;
  /** Why the engine refused the spec; such a part (and its targets) is never evaluated. */
  readonly failure?: string | undefined;
  /** `phaseOf(key)`, computed once. */
  phase?: number;
  /**
   * Tiered engines: rows written before this (`updated_at`) were committed before the engine's
   * last rebuild read them, so re-reading them from the change feed changes nothing.
   */
  reflectedBeforeMs?: number;
}

export interface TargetChange {
  readonly added: number;
  readonly kept: number;
  readonly removed: number;
  /** Targets whose objective the engine refused, with the reason (each listed once per change). */
  readonly failed: ReadonlyArray<{ readonly id: string; readonly error: string }>;
}

export interface StateStats {
  readonly targets: number;
  readonly parts: number;
  readonly readyParts: number;
  readonly deferredRows: number;
  readonly stateBytes: number;
  readonly droppedLateMinutes: number;
  readonly droppedFutureMinutes: number;
  readonly rejectedSamples: number;
}

/**
 * What the leader keeps in memory between ticks. Per tick: `advanceTo(now)`, `setTargets` when the
 * specs changed, `backfill` every `pending()` storage key, `apply` the change feed, `statuses()`.
 * Every update replaces a minute's counts (`IncrementalObjective.set`), so re-reading a row, or
 * reading it both in a backfill and in the feed, is harmless.
 */
export class EvaluationState {
  private targets: readonly EvaluationTarget[] = [];
  private readonly parts = new Map<string, PartState>();
  private readonly byStorageKey = new Map<string, PartState[]>();
  /** Rows too far ahead of the clock for the engines, by storage key and minute. */
  private readonly deferred = new Map<string, Map<number, { good: number; total: number }>>();
  /** Tiered engines: stored minutes read ahead for their cold windows, by storage key. */
  private readonly cold = new Map<string, ColdMinutes>();
  /** Keys whose cold minutes grew since the last trim (only they can hold minutes no longer needed). */
  private readonly coldTouched = new Set<string>();
  private clockMs = Number.NaN;
  private readonly hotMinutes: number | undefined;
  /** `updated_at` of the row `apply` is handing on (undefined for rows without one). */
  private current: number | undefined;

  constructor(options: EvaluationStateOptions = {}) {
    this.hotMinutes = options.hotMinutes;
  }

  /** The instant the engines are at; NaN before the first `advanceTo`. */
  get nowMs(): number {
    return this.clockMs;
  }

  /**
   * Moves every engine to `nowMs` (never back) and hands them deferred rows now in reach. With
   * tiered engines, same as `setClock(nowMs)` then `advance()`: the cold reads must be loaded.
   */
  advanceTo(nowMs: number): void {
    this.setClock(nowMs);
    this.advance();
  }

  /** Sets the clock the engines move to on `advance` (never back); `coldReads` is relative to it. */
  setClock(nowMs: number): void {
    if (nowMs < this.clockMs) throw new RangeError(`the clock is at ${this.clockMs} and cannot go back`);
    this.clockMs = nowMs;
  }

  /**
   * Stored minutes the tiered engines need before `advance`: the minutes leaving their cold
   * windows up to the clock (read ahead to a block boundary), then the ranges of engines waiting
   * for a rebuild. Minutes already loaded are left out. Empty without tiered engines.
   */
  coldReads(): ColdRead[] {
    if (this.hotMinutes === undefined || Number.isNaN(this.clockMs)) return [];
    const edges: ColdRead[] = [];
    const rebuilds: ColdRead[] = [];
    const clockMin = Math.floor(this.clockMs / MINUTE_MS);
    const coldEnd = clockMin - this.hotMinutes;
    for (const [storageKey, parts] of this.byStorageKey) {
      // What ready engines need to move at all, and what waiting ones need to become ready.
      const required: MinuteRange[] = [];
      const waiting: MinuteRange[] = [];
      for (const part of parts) {
        if (part.engine)
          (part.engine.ready ? required : waiting).push(...part.engine.coldReads(this.clockMs));
      }
      if (!required.length && !waiting.length) continue;
      const cache = this.cold.get(storageKey) ?? new ColdMinutes();
      if (!waiting.length && cache.holds(required)) continue;
      const offset = keyOffset(storageKey);
      for (const range of cache.missing(required)) {
        // A window's edge is read on to the key's next block boundary (while cold), so the
        // next ticks find it loaded; keys' boundaries differ, so they do not all read at once.
        const toBoundary = COLD_BLOCK_MINUTES - mod(range.from - offset, COLD_BLOCK_MINUTES);
        const to = Math.max(range.to, Math.min(range.from + toBoundary, coldEnd));
        edges.push({ storageKey, fromMs: range.from * MINUTE_MS, toMs: to * MINUTE_MS, required: true });
      }
      for (const range of cache.missing(waiting))
        rebuilds.push({
          storageKey,
          fromMs: range.from * MINUTE_MS,
          toMs: range.to * MINUTE_MS,
          required: false,
        });
    }
    return [...edges, ...rebuilds];
  }

  /** Keeps, per storage key, only the loaded minutes the next block of edges will read. */
  private trimCold(): void {
    for (const storageKey of this.coldTouched) {
      const cache = this.cold.get(storageKey);
      if (!cache) continue;
      const keep: MinuteRange[] = [];
      for (const part of this.byStorageKey.get(storageKey) ?? [])
        if (part.engine) keep.push(...part.engine.coldReadAhead(this.clockMs, COLD_BLOCK_MINUTES));
      if (keep.length) cache.retain(keep, 2 * COLD_BLOCK_MINUTES);
      else this.cold.delete(storageKey);
    }
    this.coldTouched.clear();
  }

  /** Loads stored rows of `read`'s range (rows outside it are ignored) for `advance`. */
  putCold(read: ColdRead, rows: Iterable<MinuteRow>): void {
    let cache = this.cold.get(read.storageKey);
    if (!cache) {
      cache = new ColdMinutes();
      this.cold.set(read.storageKey, cache);
    }
    const range = { from: read.fromMs / MINUTE_MS, to: read.toMs / MINUTE_MS };
    cache.put(range, coldRows(rows));
    this.coldTouched.add(read.storageKey);
  }

  /**
   * Moves every engine to the clock and hands them deferred rows now in reach. A tiered engine
   * waiting for a rebuild rebuilds when its ranges are loaded (else it stays not ready and has
   * no status); any other tiered engine needs its cold reads loaded, or this throws.
   * `reflectedBeforeMs`: every row stamped (`updated_at`) before it was committed before the cold
   * reads were made — the change feed's cursor, or the clock when later, minus the feed's margin.
   */
  advance(reflectedBeforeMs?: number): void {
    const nowMs = this.clockMs;
    for (const part of this.parts.values()) {
      const engine = part.engine;
      if (!engine) continue;
      const waiting = !engine.ready;
      engine.advanceTo(nowMs, this.cold.get(part.storageKey));
      if (waiting && engine.ready && reflectedBeforeMs !== undefined)
        part.reflectedBeforeMs = reflectedBeforeMs;
    }
    this.trimCold();
    const horizonMs = this.horizonMs();
    for (const [storageKey, minutes] of this.deferred) {
      for (const [minuteMs, counts] of minutes) {
        if (minuteMs >= horizonMs) continue;
        minutes.delete(minuteMs);
        this.setReady(storageKey, minuteMs, counts.good, counts.total);
      }
      if (minutes.size === 0) this.deferred.delete(storageKey);
    }
  }

  /**
   * Replaces the targets. A part whose storage key and spec are unchanged keeps its engine; a new
   * one waits for a backfill (see `pending`).
   */
  setTargets(targets: readonly EvaluationTarget[]): TargetChange {
    const before = new Set(this.parts.keys());
    const next = new Map<string, PartState>();
    const failed: Array<{ id: string; error: string }> = [];
    let added = 0;
    for (const target of targets) {
      for (const part of target.parts) {
        const key = partKey(part);
        let state = next.get(key) ?? this.parts.get(key);
        if (!state) {
          const issues = validateObjective(part.spec);
          const failure = issues.length
            ? issues.map((i) => `${i.field}: ${i.message}`).join('; ')
            : undefined;
          state = { key, storageKey: part.storageKey, spec: part.spec, engine: null, failure };
        }
        if (!next.has(key)) {
          next.set(key, state);
          if (!before.has(key)) added++;
        }
        if (state.failure) failed.push({ id: target.id, error: state.failure });
      }
    }
    const kept = [...next.keys()].filter((key) => before.has(key)).length;
    this.parts.clear();
    this.byStorageKey.clear();
    for (const [key, state] of next) {
      this.parts.set(key, state);
      const list = this.byStorageKey.get(state.storageKey);
      if (list) list.push(state);
      else this.byStorageKey.set(state.storageKey, [state]);
    }
    for (const storageKey of this.deferred.keys())
      if (!this.byStorageKey.has(storageKey)) this.deferred.delete(storageKey);
    this.targets = targets;
    return { added, kept, removed: before.size - kept, failed };
  }

  /** Every target, evaluated or not. */
  currentTargets(): readonly EvaluationTarget[] {
    return this.targets;
  }

  /** Ids of every target, evaluated or not (a status of any other id belongs to a removed SLO). */
  targetIds(): string[] {
    return this.targets.map((t) => t.id);
  }

  /** Storage keys with parts waiting for a backfill, and the first minute (ms) each must be read from. */
  pending(): Array<{ storageKey: string; fromMs: number }> {
    this.requireClock();
    const out: Array<{ storageKey: string; fromMs: number }> = [];
    for (const [storageKey, parts] of this.byStorageKey) {
      let fromMs = Number.POSITIVE_INFINITY;
      for (const part of parts) {
        if (!part.engine && !part.failure) fromMs = Math.min(fromMs, this.backfillStartMs(part.spec));
      }
      if (fromMs !== Number.POSITIVE_INFINITY) out.push({ storageKey, fromMs });
    }
    return out;
  }

  /**
   * Where a new part's backfill reads from: its whole reach, or only the hot minutes when engines
   * are tiered (the cold windows are rebuilt through `coldReads`).
   */
  private backfillStartMs(spec: ObjectiveSpec): number {
    const fromMs = replayStartMs(spec, this.clockMs);
    if (this.hotMinutes === undefined) return fromMs;
    const hotFromMs = (Math.floor(this.clockMs / MINUTE_MS) - this.hotMinutes) * MINUTE_MS;
    return Math.max(fromMs, hotFromMs);
  }

  /**
   * Fills the waiting parts of `storageKey` from its stored rows (at least from the `pending`
   * start): each new engine starts its clock now and takes the rows as late data, which costs
   * O(rows × windows). A calendar part keeps its whole period (`newEngine`), so none is lost.
   */
  backfill(storageKey: string, rows: readonly MinuteRow[]): void {
    this.requireClock();
    const horizonMs = this.horizonMs();
    const nowMinuteMs = Math.floor(this.clockMs / MINUTE_MS) * MINUTE_MS;
    let filled = false;
    for (const part of this.byStorageKey.get(storageKey) ?? []) {
      if (part.engine || part.failure) continue;
      const engine = newEngine(part.spec, this.hotMinutes, phaseOf(part.key));
      engine.advanceTo(this.clockMs);
      // Rows read for another part with a longer reach are older than this engine keeps: skip them.
      const fromMs = nowMinuteMs - engine.historyMs;
      for (const row of rows) {
        if (row.minuteMs >= fromMs && row.minuteMs < horizonMs) engine.set(row.minuteMs, row.good, row.total);
      }
      part.engine = engine;
      filled = true;
    }
    if (filled) this.apply(rows.filter((row) => row.minuteMs >= horizonMs));
  }

  /** Sets each row's counts into every ready part that reads its storage key. Returns rows used. */
  apply(rows: Iterable<MinuteRow>): number {
    this.requireClock();
    const horizonMs = this.horizonMs();
    let used = 0;
    for (const row of rows) {
      this.current = row.updatedAtMs;
      if (!this.byStorageKey.has(row.storageKey)) continue;
      used++;
      if (row.minuteMs >= horizonMs) {
        let minutes = this.deferred.get(row.storageKey);
        if (!minutes) {
          minutes = new Map();
          this.deferred.set(row.storageKey, minutes);
        }
        minutes.set(row.minuteMs, { good: row.good, total: row.total });
        continue;
      }
      this.deferred.get(row.storageKey)?.delete(row.minuteMs);
      this.setReady(row.storageKey, row.minuteMs, row.good, row.total);
    }
    return used;
  }

  /** Every part's key. */
  partKeys(): string[] {
    return [...this.parts.keys()];
  }

  /** Keys of parts without an engine yet (waiting for a backfill or a checkpoint), with their storage keys. */
  partsWithoutEngine(): Array<{ key: string; storageKey: string }> {
    const out: Array<{ key: string; storageKey: string }> = [];
    for (const part of this.parts.values())
      if (!part.engine && !part.failure) out.push({ key: part.key, storageKey: part.storageKey });
    return out;
  }

  /**
   * Gives a part without an engine the engine saved in `checkpoint` (tiered engines only), which
   * `advance` then moves on from its clock. Refused (false) when it does not fit the part's
   * engine, or is older than the clock by more than an hour (stepping that far costs more than
   * the backfill).
   */
  restore(key: string, checkpoint: Float64Array, clockMs: number, reflectedBeforeMs: number | null): boolean {
    this.requireClock();
    const part = this.parts.get(key);
    if (!part || part.engine || part.failure || this.hotMinutes === undefined) return false;
    if (clockMs > this.clockMs || this.clockMs - clockMs > 60 * MINUTE_MS) return false;
    const engine = newEngine(part.spec, this.hotMinutes, phaseOf(part.key));
    if (!engine.isTiered) return false;
    try {
      engine.restore(checkpoint);
    } catch {
      return false;
    }
    part.engine = engine;
    if (reflectedBeforeMs !== null) part.reflectedBeforeMs = reflectedBeforeMs;
    return true;
  }

  /**
   * Ready tiered engines to save, for parts `pick` chooses by their phase (`phaseOf`, in [0, 1)):
   * their key, state and place in the change feed (see `restore`).
   */
  checkpoints(pick: (phase: number) => boolean): Array<{
    key: string;
    storageKey: string;
    clockMs: number;
    state: Float64Array;
    reflectedBeforeMs: number | null;
  }> {
    const out = [];
    for (const part of this.parts.values()) {
      part.phase ??= phaseOf(part.key);
      if (!part.engine?.isTiered || !pick(part.phase)) continue;
      const state = part.engine.checkpoint();
      if (!state) continue;
      out.push({
        key: part.key,
        storageKey: part.storageKey,
        clockMs: this.clockMs,
        state,
        reflectedBeforeMs: part.reflectedBeforeMs ?? null,
      });
    }
    return out;
  }

  /** Tiered engines waiting for a rebuild: their targets have no status until it is loaded. */
  waitingParts(): number {
    let waiting = 0;
    for (const part of this.parts.values()) if (part.engine && !part.engine.ready) waiting++;
    return waiting;
  }

  /**
   * The status of every target whose parts are all ready, at the clock; a composite combines its
   * parts as `evaluateTarget` does. `errors` lists targets that could not be combined.
   */
  statuses(): { statuses: TargetStatus[]; errors: Array<{ id: string; error: string }> } {
    this.requireClock();
    const byPart = new Map<string, BudgetStatus>();
    const statuses: TargetStatus[] = [];
    const errors: Array<{ id: string; error: string }> = [];
    const partStatus = (part: EvaluationPart): BudgetStatus | undefined => {
      const key = partKey(part);
      let status = byPart.get(key);
      if (!status) {
        const engine = this.parts.get(key)?.engine;
        if (!engine?.ready) return undefined;
        status = engine.status(this.clockMs);
        byPart.set(key, status);
      }
      return status;
    };
    for (const target of this.targets) {
      // Each target on its own: whatever throws for one is its error, not the tick's.
      try {
        if (!target.parts.every((part) => this.parts.get(partKey(part))?.engine?.ready)) continue;
        const status = targetStatus(target, partStatus);
        if (status) statuses.push({ target, status });
      } catch (error) {
        errors.push({ id: target.id, error: (error as Error).message });
      }
    }
    return { statuses, errors };
  }

  stats(): StateStats {
    let readyParts = 0;
    let stateBytes = 0;
    let droppedLateMinutes = 0;
    let droppedFutureMinutes = 0;
    let rejectedSamples = 0;
    for (const { engine } of this.parts.values()) {
      if (!engine) continue;
      if (engine.ready) readyParts++;
      stateBytes += engine.stateBytes();
      droppedLateMinutes += engine.droppedLateMinutes;
      droppedFutureMinutes += engine.droppedFutureMinutes;
      rejectedSamples += engine.rejectedSamples;
    }
    for (const cache of this.cold.values()) stateBytes += cache.bytes;
    let deferredRows = 0;
    for (const minutes of this.deferred.values()) deferredRows += minutes.size;
    return {
      targets: this.targets.length,
      parts: this.parts.size,
      readyParts,
      deferredRows,
      stateBytes,
      droppedLateMinutes,
      droppedFutureMinutes,
      rejectedSamples,
    };
  }

  private setReady(storageKey: string, minuteMs: number, good: number, total: number): void {
    let invalidated = false;
    const stampMs = this.current;
    for (const part of this.byStorageKey.get(storageKey) ?? []) {
      const engine = part.engine;
      if (!engine) continue;
      // A re-read of a row the last rebuild already read: the feed's margin hands it back.
      if (
        stampMs !== undefined &&
        stampMs < (part.reflectedBeforeMs ?? Number.NEGATIVE_INFINITY) &&
        engine.isCold(minuteMs)
      )
        continue;
      const wasReady = engine.ready;
      engine.set(minuteMs, good, total);
      if (wasReady && !engine.ready) invalidated = true;
    }
    // A cold minute changed: what was read ahead for this key may be stale, and the rebuild
    // re-reads it all.
    if (invalidated) this.cold.delete(storageKey);
  }

  /** First minute (ms) the engines do not hold yet. */
  private horizonMs(): number {
    return (Math.floor(this.clockMs / MINUTE_MS) + FUTURE_MINUTES) * MINUTE_MS;
  }

  private requireClock(): void {
    if (Number.isNaN(this.clockMs)) throw new RangeError('call advanceTo(now) first');
  }
}

/** a mod n, never negative. */
function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** A stable number in [0, 2^32) from a string (FNV-1a), to spread work by key. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Where a storage key's read-ahead blocks end, in minutes past the hour. */
function keyOffset(storageKey: string): number {
  return hash32(storageKey) % COLD_BLOCK_MINUTES;
}

/** A part's place in its cold windows' drift-rebuild cycle, in [0, 1); also spreads its checkpoints. */
export function phaseOf(partKeyText: string): number {
  return hash32(partKeyText) / 2 ** 32;
}

function* coldRows(rows: Iterable<MinuteRow>) {
  for (const row of rows) yield { minute: row.minuteMs / MINUTE_MS, good: row.good, total: row.total };
}
