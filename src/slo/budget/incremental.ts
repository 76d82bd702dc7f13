import { AdjustmentSchedule, MinuteExclusion } from './adjustments.js';
import {
  assembleStatus,
  isValidSample,
  type PeriodAggregate,
  type RangeAggregate,
  SLICE_EXCLUDED,
  SLICE_MISSING,
  sliceBadness,
  windowPlan,
} from './aggregate.js';
import { CalendarPeriods } from './calendar.js';
import { type ColdMinutes, type MinuteRange, mergeRanges } from './cold-minutes.js';
import { MINUTE_MS, minuteCeil, minuteFloor } from './math.js';
import type { BudgetStatus, ObjectiveSpec } from './types.js';
import { assertValidObjective } from './validate.js';

export interface IncrementalOptions {
  /** How far ahead of the clock (in minutes) samples are kept until the clock reaches them; default 60. */
  futureMinutes?: number;
  /**
   * Keep at least this many minutes behind the clock (default: the longest window). A calendar
   * window otherwise drops late data of the current period older than its longest burn window;
   * a caller that must accept it (the evaluator re-reading a store) passes the longest period.
   */
  historyMinutes?: number;
  /**
   * Keep per-minute counts in memory for only this many minutes behind the clock (default: the
   * whole history, so nothing is ever read back). A window longer than that is *cold*: the minutes
   * leaving it, and the ranges it is rebuilt from, are read from a `ColdMinutes` the caller loads
   * from storage first (`coldReads` lists them). Memory is then O(hotMinutes + windows), not
   * O(history). At least one slice.
   */
  hotMinutes?: number;
  /**
   * Where in its cycle each cold window's drift rebuild starts, in [0, 1) (default 0): engines
   * given different phases rebuild at different minutes instead of all at once.
   */
  rebuildPhase?: number;
}

/** A tiered engine whose clock jumps further than this rebuilds its cold windows instead of stepping them. */
const MAX_COLD_STEP_MINUTES = 60;

/**
 * A cold row this much older than the history still marks the engine for a rebuild: a window may
 * have subtracted the stored value while the row's change was on its way (see `write`).
 */
const LATE_REBUILD_MINUTES = 1440;

/** First number of a `checkpoint`: bump it when the layout changes (an old one is then refused). */
const CHECKPOINT_FORMAT = 1;

/** Neumaier-compensated running sum: adding and subtracting fractional counts does not drift. */
class CompensatedSum {
  private sum = 0;
  private compensation = 0;

  add(x: number): void {
    const t = this.sum + x;
    if (Math.abs(this.sum) >= Math.abs(x)) this.compensation += this.sum - t + x;
    else this.compensation += x - t + this.sum;
    this.sum = t;
  }

  get value(): number {
    return this.sum + this.compensation;
  }

  reset(): void {
    this.sum = 0;
    this.compensation = 0;
  }

  save(out: number[]): void {
    out.push(this.sum, this.compensation);
  }

  load(from: Reader): void {
    this.sum = from.next();
    this.compensation = from.next();
  }
}

/** Reads a checkpoint's numbers in order. */
class Reader {
  private at = 0;
  constructor(private readonly data: Float64Array) {}

  next(): number {
    if (this.at >= this.data.length) throw new RangeError('the checkpoint is truncated');
    return this.data[this.at++]!;
  }

  rest(count: number): Float64Array {
    if (this.at + count !== this.data.length) throw new RangeError('the checkpoint has the wrong length');
    const out = this.data.subarray(this.at, this.at + count);
    this.at += count;
    return out;
  }
}

/**
 * Running sums over one range. Each float sum has a count of nonzero contributions, so a sum whose
 * contributions have all left snaps back to exactly 0 (a burn rate of exactly 0, not 1e-17).
 */
class RunningAggregate {
  private readonly good = new CompensatedSum();
  private readonly bad = new CompensatedSum();
  private readonly total = new CompensatedSum();
  private readonly badness = new CompensatedSum();
  private goodMinutes = 0;
  private badMinutes = 0;
  private badSlices = 0;
  dataMinutes = 0;
  presentSlices = 0;
  missingSlices = 0;

  /** `events`: keep event sums (Occurrences); otherwise only count minutes with data (coverage). */
  constructor(private readonly events: boolean) {}

  /** Adds (sign 1) or removes (sign -1) one minute's counts. */
  minute(good: number, total: number, sign: 1 | -1): void {
    if (!(total > 0)) return;
    this.dataMinutes += sign;
    if (!this.events) return;
    if (this.dataMinutes === 0) this.total.reset();
    else this.total.add(sign * total);
    if (good > 0) {
      this.goodMinutes += sign;
      if (this.goodMinutes === 0) this.good.reset();
      else this.good.add(sign * good);
    }
    const bad = total - good;
    if (bad > 0) {
      this.badMinutes += sign;
      if (this.badMinutes === 0) this.bad.reset();
      else this.bad.add(sign * bad);
    }
  }

  /** Adds or removes one classified slice (a badness, SLICE_MISSING or SLICE_EXCLUDED). */
  slice(code: number, sign: 1 | -1): void {
    if (code === SLICE_EXCLUDED) return;
    if (code === SLICE_MISSING) {
      this.missingSlices += sign;
      return;
    }
    this.presentSlices += sign;
    if (code > 0) {
      this.badSlices += sign;
      if (this.badSlices === 0) this.badness.reset();
      else this.badness.add(sign * code);
    }
  }

  reset(): void {
    for (const sum of [this.good, this.bad, this.total, this.badness]) sum.reset();
    this.goodMinutes = 0;
    this.badMinutes = 0;
    this.badSlices = 0;
    this.dataMinutes = 0;
    this.presentSlices = 0;
    this.missingSlices = 0;
  }

  save(out: number[]): void {
    for (const sum of [this.good, this.bad, this.total, this.badness]) sum.save(out);
    out.push(
      this.goodMinutes,
      this.badMinutes,
      this.badSlices,
      this.dataMinutes,
      this.presentSlices,
      this.missingSlices,
    );
  }

  load(from: Reader): void {
    for (const sum of [this.good, this.bad, this.total, this.badness]) sum.load(from);
    this.goodMinutes = from.next();
    this.badMinutes = from.next();
    this.badSlices = from.next();
    this.dataMinutes = from.next();
    this.presentSlices = from.next();
    this.missingSlices = from.next();
  }

  snapshot(): RangeAggregate {
    return {
      good: this.good.value,
      bad: this.bad.value,
      total: this.total.value,
      dataMinutes: this.dataMinutes,
      presentSlices: this.presentSlices,
      badness: this.badness.value,
      missingSlices: this.missingSlices,
    };
  }
}

/** A range `[clock − minutes, clock)` kept up to date as the clock moves. */
interface TrackedWindow {
  label: string | null;
  minutes: number;
  isPeriod: boolean;
  /** Occurrences windows and the period need minute sums; time-slice burn windows only slices. */
  minuteLevel: boolean;
  /** Longer than the hot minutes: what leaves it is read from `ColdMinutes`. */
  cold: boolean;
  agg: RunningAggregate;
  /** Rolling period only: excluded minutes, and fully excluded slices starting in the window. */
  excludedMinutes: number;
  excludedSlices: number;
  stepsSinceRebuild: number;
  /** A cold window's steps-since-rebuild after a full rebuild: its place in the drift-rebuild cycle. */
  phaseSteps: number;
}

/** Where slices start: `sliceStartOf(i)` is the start minute of the slice holding minute i, or NaN. */
interface SliceGrid {
  sliceStartOf(minute: number): number;
}

class EpochGrid implements SliceGrid {
  constructor(private readonly sliceMin: number) {}

  sliceStartOf(minute: number): number {
    return minute - (((minute % this.sliceMin) + this.sliceMin) % this.sliceMin);
  }
}

/** Calendar periods near the clock, as minute boundaries, with slices restarting at each period start. */
class CalendarGrid implements SliceGrid {
  private firstK: number;
  private boundsMs: number[];
  private boundsMin: number[];

  constructor(
    private readonly periods: CalendarPeriods,
    private readonly sliceMin: number,
    aroundMin: number,
  ) {
    this.firstK = periods.indexAt(aroundMin * MINUTE_MS);
    this.boundsMs = [periods.boundaryMs(this.firstK), periods.boundaryMs(this.firstK + 1)];
    this.boundsMin = this.boundsMs.map(minuteCeil);
  }

  /** Index j into the cached boundaries with boundsMin[j] ≤ minute < boundsMin[j + 1]. */
  private periodIndex(minute: number): number {
    while (minute < this.boundsMin[0]!) {
      this.firstK--;
      const ms = this.periods.boundaryMs(this.firstK);
      this.boundsMs.unshift(ms);
      this.boundsMin.unshift(minuteCeil(ms));
    }
    while (minute >= this.boundsMin[this.boundsMin.length - 1]!) {
      const ms = this.periods.boundaryMs(this.firstK + this.boundsMs.length);
      this.boundsMs.push(ms);
      this.boundsMin.push(minuteCeil(ms));
    }
    let lo = 0;
    let hi = this.boundsMin.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.boundsMin[mid]! <= minute) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The period holding `minute`, in minutes and exact milliseconds. */
  periodOf(minute: number): { startMin: number; endMin: number; startMs: number; endMs: number } {
    const j = this.periodIndex(minute);
    return {
      startMin: this.boundsMin[j]!,
      endMin: this.boundsMin[j + 1]!,
      startMs: this.boundsMs[j]!,
      endMs: this.boundsMs[j + 1]!,
    };
  }

  sliceStartOf(minute: number): number {
    const j = this.periodIndex(minute);
    const start = this.boundsMin[j]!;
    const s = start + Math.floor((minute - start) / this.sliceMin) * this.sliceMin;
    // A remainder shorter than a slice at the period's end belongs to no slice.
    return s + this.sliceMin <= this.boundsMin[j + 1]! ? s : Number.NaN;
  }

  /** Forgets periods that end before `minute`. */
  prune(minute: number): void {
    while (this.boundsMin.length > 2 && this.boundsMin[1]! <= minute) {
      this.boundsMs.shift();
      this.boundsMin.shift();
      this.firstK++;
    }
  }
}

interface CalendarState {
  startMin: number;
  endMin: number;
  startMs: number;
  endMs: number;
  agg: RunningAggregate;
  /** Excluded minutes in [startMin, clock). */
  excludedMinutes: number;
  /** Slices of the whole period that are not fully excluded. */
  plannedSlices: number;
}

/**
 * The error-budget engine for a server: the same answers as `evaluate`, with O(windows) work per
 * minute of clock. State is a ring of per-minute counts (interleaved good/total in one Float64Array)
 * covering the longest window (rolling period or burn window, at least one slice) plus
 * `futureMinutes` ahead of the clock; every window keeps running sums that gain the minute (or
 * slice) completing and lose the one leaving. Each window is re-summed from the ring once per window
 * length (amortised O(1)) so fractional counts cannot drift.
 *
 * `add` accumulates a minute's counts; `set` replaces them (for a store re-read as its rows grow).
 * The clock starts at the first `add`, `set`, `advanceTo` or `status`, and only moves forward.
 */
export class IncrementalObjective {
  /** Samples for minutes older than the kept history (or whose slice starts before it): ignored. */
  droppedLateMinutes = 0;
  /** Samples more than `futureMinutes` ahead of the clock: ignored. */
  droppedFutureMinutes = 0;
  /** Samples that are not finite or not 0 ≤ good ≤ total: ignored. */
  rejectedSamples = 0;

  private readonly spec: ObjectiveSpec;
  private readonly sliced: boolean;
  private readonly sliceMin: number;
  private readonly historyMin: number;
  private readonly futureMin: number;
  /** Minutes behind the clock held in the ring; older ones are cold (see `hotMinutes`). */
  private readonly hotMin: number;
  private readonly ringMin: number;
  /** Minute i lives at slot i mod ringMin: good at 2·slot, total at 2·slot + 1. */
  private readonly ring: Float64Array;
  private readonly tracked: TrackedWindow[];
  /** The tracked windows without the rolling period, in `windowPlan` order. */
  private readonly burnWindows: TrackedWindow[];
  private readonly currentIndex: number;
  private readonly periodWindow: TrackedWindow | null;
  private readonly schedule: AdjustmentSchedule;
  private readonly exclusion: MinuteExclusion | null;
  private readonly periods: CalendarPeriods | null;
  private grid: SliceGrid;
  private calendar: CalendarState | null = null;
  /** First minute that is not complete: the windows cover minutes before it. NaN until started. */
  private clock = Number.NaN;
  /** Cold windows (and the calendar period) wait for a rebuild from stored minutes. */
  private dirty = false;
  /** The stored minutes of the current `advanceTo` call (tiered engines only). */
  private cold: ColdMinutes | null = null;
  /** `read` answers here, so the hot loops allocate nothing. */
  private readGood = 0;
  private readTotal = 0;
  private readonly scratch = new Float64Array(2);

  /** Throws RangeError on an invalid spec (run `validateObjective` first). */
  constructor(spec: ObjectiveSpec, options: IncrementalOptions = {}) {
    assertValidObjective(spec);
    this.spec = spec;
    this.sliced = spec.method !== 'Occurrences';
    this.sliceMin = this.sliced ? spec.timeSliceMs! / MINUTE_MS : 1;
    this.futureMin = options.futureMinutes ?? 60;
    if (!Number.isSafeInteger(this.futureMin) || this.futureMin < 1) {
      throw new RangeError('futureMinutes must be a positive whole number');
    }

    const plan = windowPlan(spec);
    const occurrences = !this.sliced;
    this.tracked = plan.windows.map((w) => newTracked(w.label, w.minutes, false, occurrences));
    this.burnWindows = [...this.tracked];
    this.currentIndex = plan.currentIndex;
    if (spec.window.kind === 'rolling') {
      this.periodWindow = newTracked(null, spec.window.windowMs / MINUTE_MS, true, occurrences);
      this.tracked.push(this.periodWindow);
      this.periods = null;
      this.grid = new EpochGrid(this.sliceMin);
    } else {
      this.periodWindow = null;
      this.periods = new CalendarPeriods(spec.window);
      this.grid = new EpochGrid(this.sliceMin); // replaced by a CalendarGrid when the clock starts
    }

    const keep = options.historyMinutes ?? 0;
    if (!Number.isSafeInteger(keep) || keep < 0) {
      throw new RangeError('historyMinutes must be a whole number ≥ 0');
    }
    this.historyMin = Math.max(this.sliceMin, keep, ...this.tracked.map((w) => w.minutes));
    const hot = options.hotMinutes ?? this.historyMin;
    if (!Number.isSafeInteger(hot) || hot < 1)
      throw new RangeError('hotMinutes must be a positive whole number');
    this.hotMin = Math.min(this.historyMin, Math.max(this.sliceMin, hot));
    const phase = options.rebuildPhase ?? 0;
    if (!(phase >= 0 && phase < 1)) throw new RangeError('rebuildPhase must be in [0, 1)');
    for (const w of this.tracked) {
      w.cold = w.minutes > this.hotMin;
      // Spreads the drift rebuilds of many engines' cold windows over the window length.
      if (w.cold) w.phaseSteps = Math.floor(phase * w.minutes);
    }
    this.ringMin = this.hotMin + this.futureMin;
    this.ring = new Float64Array(2 * this.ringMin);
    this.schedule = new AdjustmentSchedule(spec.adjustments);
    // The cache spans the ring plus a day on each side, so a moving clock reloads it rarely.
    this.exclusion = this.schedule.isEmpty
      ? null
      : new MinuteExclusion(this.schedule, this.historyMin + this.futureMin + this.sliceMin + 1440);
  }

  /** Adds a sample to its minute (accumulating); late samples update every window they fall in. */
  add(ts: number, good: number, total: number): void {
    if (this.isTiered)
      throw new Error('a tiered engine (hotMinutes) takes stored counts with set(), not add()');
    const at = this.locate(ts, good, total);
    if (at === null) return;
    const slot = this.slotOf(at.minute);
    this.write(at.minute, at.sliceStart, this.ring[2 * slot]! + good, this.ring[2 * slot + 1]! + total);
  }

  /**
   * Replaces a minute's counts (for a store whose rows are re-read as they grow): every window and
   * slice holding the minute moves from the old counts to the new ones, O(windows). Setting the
   * stored value again changes nothing. Same drop rules as `add`.
   */
  set(ts: number, good: number, total: number): void {
    const at = this.locate(ts, good, total);
    if (at === null) return;
    this.write(at.minute, at.sliceStart, good, total);
  }

  /** Checks a sample and where it falls; null (counted) when it is invalid, too late or too early. */
  private locate(ts: number, good: number, total: number): { minute: number; sliceStart: number } | null {
    if (!isValidSample(ts, good, total)) {
      this.rejectedSamples++;
      return null;
    }
    const minute = minuteFloor(ts);
    if (Number.isNaN(this.clock)) this.start(minute);
    const now = this.clock;
    if (minute >= now + this.futureMin) {
      this.droppedFutureMinutes++;
      return null;
    }
    if (minute < now - this.historyMin) {
      this.droppedLateMinutes++;
      if (this.isTiered && minute >= now - this.historyMin - LATE_REBUILD_MINUTES) this.dirty = true;
      return null;
    }
    if (this.exclusion?.isExcluded(minute)) return null;
    const sliceStart = this.sliced ? this.grid.sliceStartOf(minute) : Number.NaN;
    // A tiered engine keeps such a minute (its windows count it; `write` leaves its slice, which
    // no window holds, to the rebuild), so the ring always equals the stored minutes.
    if (!this.isTiered && sliceStart < now - this.historyMin) {
      this.droppedLateMinutes++;
      return null;
    }
    if (minute < now - this.hotMin) {
      // Cold: the old counts are not in memory to move the windows from. The rows are stored, so
      // the cold windows are rebuilt from them (`coldReads`); until then the engine is not ready.
      this.dirty = true;
      return null;
    }
    return { minute, sliceStart };
  }

  /** Stores a kept minute's new counts and moves every window and slice holding it from the old ones. */
  private write(minute: number, sliceStart: number, good1: number, total1: number): void {
    const now = this.clock;
    const slot = this.slotOf(minute);
    const good0 = this.ring[2 * slot]!;
    const total0 = this.ring[2 * slot + 1]!;
    if (good1 === good0 && total1 === total0) return;
    if (minute >= now) {
      // Not complete yet: it enters the windows when the clock passes it.
      this.ring[2 * slot] = good1;
      this.ring[2 * slot + 1] = total1;
      return;
    }

    let sliceComplete = sliceStart + this.sliceMin <= now;
    if (sliceComplete && sliceStart < now - this.hotMin) {
      // A hot minute of a slice that started in the cold minutes: only cold windows (and the
      // calendar period) hold that slice, and they are rebuilt from the stored minutes.
      this.dirty = true;
      sliceComplete = false;
    }
    const before = sliceComplete ? this.classify(sliceStart) : SLICE_EXCLUDED;
    this.ring[2 * slot] = good1;
    this.ring[2 * slot + 1] = total1;
    for (const w of this.tracked) {
      if (w.minuteLevel && minute >= now - w.minutes) {
        w.agg.minute(good0, total0, -1);
        w.agg.minute(good1, total1, 1);
      }
    }
    const calendar = this.calendar;
    if (calendar && minute >= calendar.startMin) {
      calendar.agg.minute(good0, total0, -1);
      calendar.agg.minute(good1, total1, 1);
    }
    if (!sliceComplete) return;
    const after = this.classify(sliceStart);
    if (after === before) return;
    for (const w of this.tracked) {
      if (this.sliceMin <= w.minutes && sliceStart >= now - w.minutes) {
        w.agg.slice(before, -1);
        w.agg.slice(after, 1);
      }
    }
    if (calendar && sliceStart >= calendar.startMin) {
      calendar.agg.slice(before, -1);
      calendar.agg.slice(after, 1);
    }
  }

  /**
   * Moves the clock to `atMs` (floored to the minute), one minute at a time. Never moves back.
   * A tiered engine reads the minutes leaving its cold windows from `cold` (load what `coldReads`
   * lists first), and rebuilds its cold windows when it is waiting for that (`ready` false) and
   * `cold` holds their ranges; without them it stays not ready.
   */
  advanceTo(atMs: number, cold?: ColdMinutes): void {
    const target = minuteFloor(atMs);
    if (Number.isNaN(this.clock)) {
      this.start(target);
    } else {
      if (target < this.clock) {
        throw new RangeError(`the clock is at ${this.clock * MINUTE_MS} and cannot go back to ${atMs}`);
      }
      if (this.isTiered && target - this.clock > MAX_COLD_STEP_MINUTES) this.dirty = true;
    }
    if (!this.isTiered) {
      while (this.clock < target) this.step();
      return;
    }
    this.cold = cold ?? null;
    try {
      while (this.clock < target) this.step();
      if (this.dirty && cold?.covers(this.rebuildRanges())) this.rebuildCold();
    } finally {
      this.cold = null;
    }
  }

  /**
   * The stored minutes `advanceTo(atMs)` will read (tiered engines; none otherwise): the minutes
   * leaving each cold window, the ranges of cold windows due for their drift rebuild, and — when
   * the engine is waiting for a rebuild or the clock jumps far — every cold window's range.
   */
  coldReads(atMs: number): MinuteRange[] {
    if (!this.isTiered || Number.isNaN(this.clock)) return [];
    const target = Math.max(this.clock, minuteFloor(atMs));
    if (this.dirty || target - this.clock > MAX_COLD_STEP_MINUTES)
      return mergeRanges(this.rebuildRanges(target));
    const out: MinuteRange[] = [];
    for (let minute = this.clock; minute < target; minute++) {
      const steps = minute - this.clock + 1;
      for (const w of this.tracked) {
        if (!w.cold) continue;
        const leaving = minute - w.minutes;
        if (w.minuteLevel) out.push({ from: leaving, to: leaving + 1 });
        if (this.sliced && this.sliceMin <= w.minutes && this.grid.sliceStartOf(leaving) === leaving) {
          out.push({ from: leaving, to: leaving + this.sliceMin });
        }
        if (w.stepsSinceRebuild + steps >= w.minutes)
          out.push(this.coldPart(minute + 1 - w.minutes, minute + 1));
      }
    }
    return mergeRanges(out);
  }

  /**
   * The stored minutes the edges of the cold windows will read over the next `minutes` of clock
   * after `atMs` (a slice more for time slices): what a caller's read-ahead should keep.
   */
  coldReadAhead(atMs: number, minutes: number): MinuteRange[] {
    const at = minuteFloor(atMs);
    const out: MinuteRange[] = [];
    for (const w of this.tracked) {
      if (w.cold) out.push({ from: at - w.minutes, to: at - w.minutes + minutes + this.sliceMin });
    }
    return out;
  }

  /** True when `ms`'s minute is cold: older than the hot minutes behind the clock (or than the history). */
  isCold(ms: number): boolean {
    return minuteFloor(ms) < this.clock - this.hotMin;
  }

  /** False while a tiered engine waits for its cold windows to be rebuilt (`advanceTo` with `cold`). */
  get ready(): boolean {
    return !this.dirty;
  }

  /** True when some windows are cold (`hotMinutes` shorter than the history). */
  get isTiered(): boolean {
    return this.hotMin < this.historyMin;
  }

  /** The status at `atMs` (advancing the clock to it first). Throws while the engine is not `ready`. */
  status(atMs: number, cold?: ColdMinutes): BudgetStatus {
    this.advanceTo(atMs, cold);
    if (this.dirty)
      throw new RangeError('the engine waits for its cold windows: advanceTo with coldReads loaded');
    const now = this.clock;
    let period: PeriodAggregate;
    if (this.periodWindow) {
      const w = this.periodWindow;
      period = Object.assign(w.agg.snapshot(), {
        startMs: (now - w.minutes) * MINUTE_MS,
        endMs: now * MINUTE_MS,
        eligibleMinutes: w.minutes - w.excludedMinutes,
        plannedSlices: this.sliced ? w.minutes / this.sliceMin - w.excludedSlices : 0,
      });
    } else {
      const c = this.calendar!;
      period = Object.assign(c.agg.snapshot(), {
        startMs: c.startMs,
        endMs: c.endMs,
        eligibleMinutes: now - c.startMin - c.excludedMinutes,
        plannedSlices: c.plannedSlices,
      });
    }
    const windows = this.burnWindows.map((w) => ({ label: w.label, agg: w.agg.snapshot() }));
    return assembleStatus(this.spec, atMs, period, windows, windows[this.currentIndex]!.agg);
  }

  /** How far behind the clock samples are kept: the longest window (at least one slice), in ms. */
  get historyMs(): number {
    return this.historyMin * MINUTE_MS;
  }

  /** How far ahead of the clock samples are kept until the clock reaches them, in ms. */
  get futureMs(): number {
    return this.futureMin * MINUTE_MS;
  }

  /** Bytes held in typed arrays (the per-minute ring of the hot minutes). */
  stateBytes(): number {
    return this.ring.byteLength;
  }

  /**
   * The engine's whole state as numbers (a tiered engine's is a few KB: its running sums and hot
   * minutes), for `restore` by a restarted server or a replica taking over, which then moves it
   * on from its clock instead of rebuilding 30 days. Null while not ready or not started.
   */
  checkpoint(): Float64Array | null {
    if (this.dirty || Number.isNaN(this.clock)) return null;
    const out: number[] = [CHECKPOINT_FORMAT, this.clock, this.ringMin, this.tracked.length];
    for (const w of this.tracked) out.push(w.minutes);
    out.push(this.droppedLateMinutes, this.droppedFutureMinutes, this.rejectedSamples);
    for (const w of this.tracked) {
      w.agg.save(out);
      out.push(w.excludedMinutes, w.excludedSlices, w.stepsSinceRebuild);
    }
    const c = this.calendar;
    out.push(c ? 1 : 0);
    if (c) {
      out.push(c.startMin, c.endMin, c.startMs, c.endMs, c.excludedMinutes, c.plannedSlices);
      c.agg.save(out);
    }
    const data = new Float64Array(out.length + this.ring.length);
    data.set(out);
    data.set(this.ring, out.length);
    return data;
  }

  /**
   * Takes the state of `checkpoint` (from an engine of the same spec and options). Throws
   * RangeError when it does not fit; the engine is then unchanged and not started.
   */
  restore(checkpoint: Float64Array): void {
    if (!Number.isNaN(this.clock)) throw new RangeError('restore needs an engine that has not started');
    const from = new Reader(checkpoint);
    if (from.next() !== CHECKPOINT_FORMAT) throw new RangeError('the checkpoint has another format');
    const clock = from.next();
    const shape = [from.next(), from.next()];
    if (
      shape[0] !== this.ringMin ||
      shape[1] !== this.tracked.length ||
      this.tracked.some((w) => from.next() !== w.minutes)
    ) {
      throw new RangeError('the checkpoint is of an engine with other windows');
    }
    const counters = [from.next(), from.next(), from.next()];
    const windows = this.tracked.map(() => {
      const agg = new RunningAggregate(!this.sliced);
      agg.load(from);
      return {
        agg,
        excludedMinutes: from.next(),
        excludedSlices: from.next(),
        stepsSinceRebuild: from.next(),
      };
    });
    let calendar: CalendarState | null = null;
    if (from.next() === 1) {
      const [startMin, endMin, startMs, endMs, excludedMinutes, plannedSlices] = [
        from.next(),
        from.next(),
        from.next(),
        from.next(),
        from.next(),
        from.next(),
      ];
      const agg = new RunningAggregate(!this.sliced);
      agg.load(from);
      calendar = {
        startMin: startMin!,
        endMin: endMin!,
        startMs: startMs!,
        endMs: endMs!,
        agg,
        excludedMinutes: excludedMinutes!,
        plannedSlices: plannedSlices!,
      };
    }
    if ((calendar === null) !== (this.periods === null))
      throw new RangeError('the checkpoint is of another window kind');
    const ring = from.rest(this.ring.length);
    // Everything read: now take it.
    this.ring.set(ring);
    this.tracked.forEach((w, i) => {
      const saved = windows[i]!;
      w.agg = saved.agg;
      w.excludedMinutes = saved.excludedMinutes;
      w.excludedSlices = saved.excludedSlices;
      w.stepsSinceRebuild = saved.stepsSinceRebuild;
    });
    [this.droppedLateMinutes, this.droppedFutureMinutes, this.rejectedSamples] = counters as [
      number,
      number,
      number,
    ];
    this.clock = clock;
    if (this.periods) this.grid = new CalendarGrid(this.periods, this.sliceMin, clock);
    this.calendar = calendar;
    this.dirty = false;
  }

  private slotOf(minute: number): number {
    return ((minute % this.ringMin) + this.ringMin) % this.ringMin;
  }

  /**
   * Minute `minute`'s counts into `readGood`/`readTotal`: from the ring when it is hot, else from
   * the loaded cold minutes (zeros where the ring would hold zeros: excluded or invalid counts).
   */
  private read(minute: number): void {
    if (minute >= this.clock - this.hotMin) {
      const slot = this.slotOf(minute);
      this.readGood = this.ring[2 * slot]!;
      this.readTotal = this.ring[2 * slot + 1]!;
      return;
    }
    if (!this.cold?.read(minute, this.scratch)) {
      throw new Error(
        `minute ${minute * MINUTE_MS} is cold and was not loaded: load coldReads() before advanceTo`,
      );
    }
    const good = this.scratch[0]!;
    const total = this.scratch[1]!;
    const kept = isValidSample(minute, good, total) && !this.exclusion?.isExcluded(minute);
    this.readGood = kept ? good : 0;
    this.readTotal = kept ? total : 0;
  }

  /** Badness of the slice starting at `start`, or SLICE_MISSING / SLICE_EXCLUDED. */
  private classify(start: number): number {
    const end = start + this.sliceMin;
    if (this.exclusion?.isFullyExcluded(start, end)) return SLICE_EXCLUDED;
    // Excluded minutes hold zeros, so summing them too gives the same bits as skipping them.
    let good = 0;
    let total = 0;
    for (let i = start; i < end; i++) {
      this.read(i);
      good += this.readGood;
      total += this.readTotal;
    }
    if (total === 0) return SLICE_MISSING;
    return sliceBadness(this.spec, good, total);
  }

  /** The part of `[from, to)` that is cold when the clock is at `to`. */
  private coldPart(from: number, to: number): MinuteRange {
    return { from, to: Math.max(from, to - this.hotMin) };
  }

  /** What `rebuildCold` reads with the clock at `at`: each cold window's range and the calendar period's. */
  private rebuildRanges(at = this.clock): MinuteRange[] {
    const out: MinuteRange[] = [];
    for (const w of this.tracked) if (w.cold) out.push(this.coldPart(at - w.minutes, at));
    if (this.periods) out.push(this.coldPart((this.grid as CalendarGrid).periodOf(at).startMin, at));
    return out.filter((r) => r.to > r.from);
  }

  /** Recomputes every cold window and the calendar period from the loaded minutes. */
  private rebuildCold(): void {
    for (const w of this.tracked) {
      if (!w.cold) continue;
      this.rebuild(w);
      w.stepsSinceRebuild = w.phaseSteps;
    }
    if (this.calendar) this.rebuildCalendar();
    this.dirty = false;
  }

  /** The calendar period's sums from its start to the clock, as the steps since its start build them. */
  private rebuildCalendar(): void {
    const c = this.calendar!;
    const now = this.clock;
    c.agg.reset();
    for (let i = c.startMin; i < now; i++) {
      this.read(i);
      c.agg.minute(this.readGood, this.readTotal, 1);
    }
    if (this.sliced) {
      for (let s = c.startMin; s + this.sliceMin <= Math.min(now, c.endMin); s += this.sliceMin) {
        c.agg.slice(this.classify(s), 1);
      }
    }
    c.excludedMinutes = this.exclusion ? this.exclusion.countExcluded(c.startMin, now) : 0;
  }

  private start(minute: number): void {
    this.clock = minute;
    if (this.periods) {
      const grid = new CalendarGrid(this.periods, this.sliceMin, minute);
      this.grid = grid;
      this.startCalendarPeriod(minute);
    }
    for (const w of this.tracked) {
      if (!w.cold) this.rebuild(w);
    }
    // Cold windows and the calendar period are rebuilt from stored minutes (`coldReads`).
    if (this.isTiered) this.dirty = true;
  }

  /** One minute of clock: minute `clock` completes. */
  private step(): void {
    const minute = this.clock;
    const ring = this.ring;
    const exclusion = this.exclusion;
    const slot = this.slotOf(minute);
    const good = ring[2 * slot]!;
    const total = ring[2 * slot + 1]!;
    // Waiting for a rebuild: cold windows are recomputed anyway, so they are not stepped.
    const dirty = this.dirty;

    for (const w of this.tracked) {
      if (!w.minuteLevel || (dirty && w.cold)) continue;
      const leaving = minute - w.minutes;
      this.read(leaving);
      w.agg.minute(this.readGood, this.readTotal, -1);
      w.agg.minute(good, total, 1);
      if (w.isPeriod && exclusion) {
        if (exclusion.isExcluded(minute)) w.excludedMinutes++;
        if (exclusion.isExcluded(leaving)) w.excludedMinutes--;
      }
    }
    const calendar = this.calendar;
    if (calendar && !dirty) {
      calendar.agg.minute(good, total, 1);
      if (exclusion?.isExcluded(minute)) calendar.excludedMinutes++;
    }
    if (this.sliced) this.stepSlices(minute, dirty);

    this.clock = minute + 1;
    // The slot of the minute that just left the hot minutes becomes the newest future minute.
    const freed = this.slotOf(minute - this.hotMin);
    ring[2 * freed] = 0;
    ring[2 * freed + 1] = 0;
    if (calendar && this.clock >= calendar.endMin) this.startCalendarPeriod(this.clock);
    for (const w of this.tracked) {
      if (dirty && w.cold) continue;
      if (++w.stepsSinceRebuild >= w.minutes) this.rebuild(w);
    }
  }

  private stepSlices(minute: number, dirty: boolean): void {
    const sliceMin = this.sliceMin;
    const next = minute + 1;
    const start = this.grid.sliceStartOf(minute);
    if (start + sliceMin === next) {
      const code = this.classify(start);
      for (const w of this.tracked) if (sliceMin <= w.minutes && !(dirty && w.cold)) w.agg.slice(code, 1);
      if (!dirty) this.calendar?.agg.slice(code, 1);
    }
    for (const w of this.tracked) {
      if (sliceMin > w.minutes || (dirty && w.cold)) continue;
      const leaving = minute - w.minutes;
      if (this.grid.sliceStartOf(leaving) === leaving) w.agg.slice(this.classify(leaving), -1);
    }
    const period = this.periodWindow;
    if (period && this.exclusion) {
      // The rolling period's planned slices are those starting in it, the in-progress one included.
      if (
        this.grid.sliceStartOf(minute) === minute &&
        this.exclusion.isFullyExcluded(minute, minute + sliceMin)
      ) {
        period.excludedSlices++;
      }
      const leaving = minute - period.minutes;
      if (
        this.grid.sliceStartOf(leaving) === leaving &&
        this.exclusion.isFullyExcluded(leaving, leaving + sliceMin)
      ) {
        period.excludedSlices--;
      }
    }
  }

  /** Recomputes a window from the ring: removes float drift; also used when the clock starts. */
  private rebuild(w: TrackedWindow): void {
    const now = this.clock;
    const from = now - w.minutes;
    w.agg.reset();
    w.stepsSinceRebuild = 0;
    if (w.minuteLevel) {
      for (let i = from; i < now; i++) {
        this.read(i);
        w.agg.minute(this.readGood, this.readTotal, 1);
      }
    }
    if (this.sliced) {
      for (let s = from; s + this.sliceMin <= now; s++) {
        if (this.grid.sliceStartOf(s) === s) w.agg.slice(this.classify(s), 1);
      }
    }
    if (w.isPeriod && this.exclusion) {
      w.excludedMinutes = this.exclusion.countExcluded(from, now);
      w.excludedSlices = 0;
      if (this.sliced) {
        for (let s = from; s < now; s++) {
          if (this.grid.sliceStartOf(s) === s && this.exclusion.isFullyExcluded(s, s + this.sliceMin)) {
            w.excludedSlices++;
          }
        }
      }
    }
  }

  /**
   * Starts the calendar period holding `minute` (the clock). Minutes of it before the clock can only
   * be there when the clock starts mid-period: they have no data, so they count as elapsed and
   * their complete slices as missing (or excluded).
   */
  private startCalendarPeriod(minute: number): void {
    const grid = this.grid as CalendarGrid;
    grid.prune(minute - this.ringMin - this.sliceMin);
    const { startMin, endMin, startMs, endMs } = grid.periodOf(minute);
    const sliceCount = Math.floor((endMin - startMin) / this.sliceMin);
    const ranges = this.schedule.isEmpty ? [] : this.schedule.minuteRanges(startMin, endMin);
    const fullyExcluded = (count: number) => countSlicesInside(ranges, startMin, this.sliceMin, count);
    const agg = this.calendar?.agg ?? new RunningAggregate(!this.sliced);
    agg.reset();
    let excludedMinutes = 0;
    for (const [u, v] of ranges) excludedMinutes += Math.max(0, Math.min(v, minute) - u);
    if (this.sliced) {
      const completeSlices = Math.min(sliceCount, Math.floor((minute - startMin) / this.sliceMin));
      agg.missingSlices = completeSlices - fullyExcluded(completeSlices);
    }
    this.calendar = {
      startMin,
      endMin,
      startMs,
      endMs,
      agg,
      excludedMinutes,
      plannedSlices: this.sliced ? sliceCount - fullyExcluded(sliceCount) : 0,
    };
  }
}

function newTracked(
  label: string | null,
  minutes: number,
  isPeriod: boolean,
  occurrences: boolean,
): TrackedWindow {
  return {
    label,
    minutes,
    isPeriod,
    minuteLevel: occurrences || isPeriod,
    cold: false,
    phaseSteps: 0,
    agg: new RunningAggregate(occurrences),
    excludedMinutes: 0,
    excludedSlices: 0,
    stepsSinceRebuild: 0,
  };
}

/** How many of the first `count` slices of a grid starting at `gridStart` lie inside the merged minute ranges. */
function countSlicesInside(
  ranges: ReadonlyArray<[number, number]>,
  gridStart: number,
  sliceMin: number,
  count: number,
): number {
  let inside = 0;
  for (const [u, v] of ranges) {
    const first = Math.max(0, Math.ceil((u - gridStart) / sliceMin));
    const last = Math.min(count - 1, Math.floor((v - gridStart) / sliceMin) - 1);
    if (last >= first) inside += last - first + 1;
  }
  return inside;
}
