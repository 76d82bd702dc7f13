/**
 * OTLP mapping core (pure): turns the data points of one export into per-minute good/bad/total
 * increments of the SLI streams they feed, given each series' last state. Cumulative series count
 * the increase since their last point (a value that drops, or a new start time, is a reset);
 * delta series count each point once. A point at or before its series' last point is a retry or
 * arrived out of order and adds nothing, so no replay ever counts more than was measured.
 */
import { createHash, type Hash } from 'node:crypto';
import type { AttributeFilter, Filters, OtlpPlan, Selection } from './plan.js';
import type { ExportRequest, HistogramDataPoint, KeyValue, NumberDataPoint } from './proto.js';

export const MINUTE_MS = 60_000;
/** Same bounds as push ingestion: 400 days back, 1 hour ahead (clock skew). */
export const MAX_PAST_MS = 400 * 24 * 60 * MINUTE_MS;
export const MAX_FUTURE_MS = 60 * MINUTE_MS;

export const DELTA = 1;
export const CUMULATIVE = 2;
/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the series has no value at this time (it went stale). */
const NO_RECORDED_VALUE = 1;

/** What is kept per series between exports. Times are nanoseconds since the epoch. */
export interface SeriesState {
  readonly temporality: 'cumulative' | 'delta';
  readonly startNs: bigint;
  readonly timeNs: bigint;
  /** Cumulative only: the sum's value or the histogram's count at timeNs. */
  readonly value: number;
  /** Cumulative histograms: bucket counts and bounds at timeNs. */
  readonly buckets?: readonly number[] | undefined;
  readonly bounds?: readonly number[] | undefined;
}

export interface MinuteIncrement {
  readonly storageKey: string;
  readonly minuteMs: number;
  good: number;
  bad: number;
  total: number;
}

export interface MapOptions {
  readonly nowMs: number;
  /**
   * A cumulative series seen for the first time counts its whole value when it started at most
   * this long before its point; an older one (the sender ran before the SLI existed) only sets the
   * baseline, so its history is not poured into one minute.
   */
  readonly newSeriesWindowMs: number;
}

export interface MapResult {
  readonly increments: MinuteIncrement[];
  /** Series whose state changed, by key. */
  readonly states: Map<string, SeriesState>;
  readonly received: number;
  readonly accepted: number;
  /** Points already counted (a retried export) or older than their series' last point. */
  readonly duplicates: number;
  readonly rejected: number;
  /** Distinct reasons for the rejected points, first ones first. */
  readonly reasons: string[];
}

type Scalar = string | number | boolean;
type Attributes = ReadonlyMap<string, Scalar>;

/**
 * An export matched against the plan once: its points with the series and selections each feeds,
 * and the rejected ones, in the export's order; `keys` are the series keys (to load their states).
 */
export interface PreparedExport {
  readonly items: ReadonlyArray<WalkedPoint | { readonly rejected: number; readonly reason: string }>;
  readonly keys: readonly string[];
}

/** A data point as the mapping reads it, whichever encoding it came in. */
export interface DataPoint {
  /** 0n when absent. */
  readonly startNs: bigint;
  /** 0n when absent; undefined when it is not a number (JSON). */
  readonly timeNs: bigint | undefined;
  /** The sum's value, or the histogram's count. */
  readonly value: number;
  readonly flags: number;
  /** Histograms with buckets: their counts and bounds (bounds may be shared between points). */
  readonly buckets: readonly number[] | undefined;
  readonly bounds: readonly number[] | undefined;
}

/** One series: its key and the selections its points feed (at least one). */
export interface SeriesInfo {
  readonly key: string;
  readonly selections: readonly Selection[];
}

/**
 * A (metric, kind, temporality, resource, scope) of a plan: the selections whose resource filters
 * hold, the hash of the series key's prefix, and its series by attributes seen so far.
 */
export interface PrefixEntry {
  readonly name: string;
  readonly kind: 'sum' | 'histogram';
  readonly temporality: number;
  readonly selections: readonly Selection[];
  readonly prefix: Hash;
  /** Series by the bytes of a point's attributes (protobuf); null: no SLI's filters match. */
  readonly byBytes: Map<string, SeriesInfo | null>;
  /** Packed bucket bounds by their bytes (protobuf). */
  readonly bounds: Map<string, number[]>;
  /** The bounds last read, with their bytes. */
  lastBounds: { readonly bytes: Buffer; readonly bounds: number[] } | undefined;
  /** The rejection of a point no SLI's attribute filters match. */
  readonly unmatched: { readonly rejected: 1; readonly reason: string };
  remember(bytes: string, series: SeriesInfo | null): void;
}

export interface WalkedPoint {
  readonly series: SeriesInfo;
  readonly entry: PrefixEntry;
  readonly point: DataPoint;
}

type Reject = (count: number, reason: string) => void;

/** Most series remembered per plan; past it the memory starts over (they are matched again). */
const SERIES_CACHE_LIMIT = 200_000;
interface PlanCache {
  readonly prefixes: Map<string, PrefixEntry>;
  series: number;
}
const planCaches = new WeakMap<OtlpPlan, PlanCache>();

/** A resource's attributes and their canonical text (read once per resource of an export). */
export interface ResourceKey {
  readonly attrs: Attributes;
  readonly text: string;
}

export function resourceKey(attributes: readonly KeyValue[] | undefined): ResourceKey {
  const attrs = attributeMap(attributes);
  return { attrs, text: canonical(attrs) };
}

export interface MetricHead {
  readonly name: string;
  readonly kind: 'sum' | 'histogram' | undefined;
  /** gauge, exponential histogram or summary: recognised and refused. */
  readonly otherKind: 'gauge' | 'exp' | 'summary' | undefined;
  readonly temporality: number;
  readonly monotonic: boolean;
  /** Its points. */
  readonly count: number;
  readonly resource: ResourceKey;
  readonly scopeName: string;
  readonly scopeVersion: string;
  readonly reject: Reject;
}

/**
 * The plan's entry for a metric of a resource and scope, or undefined (after rejecting its points
 * with the reason) when no SLI reads it or it is not a monotonic sum or a histogram with a
 * temporality. Checked once per (plan, metric, resource, scope) rather than once per point.
 */
export function prefixEntry(plan: OtlpPlan, head: MetricHead): PrefixEntry | undefined {
  const { name, kind, temporality, reject } = head;
  const all = plan.byMetric.get(name);
  if (!all) {
    reject(head.count, `no SLI reads metric ${JSON.stringify(name)}`);
    return undefined;
  }
  if (!kind) {
    const what =
      head.otherKind === 'gauge'
        ? 'a gauge'
        : head.otherKind === 'exp'
          ? 'an exponential histogram'
          : head.otherKind === 'summary'
            ? 'a summary'
            : 'empty';
    reject(
      head.count,
      `metric ${JSON.stringify(name)} is ${what}; SLIs read monotonic sums and explicit-bucket histograms`,
    );
    return undefined;
  }
  if (kind === 'sum' && !head.monotonic) {
    reject(
      head.count,
      `metric ${JSON.stringify(name)} is a non-monotonic sum; SLIs read monotonic sums (counters)`,
    );
    return undefined;
  }
  if (temporality !== DELTA && temporality !== CUMULATIVE) {
    reject(head.count, `metric ${JSON.stringify(name)} has no aggregation temporality (delta or cumulative)`);
    return undefined;
  }
  const { attrs: resourceAttrs, text: resourceText } = head.resource;
  const scopeText = `${head.scopeName}\u0001${head.scopeVersion}`;
  // The series key hashes the metric, resource and scope, then the point's attributes: the
  // common prefix is hashed once and each series' hash continues from a copy.
  const prefixText = [name, kind, String(temporality), resourceText, scopeText, ''].join('\u0000');
  let cache = planCaches.get(plan);
  if (!cache) {
    cache = { prefixes: new Map(), series: 0 };
    planCaches.set(plan, cache);
  }
  let entry = cache.prefixes.get(prefixText);
  if (!entry) {
    const owner = cache;
    const byBytes = new Map<string, SeriesInfo | null>();
    entry = {
      name,
      kind,
      temporality,
      selections: all.filter((s) => matches(s.query.resource, resourceAttrs)),
      prefix: createHash('sha256').update(prefixText),
      byBytes,
      bounds: new Map(),
      lastBounds: undefined,
      unmatched: {
        rejected: 1,
        reason: `no SLI's attribute filters match a point of ${JSON.stringify(name)}`,
      },
      remember(bytes, series) {
        if (owner.series >= SERIES_CACHE_LIMIT) {
          for (const e of owner.prefixes.values()) e.byBytes.clear();
          owner.prefixes.clear();
          owner.series = 0;
        }
        owner.series++;
        byBytes.set(bytes, series);
      },
    };
    cache.prefixes.set(prefixText, entry);
  }
  return entry;
}

/** The series of a point with these attributes under the entry, or null when no SLI's filters match. */
export function seriesOf(entry: PrefixEntry, attributes: readonly KeyValue[] | undefined): SeriesInfo | null {
  const attrs = attributeMap(attributes);
  const selections = entry.selections.filter((s) => matches(s.query.attributes, attrs));
  if (!selections.length) return null;
  return { key: entry.prefix.copy().update(canonical(attrs)).digest('base64url'), selections };
}

/** Walks an export in the plain shape (OTLP/JSON) once: which points feed which SLIs, which are rejected and why. */
export function prepareExport(request: ExportRequest, plan: OtlpPlan): PreparedExport {
  const items: Array<WalkedPoint | { rejected: number; reason: string }> = [];
  const keys = new Set<string>();
  const reject: Reject = (rejected, reason) => {
    if (rejected > 0) items.push({ rejected, reason });
  };
  for (const rm of request.resourceMetrics ?? []) {
    const resource = resourceKey(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) {
      for (const metric of sm.metrics ?? []) {
        const kind = metric.sum ? 'sum' : metric.histogram ? 'histogram' : undefined;
        const points: ReadonlyArray<NumberDataPoint | HistogramDataPoint> =
          metric.sum?.dataPoints ?? metric.histogram?.dataPoints ?? [];
        const otherCount =
          metric.gauge?.dataPoints?.length ??
          metric.exponentialHistogram?.dataPoints?.length ??
          metric.summary?.dataPoints?.length ??
          0;
        const entry = prefixEntry(plan, {
          name: metric.name ?? '',
          kind,
          otherKind: metric.gauge
            ? 'gauge'
            : metric.exponentialHistogram
              ? 'exp'
              : metric.summary
                ? 'summary'
                : undefined,
          temporality: (metric.sum ?? metric.histogram)?.aggregationTemporality ?? 0,
          monotonic: kind === 'histogram' || metric.sum?.isMonotonic === true,
          count: kind ? points.length : points.length + otherCount,
          resource,
          scopeName: sm.scope?.name ?? '',
          scopeVersion: sm.scope?.version ?? '',
          reject,
        });
        if (!entry) continue;
        for (const point of points) {
          const series = seriesOf(entry, point.attributes);
          if (!series) {
            reject(1, entry.unmatched.reason);
            continue;
          }
          items.push({ series, entry, point: plainPoint(point, kind === 'sum') });
          keys.add(series.key);
        }
      }
    }
  }
  return { items, keys: [...keys] };
}

function plainPoint(point: NumberDataPoint | HistogramDataPoint, sum: boolean): DataPoint {
  const timeNs = nanos(point.timeUnixNano);
  const startNs = nanos(point.startTimeUnixNano) ?? 0n;
  const flags = point.flags ?? 0;
  if (sum) {
    const p = point as NumberDataPoint;
    const value = p.asDouble ?? (p.asInt === undefined ? 0 : Number(p.asInt));
    return { startNs, timeNs, value, flags, buckets: undefined, bounds: undefined };
  }
  const p = point as HistogramDataPoint;
  const buckets = (p.bucketCounts ?? []).map(Number);
  return {
    startNs,
    timeNs,
    value: Number(p.count ?? 0),
    flags,
    buckets: buckets.length ? buckets : undefined,
    bounds: buckets.length ? (p.explicitBounds ?? []) : undefined,
  };
}

/** Maps one export's points to per-minute increments, with the series states before it. */
export function mapExport(
  prepared: PreparedExport,
  before: ReadonlyMap<string, SeriesState>,
  options: MapOptions,
): MapResult {
  const states = new Map<string, SeriesState>();
  // By stream, then minute.
  const increments = new Map<string, Map<number, MinuteIncrement>>();
  const reasons: string[] = [];
  let received = 0;
  let accepted = 0;
  let duplicates = 0;
  let rejected = 0;
  const reject: Reject = (count, reason) => {
    if (count <= 0) return;
    received += count;
    rejected += count;
    if (reasons.length < 10 && !reasons.includes(reason)) reasons.push(reason);
  };
  // The increment each stream was last added to: most points of a stream fall in the same minute.
  const last = new Map<string, MinuteIncrement>();
  const add = (storageKey: string, minuteMs: number, role: 'good' | 'bad' | 'total', n: number) => {
    if (!(n > 0)) return;
    const recent = last.get(storageKey);
    if (recent?.minuteMs === minuteMs) {
      recent[role] += n;
      return;
    }
    let byMinute = increments.get(storageKey);
    if (!byMinute) {
      byMinute = new Map();
      increments.set(storageKey, byMinute);
    }
    let inc = byMinute.get(minuteMs);
    if (!inc) {
      inc = { storageKey, minuteMs, good: 0, bad: 0, total: 0 };
      byMinute.set(minuteMs, inc);
    }
    last.set(storageKey, inc);
    inc[role] += n;
  };
  const minMs = options.nowMs - MAX_PAST_MS;
  const maxMs = options.nowMs + MAX_FUTURE_MS;

  const visit = (walked: WalkedPoint) => {
    const { point, series, entry } = walked;
    const metric = entry.name;
    if ((point.flags & NO_RECORDED_VALUE) !== 0) {
      received++;
      accepted++;
      return;
    }
    const error = pointError(walked);
    if (error !== undefined) return reject(1, error);
    const read = point as ReadPoint;
    const timeMs = Number(read.timeNs / 1_000_000n);
    if (!(timeMs >= minMs && timeMs <= maxMs))
      return reject(
        1,
        `a point of ${JSON.stringify(metric)} is timed ${new Date(timeMs).toISOString()}, outside the accepted 400 days back to 1 hour ahead`,
      );
    const usableOf = (s: Selection) => s.use.kind === 'count' || (read.bounds?.includes(s.use.le) ?? false);
    // Usually every selection is: no new list then.
    const usable = series.selections.every(usableOf) ? series.selections : series.selections.filter(usableOf);
    if (!usable.length) {
      const s = series.selections[0]!;
      return reject(
        1,
        `a point of ${JSON.stringify(metric)} has no bucket boundary ${s.use.kind === 'count' ? '' : s.use.le} (the SLI ${JSON.stringify(s.sli)} counts observations up to it)`,
      );
    }
    const previous = states.get(series.key) ?? before.get(series.key);
    const delta = deltaOf(previous, read, entry.temporality === CUMULATIVE, options);
    received++;
    if (delta.state) states.set(series.key, delta.state);
    if (!delta.counted) {
      duplicates++;
      return;
    }
    accepted++;
    const minuteMs = Math.floor(timeMs / MINUTE_MS) * MINUTE_MS;
    for (const s of usable) {
      const upTo = s.use.kind === 'count' ? delta.count : countUpTo(delta.buckets, read.bounds!, s.use.le);
      if (s.use.kind === 'threshold') {
        add(s.storageKey, minuteMs, 'good', s.use.goodAbove ? delta.count - upTo : upTo);
        add(s.storageKey, minuteMs, 'total', delta.count);
      } else add(s.storageKey, minuteMs, s.use.role, upTo);
    }
  };
  for (const item of prepared.items)
    if ('rejected' in item) reject(item.rejected, item.reason);
    else visit(item);
  return {
    increments: [...increments.values()]
      .flatMap((byMinute) => [...byMinute.values()])
      .sort((a, b) =>
        a.storageKey < b.storageKey ? -1 : a.storageKey > b.storageKey ? 1 : a.minuteMs - b.minuteMs,
      ),
    states,
    received,
    accepted,
    duplicates,
    rejected,
    reasons,
  };
}

interface ReadPoint {
  readonly startNs: bigint;
  readonly timeNs: bigint;
  /** The sum's value or the histogram's count. */
  readonly value: number;
  readonly buckets?: readonly number[] | undefined;
  readonly bounds?: readonly number[] | undefined;
}

/** Why a point cannot be read, or undefined when it can (it is then a ReadPoint). */
function pointError(walked: WalkedPoint): string | undefined {
  const { point, entry } = walked;
  const name = () => JSON.stringify(entry.name);
  const { timeNs } = point;
  if (timeNs === undefined || timeNs <= 0n) return `a point of ${name()} has no time_unix_nano`;
  if (entry.kind === 'sum') {
    const value = point.value;
    if (!Number.isFinite(value) || value < 0)
      return `a point of ${name()} has the value ${value}; a monotonic sum is finite and ≥ 0`;
    return undefined;
  }
  const count = point.value;
  const { buckets, bounds } = point;
  if (!Number.isFinite(count) || count < 0) return `a point of ${name()} has the count ${count}`;
  if (buckets && bounds) {
    let sum = 0;
    let valid = true;
    for (const b of buckets) {
      sum += b;
      if (!Number.isFinite(b) || b < 0) valid = false;
    }
    if (buckets.length !== bounds.length + 1 || !valid || sum !== count)
      return `a point of ${name()} has ${buckets.length} bucket counts for ${bounds.length} bounds (want one more) summing to ${sum}, not its count ${count}`;
    if (!increasing(bounds)) return `a point of ${name()} has bucket bounds that are not strictly increasing`;
  }
  return undefined;
}

/** Bounds arrays checked strictly increasing (they are shared between points of a protobuf export). */
const checkedBounds = new WeakSet<readonly number[]>();

function increasing(bounds: readonly number[]): boolean {
  if (checkedBounds.has(bounds)) return true;
  for (let i = 0; i < bounds.length; i++)
    if (!Number.isFinite(bounds[i]!) || (i > 0 && !(bounds[i]! > bounds[i - 1]!))) return false;
  checkedBounds.add(bounds);
  return true;
}

interface Delta {
  readonly counted: boolean;
  readonly count: number;
  readonly buckets?: readonly number[] | undefined;
  readonly state?: SeriesState | undefined;
}

const NOTHING: Delta = { counted: false, count: 0 };

/** The increase a point brings over its series' previous state (exported for the property tests). */
export function deltaOf(
  previous: SeriesState | undefined,
  point: ReadPoint,
  cumulative: boolean,
  options: Pick<MapOptions, 'newSeriesWindowMs'>,
): Delta {
  const { timeNs, startNs } = point;
  if (!cumulative) {
    if (previous && previous.temporality === 'delta' && point.timeNs <= previous.timeNs) return NOTHING;
    return {
      counted: true,
      count: point.value,
      buckets: point.buckets,
      state: { temporality: 'delta', startNs, timeNs, value: 0 },
    };
  }
  const state: SeriesState = {
    temporality: 'cumulative',
    startNs,
    timeNs,
    value: point.value,
    buckets: point.buckets,
    bounds: point.bounds,
  };
  const whole: Delta = { counted: true, count: point.value, buckets: point.buckets, state };
  if (previous?.temporality !== 'cumulative') {
    const ageMs = Number((point.timeNs - point.startNs) / 1_000_000n);
    if (point.startNs > 0n && ageMs <= options.newSeriesWindowMs) return whole;
    return { counted: true, count: 0, buckets: point.buckets?.map(() => 0), state };
  }
  const prevStart = previous.startNs;
  const prevTime = previous.timeNs;
  // An older incarnation, or a point at or before the last one: already counted (or superseded).
  if (point.startNs < prevStart || point.timeNs <= prevTime) return NOTHING;
  if (point.startNs > prevStart) return whole;
  const sameBuckets =
    (previous.bounds === point.bounds ||
      ((previous.bounds ?? []).length === (point.bounds ?? []).length &&
        (previous.bounds ?? []).every((b, i) => b === point.bounds?.[i]))) &&
    (previous.buckets?.length ?? 0) === (point.buckets?.length ?? 0);
  const dropped =
    point.value < previous.value || (point.buckets ?? []).some((b, i) => b < (previous.buckets?.[i] ?? 0));
  if (dropped || !sameBuckets) return whole;
  return {
    counted: true,
    count: point.value - previous.value,
    buckets: point.buckets?.map((b, i) => b - (previous.buckets?.[i] ?? 0)),
    state,
  };
}

function countUpTo(buckets: readonly number[] | undefined, bounds: readonly number[], le: number): number {
  const index = bounds.indexOf(le);
  if (!buckets || index < 0) return 0;
  let n = 0;
  for (let i = 0; i <= index; i++) n += buckets[i] ?? 0;
  return n;
}

function nanos(text: string | undefined): bigint | undefined {
  if (text === undefined || !/^\d{1,20}$/.test(text)) return undefined;
  return BigInt(text);
}

function attributeMap(list: readonly KeyValue[] | undefined): Map<string, Scalar> {
  const out = new Map<string, Scalar>();
  for (const kv of list ?? []) {
    if (kv.key === undefined) continue;
    const v = kv.value;
    if (!v) continue;
    if (v.stringValue !== undefined) out.set(kv.key, v.stringValue);
    else if (v.boolValue !== undefined) out.set(kv.key, v.boolValue);
    else if (v.intValue !== undefined) out.set(kv.key, Number(v.intValue));
    else if (v.doubleValue !== undefined) out.set(kv.key, v.doubleValue);
    else out.set(kv.key, JSON.stringify(v));
  }
  return out;
}

function canonical(attrs: Attributes): string {
  const keys = [...attrs.keys()].sort();
  let text = '';
  for (let i = 0; i < keys.length; i++) {
    const v = attrs.get(keys[i]!)!;
    text += `${i ? '\u0001' : ''}${keys[i]}\u0002${typeof v}\u0002${String(v)}`;
  }
  return text;
}

function asNumber(v: Scalar | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function equals(filter: Scalar, v: Scalar | undefined): boolean {
  if (v === undefined) return false;
  if (typeof filter === 'number') return asNumber(v) === filter;
  if (typeof filter === 'boolean') return v === filter;
  return String(v) === filter;
}

function matchOne(filter: AttributeFilter, v: Scalar | undefined): boolean {
  switch (filter.kind) {
    case 'equals':
      return equals(filter.value, v);
    case 'oneOf':
      return filter.values.some((f) => equals(f, v));
    case 'range': {
      const n = asNumber(v);
      if (n === undefined) return false;
      return (
        (filter.gt === undefined || n > filter.gt) &&
        (filter.gte === undefined || n >= filter.gte) &&
        (filter.lt === undefined || n < filter.lt) &&
        (filter.lte === undefined || n <= filter.lte)
      );
    }
  }
}

/** True when every filter holds for the attributes. */
export function matches(filters: Filters, attrs: Attributes): boolean {
  for (const [key, filter] of filters) if (!matchOne(filter, attrs.get(key))) return false;
  return true;
}
