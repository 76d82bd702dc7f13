/**
 * OTLP metrics wire formats (pure): decodes an ExportMetricsServiceRequest from protobuf or
 * OTLP/JSON into one plain shape, and encodes the ExportMetricsServiceResponse and the error
 * Status. Decoding is protobufjs's; the schema below declares only the messages and fields the
 * receiver reads, with the field numbers of opentelemetry-proto v1 (metrics.proto, common.proto,
 * resource.proto, metrics_service.proto; google.rpc.Status). Undeclared fields are skipped, as
 * the OTLP spec asks of receivers.
 */
import protobuf from 'protobufjs';

const SCHEMA = `
syntax = "proto3";
package shinrai.otlp;

message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1; }
message ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string error_message = 2; }
message Status { int32 code = 1; string message = 2; }

message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }

message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }

message Metric {
  string name = 1;
  string description = 2;
  string unit = 3;
  oneof data {
    Gauge gauge = 5;
    Sum sum = 7;
    Histogram histogram = 9;
    ExponentialHistogram exponential_histogram = 10;
    Summary summary = 11;
  }
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message ExponentialHistogram { repeated OtherDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message Summary { repeated OtherDataPoint data_points = 1; }

message NumberDataPoint {
  repeated KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; }
  uint32 flags = 8;
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7;
  uint32 flags = 10;
}
// Exponential histograms and summaries are recognised (and refused), not read.
message OtherDataPoint { fixed64 time_unix_nano = 3; }
`;

const root = protobuf.parse(SCHEMA, { keepCase: false }).root;
const RequestType = root.lookupType('shinrai.otlp.ExportMetricsServiceRequest');
const ResponseType = root.lookupType('shinrai.otlp.ExportMetricsServiceResponse');
const StatusType = root.lookupType('shinrai.otlp.Status');

/** An attribute value as OTLP carries it. */
export interface AnyValue {
  readonly stringValue?: string;
  readonly boolValue?: boolean;
  readonly intValue?: string | number;
  readonly doubleValue?: number;
  readonly arrayValue?: { readonly values?: readonly AnyValue[] };
  readonly kvlistValue?: { readonly values?: readonly KeyValue[] };
  readonly bytesValue?: string;
}
export interface KeyValue {
  readonly key?: string;
  readonly value?: AnyValue;
}
export interface NumberDataPoint {
  readonly attributes?: readonly KeyValue[];
  readonly startTimeUnixNano?: string;
  readonly timeUnixNano?: string;
  readonly asDouble?: number;
  readonly asInt?: string | number;
  readonly flags?: number;
}
export interface HistogramDataPoint {
  readonly attributes?: readonly KeyValue[];
  readonly startTimeUnixNano?: string;
  readonly timeUnixNano?: string;
  readonly count?: string | number;
  readonly bucketCounts?: readonly (string | number)[];
  readonly explicitBounds?: readonly number[];
  readonly flags?: number;
}
export interface Metric {
  readonly name?: string;
  readonly gauge?: { readonly dataPoints?: readonly unknown[] };
  readonly sum?: {
    readonly dataPoints?: readonly NumberDataPoint[];
    readonly aggregationTemporality?: number;
    readonly isMonotonic?: boolean;
  };
  readonly histogram?: {
    readonly dataPoints?: readonly HistogramDataPoint[];
    readonly aggregationTemporality?: number;
  };
  readonly exponentialHistogram?: { readonly dataPoints?: readonly unknown[] };
  readonly summary?: { readonly dataPoints?: readonly unknown[] };
}
export interface ExportRequest {
  readonly resourceMetrics?: ReadonlyArray<{
    readonly resource?: { readonly attributes?: readonly KeyValue[] };
    readonly scopeMetrics?: ReadonlyArray<{
      readonly scope?: { readonly name?: string; readonly version?: string };
      readonly metrics?: readonly Metric[];
    }>;
  }>;
}

/** protobufjs's object form: 64-bit integers as decimal text, enums as numbers, bytes as base64. */
const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: Number,
  bytes: String,
  defaults: false,
  arrays: false,
  oneofs: false,
};

export type Decoded = { ok: true; request: ExportRequest } | { ok: false; error: string };

/** Decodes a protobuf body; never throws. */
export function decodeProtobuf(body: Uint8Array): Decoded {
  try {
    const message = RequestType.decode(body);
    return { ok: true, request: toRequest(message as unknown as MessageRequest) };
  } catch (error) {
    return {
      ok: false,
      error: `the body is not an OTLP ExportMetricsServiceRequest in protobuf (${oneLine(error)})`,
    };
  }
}

/** Decodes an OTLP/JSON body (UTF-8 text); never throws. */
export function decodeJson(text: string): Decoded {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `the body is not JSON (${oneLine(error)})` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return {
      ok: false,
      error: 'the body is not an OTLP ExportMetricsServiceRequest: a JSON object is expected',
    };
  try {
    const message = RequestType.fromObject(parsed as Record<string, unknown>);
    return { ok: true, request: toRequest(message as unknown as MessageRequest) };
  } catch (error) {
    return {
      ok: false,
      error: `the body is not an OTLP ExportMetricsServiceRequest in JSON (${oneLine(error)})`,
    };
  }
}

/** A 64-bit integer as protobufjs decodes it (long.js). */
interface Long {
  toString(): string;
  toNumber(): number;
}
type Int64 = Long | number | string;

// The decoded message as protobufjs builds it: unset fields read their defaults from the prototype
// (unset oneof members read null), 64-bit integers are Longs.
interface MessageKeyValue {
  readonly key: string;
  readonly value: MessageAnyValue | null;
}
interface MessageAnyValue {
  /** The oneof: the name of the member that is set (protobufjs's virtual getter). */
  readonly value: string | undefined;
  readonly stringValue: string | null;
  readonly boolValue: boolean | null;
  readonly intValue: Int64 | null;
  readonly doubleValue: number | null;
}
interface MessageNumberPoint {
  readonly attributes: readonly MessageKeyValue[];
  readonly startTimeUnixNano: Int64;
  readonly timeUnixNano: Int64;
  /** The oneof: asDouble or asInt (protobufjs's virtual getter). */
  readonly value: string | undefined;
  readonly asDouble: number | null;
  readonly asInt: Int64 | null;
  readonly flags: number;
}
interface MessageHistogramPoint {
  readonly attributes: readonly MessageKeyValue[];
  readonly startTimeUnixNano: Int64;
  readonly timeUnixNano: Int64;
  readonly count: Int64;
  readonly bucketCounts: readonly Int64[];
  readonly explicitBounds: readonly number[];
  readonly flags: number;
}
interface MessageMetric {
  readonly name: string;
  readonly gauge: { readonly dataPoints: readonly unknown[] } | null;
  readonly sum: {
    readonly dataPoints: readonly MessageNumberPoint[];
    readonly aggregationTemporality: number;
    readonly isMonotonic: boolean;
  } | null;
  readonly histogram: {
    readonly dataPoints: readonly MessageHistogramPoint[];
    readonly aggregationTemporality: number;
  } | null;
  readonly exponentialHistogram: { readonly dataPoints: readonly unknown[] } | null;
  readonly summary: { readonly dataPoints: readonly unknown[] } | null;
}
interface MessageRequest {
  readonly resourceMetrics: ReadonlyArray<{
    readonly resource: { readonly attributes: readonly MessageKeyValue[] } | null;
    readonly scopeMetrics: ReadonlyArray<{
      readonly scope: { readonly name: string; readonly version: string } | null;
      readonly metrics: readonly MessageMetric[];
    }>;
  }>;
}

const AnyValueType = root.lookupType('shinrai.otlp.AnyValue');
const KeyValueType = root.lookupType('shinrai.otlp.KeyValue');

/** One KeyValue message's bytes (without its tag and length), in the plain shape. */
export function decodeKeyValue(bytes: Uint8Array): KeyValue {
  return toAttributes([KeyValueType.decode(bytes) as unknown as MessageKeyValue])[0]!;
}

const text64 = (v: Int64): string => (typeof v === 'object' ? v.toString() : String(v));
const number64 = (v: Int64): number => (typeof v === 'object' ? v.toNumber() : Number(v));
const orUndefined = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

function toAnyValue(v: MessageAnyValue): AnyValue {
  // Unset members read their defaults ("" or 0) from the prototype: the oneof says which is set.
  const set = v.value;
  if (set === undefined) return {};
  if (set === 'stringValue') return { stringValue: v.stringValue! };
  if (set === 'intValue') return { intValue: number64(v.intValue!) };
  if (set === 'boolValue') return { boolValue: v.boolValue! };
  if (set === 'doubleValue') return { doubleValue: v.doubleValue! };
  // Arrays, lists and bytes are rare: protobufjs's own conversion, as series keys were made from it.
  return AnyValueType.toObject(v as unknown as protobuf.Message, TO_OBJECT) as AnyValue;
}

function toAttributes(list: readonly MessageKeyValue[]): KeyValue[] {
  const out: KeyValue[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const kv = list[i]!;
    out[i] = { key: kv.key, value: kv.value ? toAnyValue(kv.value) : undefined };
  }
  return out;
}

/**
 * The decoded message in the plain shape the core reads, built by hand rather than by protobufjs's
 * toObject: that one turns every 64-bit integer (17 of them in a histogram point) into decimal
 * text, most of the decode's cost. Times stay text (exact); counts become numbers.
 */
function toRequest(m: MessageRequest): ExportRequest {
  return {
    resourceMetrics: m.resourceMetrics.map((rm) => ({
      resource: rm.resource ? { attributes: toAttributes(rm.resource.attributes) } : undefined,
      scopeMetrics: rm.scopeMetrics.map((sm) => ({
        scope: sm.scope ? { name: sm.scope.name, version: sm.scope.version } : undefined,
        metrics: sm.metrics.map(toMetric),
      })),
    })),
  };
}

function toMetric(metric: MessageMetric): Metric {
  const name = metric.name;
  if (metric.sum)
    return {
      name,
      sum: {
        aggregationTemporality: metric.sum.aggregationTemporality,
        isMonotonic: metric.sum.isMonotonic,
        dataPoints: metric.sum.dataPoints.map((p) => ({
          attributes: toAttributes(p.attributes),
          startTimeUnixNano: text64(p.startTimeUnixNano),
          timeUnixNano: text64(p.timeUnixNano),
          asDouble: p.value === 'asDouble' ? orUndefined(p.asDouble) : undefined,
          asInt: p.value === 'asInt' && p.asInt !== null ? number64(p.asInt) : undefined,
          flags: p.flags,
        })),
      },
    };
  if (metric.histogram)
    return {
      name,
      histogram: {
        aggregationTemporality: metric.histogram.aggregationTemporality,
        dataPoints: metric.histogram.dataPoints.map((p) => ({
          attributes: toAttributes(p.attributes),
          startTimeUnixNano: text64(p.startTimeUnixNano),
          timeUnixNano: text64(p.timeUnixNano),
          count: number64(p.count),
          bucketCounts: p.bucketCounts.map(number64),
          explicitBounds: p.explicitBounds,
          flags: p.flags,
        })),
      },
    };
  const other = (x: { readonly dataPoints: readonly unknown[] } | null) =>
    x ? { dataPoints: x.dataPoints } : undefined;
  return {
    name,
    gauge: other(metric.gauge),
    exponentialHistogram: other(metric.exponentialHistogram),
    summary: other(metric.summary),
  };
}

export interface PartialSuccess {
  readonly rejectedDataPoints: number;
  readonly errorMessage: string;
}

/** The response message as protobuf bytes; an empty message when nothing was rejected. */
export function encodeResponseProtobuf(partial: PartialSuccess | undefined): Uint8Array {
  return ResponseType.encode(ResponseType.fromObject(partial ? { partialSuccess: partial } : {})).finish();
}

/** The response message in OTLP/JSON (64-bit integers as text, as the protobuf JSON mapping writes them). */
export function responseJson(partial: PartialSuccess | undefined): Record<string, unknown> {
  return partial
    ? {
        partialSuccess: {
          rejectedDataPoints: String(partial.rejectedDataPoints),
          errorMessage: partial.errorMessage,
        },
      }
    : {};
}

/** gRPC status codes used in OTLP/HTTP error bodies. */
export const RPC_CODE = {
  INVALID_ARGUMENT: 3,
  PERMISSION_DENIED: 7,
  UNAUTHENTICATED: 16,
  UNAVAILABLE: 14,
  INTERNAL: 13,
} as const;

/** A google.rpc.Status as protobuf bytes: the error body of a protobuf request. */
export function encodeStatus(code: number, message: string): Uint8Array {
  return StatusType.encode(StatusType.fromObject({ code, message })).finish();
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').slice(0, 200);
}
