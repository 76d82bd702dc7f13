import { fixedDurationMs, formatDuration } from '../duration.js';
import { Recurrence } from './adjustments.js';
import { parseCalendarStart } from './calendar.js';
import { MINUTE_MS } from './math.js';
import type { ObjectiveSpec } from './types.js';

/** One problem with an objective spec: `field` is a dotted path into `ObjectiveSpec`. */
export interface SpecIssue {
  field: string;
  message: string;
}

const METHODS = ['Occurrences', 'Timeslices', 'RatioTimeslices'];
const POLICIES = ['excluded', 'good', 'bad'];

function isWholeMinutes(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isSafeInteger(ms) && ms > 0 && ms % MINUTE_MS === 0;
}

function isOpenFraction(x: unknown): x is number {
  return typeof x === 'number' && x > 0 && x < 1;
}

/**
 * Checks everything the engine relies on; an empty list means `evaluate` and `IncrementalObjective`
 * accept the spec (they throw RangeError on a spec with issues).
 */
export function validateObjective(spec: ObjectiveSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const issue = (field: string, message: string) => issues.push({ field, message });

  if (!isOpenFraction(spec.target))
    issue('target', `target must be between 0 and 1 exclusive (got ${spec.target})`);
  if (!METHODS.includes(spec.method)) issue('method', `method must be one of ${METHODS.join(', ')}`);
  if (!POLICIES.includes(spec.noData)) issue('noData', `noData must be one of ${POLICIES.join(', ')}`);

  const sliced = spec.method === 'Timeslices' || spec.method === 'RatioTimeslices';
  if (spec.method === 'Timeslices') {
    const t = spec.timeSliceTarget;
    if (typeof t !== 'number' || !(t > 0 && t <= 1)) {
      issue('timeSliceTarget', 'Timeslices needs timeSliceTarget in (0, 1]');
    }
  }
  if (sliced && !isWholeMinutes(spec.timeSliceMs)) {
    issue('timeSliceMs', `${spec.method} needs timeSliceMs, a positive whole number of minutes`);
  }

  const window = spec.window;
  if (window.kind === 'rolling') {
    const fixedMs = fixedDurationMs(window.duration);
    if (fixedMs === undefined) {
      issue(
        'window.duration',
        `a rolling window needs a fixed length (m h d w), not ${formatDuration(window.duration)}`,
      );
    } else if (window.windowMs !== fixedMs) {
      issue(
        'window.windowMs',
        `windowMs ${window.windowMs} does not match ${formatDuration(window.duration)}`,
      );
    }
    if (!isWholeMinutes(window.windowMs)) {
      issue('window.windowMs', 'windowMs must be a positive whole number of minutes');
    } else if (sliced && isWholeMinutes(spec.timeSliceMs) && window.windowMs % spec.timeSliceMs !== 0) {
      issue('timeSliceMs', 'the rolling window must be a whole number of time slices');
    }
  } else if (window.kind === 'calendar') {
    const start = parseCalendarStart(window.startTime, window.timeZone);
    if (!start.ok)
      issue(start.error.includes('time zone') ? 'window.timeZone' : 'window.startTime', start.error);
    if (!Number.isSafeInteger(window.duration.count) || window.duration.count <= 0) {
      issue('window.duration', 'the calendar duration must be a positive whole number');
    }
  } else {
    issue('window.kind', 'window.kind must be rolling or calendar');
  }

  spec.adjustments.forEach((adjustment, i) => {
    const field = `adjustments.${i}`;
    if (adjustment.kind === 'one-off') {
      if (!Number.isFinite(adjustment.startMs) || !Number.isFinite(adjustment.endMs)) {
        issue(field, 'a one-off adjustment needs finite startMs and endMs');
      } else if (adjustment.endMs <= adjustment.startMs) {
        issue(field, 'a one-off adjustment must end after it starts');
      }
    } else if (adjustment.kind === 'recurring') {
      if (!(Number.isFinite(adjustment.durationMs) && adjustment.durationMs > 0)) {
        issue(`${field}.durationMs`, 'a recurring adjustment needs a positive durationMs');
      }
      const parsed = Recurrence.parse(adjustment.rrule);
      if (!parsed.ok) issue(`${field}.rrule`, parsed.error);
    } else {
      issue(`${field}.kind`, 'an adjustment is one-off or recurring');
    }
  });

  const periodLabel = formatDuration(window.duration);
  const labels = new Set<string>();
  spec.burnWindows.forEach((burnWindow, i) => {
    const field = `burnWindows.${i}`;
    if (!burnWindow.label) issue(`${field}.label`, 'a burn window needs a label');
    if (labels.has(burnWindow.label))
      issue(`${field}.label`, `burn window label "${burnWindow.label}" repeats`);
    labels.add(burnWindow.label);
    if (!isWholeMinutes(burnWindow.windowMs)) {
      issue(`${field}.windowMs`, 'a burn window must be a positive whole number of minutes');
    }
    const samePeriod = window.kind === 'rolling' && burnWindow.windowMs === window.windowMs;
    if (burnWindow.label === periodLabel && !samePeriod) {
      issue(`${field}.label`, `label "${periodLabel}" is the period's own label`);
    }
  });
  if (!isWholeMinutes(spec.currentBurnWindowMs)) {
    issue('currentBurnWindowMs', 'currentBurnWindowMs must be a positive whole number of minutes');
  }
  if (!(spec.minDataCoverage >= 0 && spec.minDataCoverage <= 1)) {
    issue('minDataCoverage', 'minDataCoverage must be between 0 and 1');
  }
  return issues;
}

/** Throws RangeError listing the issues: the engine's guard against specs that skipped validation. */
export function assertValidObjective(spec: ObjectiveSpec): void {
  const issues = validateObjective(spec);
  if (issues.length > 0) {
    throw new RangeError(`invalid objective: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  }
}
