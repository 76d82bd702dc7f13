/**
 * OTLP protobuf exports matched against the plan while they are read (pure): the hot path of the
 * receiver. protobufjs's `Reader` walks the messages (tags, lengths, varints, doubles, strings,
 * skipping unknown fields as the spec asks) and the points go straight into the shape the mapping
 * reads, with no message object, Long or converted copy per field. A point's attributes are not
 * decoded at all once its series is known: the series (its key and the SLIs it feeds) is
 * remembered per plan by the exact bytes of the point's attributes under its (metric, resource,
 * scope), so a fleet's steady stream of points costs a map lookup each. Bytes not seen before are
 * decoded by protobufjs's own KeyValue type and go through the same matching and key as the JSON
 * path (`seriesOf` in core.ts), so keys and answers are the same whichever way a point came.
 */
import protobuf from 'protobufjs';
import {
  type DataPoint,
  type PrefixEntry,
  type PreparedExport,
  prefixEntry,
  type ResourceKey,
  resourceKey,
  type SeriesInfo,
  seriesOf,
  type WalkedPoint,
} from './core.js';
import type { OtlpPlan } from './plan.js';
import { decodeKeyValue, type KeyValue } from './proto.js';

const { Reader } = protobuf;
type ReaderT = protobuf.Reader;

/** Wire types. */
const VARINT = 0;
const I64 = 1;
const LEN = 2;

type Range = readonly [start: number, end: number];

/** The ranges of a length-delimited field, by field number, and the other fields skipped. */
function fields(r: ReaderT, end: number, wanted: readonly number[]): Range[][] {
  const out: Range[][] = wanted.map(() => []);
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const index = (tag & 7) === LEN ? wanted.indexOf(field) : -1;
    if (index < 0) {
      r.skipType(tag & 7);
      continue;
    }
    const length = r.uint32();
    out[index]!.push([r.pos, r.pos + length]);
    r.skip(length);
  }
  return out;
}

function keyValues(buf: Uint8Array, ranges: readonly Range[]): KeyValue[] {
  const out: KeyValue[] = [];
  for (const [start, end] of ranges) out.push(decodeKeyValue(buf.subarray(start, end)));
  return out;
}

/**
 * Reads and matches a protobuf ExportMetricsServiceRequest; throws (a malformed message) like
 * protobufjs's decode does, which the caller answers 400.
 */
export function prepareProtobuf(body: Uint8Array, plan: OtlpPlan): PreparedExport {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const r = Reader.create(buf);
  const items: Array<WalkedPoint | { rejected: number; reason: string }> = [];
  const keys = new Set<string>();
  const reject = (rejected: number, reason: string) => {
    if (rejected > 0) items.push({ rejected, reason });
  };
  for (const [rmStart, rmEnd] of fields(r, buf.length, [1])[0]!) {
    r.pos = rmStart;
    const [resources, scopeMetrics] = fields(r, rmEnd, [1, 2]);
    // Resource { repeated KeyValue attributes = 1 }: the last one, as protobufjs's decode keeps.
    const resourceRange = resources!.at(-1);
    let attrs: KeyValue[] = [];
    if (resourceRange) {
      r.pos = resourceRange[0];
      attrs = keyValues(buf, fields(r, resourceRange[1], [1])[0]!);
    }
    const resource = resourceKey(attrs);
    for (const [smStart, smEnd] of scopeMetrics!) {
      r.pos = smStart;
      const [scopes, metrics] = fields(r, smEnd, [1, 2]);
      let scopeName = '';
      let scopeVersion = '';
      const scope = scopes!.at(-1);
      if (scope) {
        r.pos = scope[0];
        while (r.pos < scope[1]) {
          const tag = r.uint32();
          if (tag === ((1 << 3) | LEN)) scopeName = r.string();
          else if (tag === ((2 << 3) | LEN)) scopeVersion = r.string();
          else r.skipType(tag & 7);
        }
      }
      for (const [mStart, mEnd] of metrics!)
        readMetric(r, buf, mStart, mEnd, plan, resource, scopeName, scopeVersion, items, keys, reject);
    }
  }
  return { items, keys: [...keys] };
}

const DATA_FIELDS = [5, 7, 9, 10, 11]; // gauge, sum, histogram, exponential histogram, summary

function readMetric(
  r: ReaderT,
  buf: Buffer,
  start: number,
  end: number,
  plan: OtlpPlan,
  resource: ResourceKey,
  scopeName: string,
  scopeVersion: string,
  items: Array<WalkedPoint | { rejected: number; reason: string }>,
  keys: Set<string>,
  reject: (count: number, reason: string) => void,
): void {
  r.pos = start;
  let name = '';
  let dataField = 0;
  let data: Range | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (tag === ((1 << 3) | LEN)) name = r.string();
    else if ((tag & 7) === LEN && DATA_FIELDS.includes(field)) {
      const length = r.uint32();
      dataField = field;
      data = [r.pos, r.pos + length];
      r.skip(length);
    } else r.skipType(tag & 7);
  }
  // The data message: its points' ranges, temporality and monotonicity, in any field order.
  const points: number[] = []; // start, end of each point
  let temporality = 0;
  let monotonic = false;
  if (data) {
    r.pos = data[0];
    while (r.pos < data[1]) {
      const tag = r.uint32();
      if (tag === ((1 << 3) | LEN)) {
        const length = r.uint32();
        points.push(r.pos, r.pos + length);
        r.skip(length);
      } else if (tag === ((2 << 3) | VARINT) && dataField !== 11) temporality = r.int32();
      else if (tag === ((3 << 3) | VARINT) && dataField === 7) monotonic = r.bool();
      else r.skipType(tag & 7);
    }
  }
  const kind = dataField === 7 ? 'sum' : dataField === 9 ? 'histogram' : undefined;
  const entry = prefixEntry(plan, {
    name,
    kind,
    temporality,
    monotonic: kind === 'histogram' || monotonic,
    otherKind:
      dataField === 5 ? 'gauge' : dataField === 10 ? 'exp' : dataField === 11 ? 'summary' : undefined,
    count: points.length / 2,
    resource,
    scopeName,
    scopeVersion,
    reject,
  });
  if (!entry) return;
  for (let i = 0; i < points.length; i += 2) {
    r.pos = points[i]!;
    const pEnd = points[i + 1]!;
    const walked =
      kind === 'sum' ? readNumberPoint(r, buf, pEnd, entry) : readHistogramPoint(r, buf, pEnd, entry);
    if ('rejected' in walked) reject(walked.rejected, walked.reason);
    else {
      items.push(walked);
      keys.add(walked.series.key);
    }
  }
}

/** Little-endian unsigned 64-bit integer as a number (exact below 2^53, as Long.toNumber). */
function fixed64Number(r: ReaderT): number {
  const lo = r.fixed32();
  const hi = r.fixed32();
  return hi * 4_294_967_296 + lo;
}

function sfixed64Number(r: ReaderT): number {
  const lo = r.fixed32();
  const hi = r.sfixed32();
  return hi * 4_294_967_296 + lo;
}

function fixed64Big(r: ReaderT, buf: Buffer): bigint {
  const v = buf.readBigUInt64LE(r.pos);
  r.skip(8);
  return v;
}

/**
 * Attribute bytes of a point: the repeated KeyValue fields with their tags and lengths, as one
 * range when they are contiguous (as every encoder writes them), else the ranges joined.
 */
class AttrBytes {
  start = -1;
  end = -1;
  before = '';
  add(buf: Buffer, tagPos: number, end: number): void {
    if (this.start < 0) {
      this.start = tagPos;
      this.end = end;
    } else if (tagPos === this.end) this.end = end;
    else {
      this.before += buf.toString('latin1', this.start, this.end);
      this.start = tagPos;
      this.end = end;
    }
  }
  text(buf: Buffer): string {
    return this.start < 0 ? this.before : this.before + buf.toString('latin1', this.start, this.end);
  }
}

function seriesFor(entry: PrefixEntry, attrText: string): SeriesInfo | null {
  let series = entry.byBytes.get(attrText);
  if (series === undefined) {
    series = seriesOf(entry, attributesOfBytes(attrText));
    entry.remember(attrText, series);
  }
  return series;
}

function attributesOfBytes(text: string): KeyValue[] {
  const bytes = Buffer.from(text, 'latin1');
  const r = Reader.create(bytes);
  const out: KeyValue[] = [];
  while (r.pos < bytes.length) {
    r.uint32(); // the tag: every range is a point's attributes field
    const length = r.uint32();
    out.push(decodeKeyValue(bytes.subarray(r.pos, r.pos + length)));
    r.skip(length);
  }
  return out;
}

function readNumberPoint(
  r: ReaderT,
  buf: Buffer,
  end: number,
  entry: PrefixEntry,
): WalkedPoint | { rejected: number; reason: string } {
  const attrs = new AttrBytes();
  let startNs = 0n;
  let timeNs = 0n;
  let value = 0;
  let flags = 0;
  while (r.pos < end) {
    const tagPos = r.pos;
    const tag = r.uint32();
    switch (tag) {
      case (7 << 3) | LEN: {
        const length = r.uint32();
        r.skip(length);
        attrs.add(buf, tagPos, r.pos);
        break;
      }
      case (2 << 3) | I64:
        startNs = fixed64Big(r, buf);
        break;
      case (3 << 3) | I64:
        timeNs = fixed64Big(r, buf);
        break;
      case (4 << 3) | I64:
        value = r.double();
        break;
      case (6 << 3) | I64:
        value = sfixed64Number(r);
        break;
      case (8 << 3) | VARINT:
        flags = r.uint32();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  const series = seriesFor(entry, attrs.text(buf));
  if (!series) return entry.unmatched;
  const point: DataPoint = { startNs, timeNs, value, flags, buckets: undefined, bounds: undefined };
  return { series, entry, point };
}

function readHistogramPoint(
  r: ReaderT,
  buf: Buffer,
  end: number,
  entry: PrefixEntry,
): WalkedPoint | { rejected: number; reason: string } {
  const attrs = new AttrBytes();
  let startNs = 0n;
  let timeNs = 0n;
  let count = 0;
  let flags = 0;
  const buckets: number[] = [];
  let bounds: number[] | undefined;
  while (r.pos < end) {
    const tagPos = r.pos;
    const tag = r.uint32();
    switch (tag) {
      case (9 << 3) | LEN: {
        const length = r.uint32();
        r.skip(length);
        attrs.add(buf, tagPos, r.pos);
        break;
      }
      case (2 << 3) | I64:
        startNs = fixed64Big(r, buf);
        break;
      case (3 << 3) | I64:
        timeNs = fixed64Big(r, buf);
        break;
      case (4 << 3) | I64:
        count = fixed64Number(r);
        break;
      case (6 << 3) | LEN: {
        const stop = r.uint32() + r.pos;
        while (r.pos < stop) buckets.push(fixed64Number(r));
        break;
      }
      case (6 << 3) | I64:
        buckets.push(fixed64Number(r));
        break;
      case (7 << 3) | LEN: {
        const length = r.uint32();
        bounds = internBounds(entry, buf, r.pos, r.pos + length, bounds);
        r.skip(length);
        break;
      }
      case (7 << 3) | I64:
        bounds = [...(bounds ?? []), r.double()];
        break;
      case (10 << 3) | VARINT:
        flags = r.uint32();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  const series = seriesFor(entry, attrs.text(buf));
  if (!series) return entry.unmatched;
  const point: DataPoint = {
    startNs,
    timeNs,
    value: count,
    flags,
    buckets: buckets.length ? buckets : undefined,
    bounds: buckets.length ? (bounds ?? []) : undefined,
  };
  return { series, entry, point };
}

/**
 * Packed bounds: one array per distinct bytes (they are the same for every point of a histogram),
 * compared with the entry's last ones first.
 */
function internBounds(
  entry: PrefixEntry,
  buf: Buffer,
  start: number,
  end: number,
  before: number[] | undefined,
): number[] {
  const last = entry.lastBounds;
  let bounds: number[] | undefined;
  if (
    last &&
    last.bytes.length === end - start &&
    buf.compare(last.bytes, 0, last.bytes.length, start, end) === 0
  )
    bounds = last.bounds;
  else {
    const text = buf.toString('latin1', start, end);
    bounds = entry.bounds.get(text);
    if (!bounds) {
      bounds = [];
      for (let i = start; i + 8 <= end; i += 8) bounds.push(buf.readDoubleLE(i));
      if (entry.bounds.size < 64) entry.bounds.set(text, bounds);
    }
    entry.lastBounds = { bytes: Buffer.from(buf.subarray(start, end)), bounds };
  }
  return before ? [...before, ...bounds] : bounds;
}
