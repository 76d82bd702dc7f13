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
}

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
  agg: RunningAggregate;
  /** Rolling period only: excluded minutes, and fully excluded slices starting in the window. */
  excludedMinutes: number;
  excludedSlices: number;
  stepsSinceRebuild: number;
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
    this.ringMin = this.historyMin + this.futureMin;
    this.ring = new Float64Array(2 * this.ringMin);
    this.schedule = new AdjustmentSchedule(spec.adjustments);
    // The cache spans the ring plus a day on each side, so a moving clock reloads it rarely.
    this.exclusion = this.schedule.isEmpty
      ? null
      : new MinuteExclusion(this.schedule, this.ringMin + this.sliceMin + 1440);
  }

  /** Adds a sample to its minute (accumulating); late samples update every window they fall in. */
  add(ts: number, good: number, total: number): void {
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
      return null;
    }
    if (this.exclusion?.isExcluded(minute)) return null;
    const sliceStart = this.sliced ? this.grid.sliceStartOf(minute) : Number.NaN;
    if (sliceStart < now - this.historyMin) {
      this.droppedLateMinutes++;
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

    const sliceComplete = sliceStart + this.sliceMin <= now;
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

  /** Moves the clock to `atMs` (floored to the minute), one minute at a time. Never moves back. */
  advanceTo(atMs: number): void {
    const target = minuteFloor(atMs);
    if (Number.isNaN(this.clock)) {
      this.start(target);
      return;
    }
    if (target < this.clock) {
      throw new RangeError(`the clock is at ${this.clock * MINUTE_MS} and cannot go back to ${atMs}`);
    }
    while (this.clock < target) this.step();
  }

  /** The status at `atMs` (advancing the clock to it first). */
  status(atMs: number): BudgetStatus {
    this.advanceTo(atMs);
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

  /** Bytes held in typed arrays (the per-minute ring). */
  stateBytes(): number {
    return this.ring.byteLength;
  }

  private slotOf(minute: number): number {
    return ((minute % this.ringMin) + this.ringMin) % this.ringMin;
  }

  /** Badness of the slice starting at `start`, or SLICE_MISSING / SLICE_EXCLUDED, from the ring. */
  private classify(start: number): number {
    const end = start + this.sliceMin;
    if (this.exclusion?.isFullyExcluded(start, end)) return SLICE_EXCLUDED;
    // Excluded minutes hold zeros, so summing them too gives the same bits as skipping them.
    let good = 0;
    let total = 0;
    for (let i = start; i < end; i++) {
      const slot = this.slotOf(i);
      good += this.ring[2 * slot]!;
      total += this.ring[2 * slot + 1]!;
    }
    if (total === 0) return SLICE_MISSING;
    return sliceBadness(this.spec, good, total);
  }

  private start(minute: number): void {
    this.clock = minute;
    if (this.periods) {
      const grid = new CalendarGrid(this.periods, this.sliceMin, minute);
      this.grid = grid;
      this.startCalendarPeriod(minute);
    }
    for (const w of this.tracked) this.rebuild(w);
  }

  /** One minute of clock: minute `clock` completes. */
  private step(): void {
    const minute = this.clock;
    const ring = this.ring;
    const exclusion = this.exclusion;
    const slot = this.slotOf(minute);
    const good = ring[2 * slot]!;
    const total = ring[2 * slot + 1]!;

    for (const w of this.tracked) {
      if (!w.minuteLevel) continue;
      const leaving = minute - w.minutes;
      const leavingSlot = this.slotOf(leaving);
      w.agg.minute(ring[2 * leavingSlot]!, ring[2 * leavingSlot + 1]!, -1);
      w.agg.minute(good, total, 1);
      if (w.isPeriod && exclusion) {
        if (exclusion.isExcluded(minute)) w.excludedMinutes++;
        if (exclusion.isExcluded(leaving)) w.excludedMinutes--;
      }
    }
    const calendar = this.calendar;
    if (calendar) {
      calendar.agg.minute(good, total, 1);
      if (exclusion?.isExcluded(minute)) calendar.excludedMinutes++;
    }
    if (this.sliced) this.stepSlices(minute);

    this.clock = minute + 1;
    // The slot of the minute that just left the history becomes the newest future minute.
    const freed = this.slotOf(minute - this.historyMin);
    ring[2 * freed] = 0;
    ring[2 * freed + 1] = 0;
    if (calendar && this.clock >= calendar.endMin) this.startCalendarPeriod(this.clock);
    for (const w of this.tracked) {
      if (++w.stepsSinceRebuild >= w.minutes) this.rebuild(w);
    }
  }

  private stepSlices(minute: number): void {
    const sliceMin = this.sliceMin;
    const next = minute + 1;
    const start = this.grid.sliceStartOf(minute);
    if (start + sliceMin === next) {
      const code = this.classify(start);
      for (const w of this.tracked) if (sliceMin <= w.minutes) w.agg.slice(code, 1);
      this.calendar?.agg.slice(code, 1);
    }
    for (const w of this.tracked) {
      if (sliceMin > w.minutes) continue;
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
        const slot = this.slotOf(i);
        w.agg.minute(this.ring[2 * slot]!, this.ring[2 * slot + 1]!, 1);
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
