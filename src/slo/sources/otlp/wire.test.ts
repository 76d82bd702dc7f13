import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { loadSpecText } from '../../spec/load.js';
import { mapExport, type PreparedExport, prepareExport, type SeriesState } from './core.js';
import { otlpPlan } from './plan.js';
import { decodeJson, decodeProtobuf } from './proto.js';
import { decodeState, encodeState } from './states.js';
import { prepareProtobuf } from './wire.js';

/** A sender's own declaration of the opentelemetry-proto v1 messages (not the receiver's). */
const SENDER = protobuf
  .parse(`
syntax = "proto3";
package t;
message Req { repeated RM resource_metrics = 1; }
message RM { Res resource = 1; repeated SM scope_metrics = 2; string schema_url = 3; }
message Res { repeated KV attributes = 1; }
message SM { Scope scope = 1; repeated Metric metrics = 2; }
message Scope { string name = 1; string version = 2; }
message KV { string key = 1; AV value = 2; }
message AV { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
message Metric { string name = 1; string unit = 3; oneof data { Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; } }
message Gauge { repeated NDP data_points = 1; }
message Sum { repeated NDP data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HDP data_points = 1; int32 aggregation_temporality = 2; }
message NDP { fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; double as_double = 4; sfixed64 as_int = 6; repeated KV attributes = 7; uint32 flags = 8; }
message HDP { fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; fixed64 count = 4; double sum = 5;
  repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7; repeated KV attributes = 9; uint32 flags = 10; }
`)
  .root.lookupType('t.Req');

const { catalog } = loadSpecText(
  'w.yaml',
  `apiVersion: openslo/v1
kind: SLO
metadata: {name: a}
spec:
  service: x
  indicator:
    metadata: {name: requests}
    spec: {ratioMetric: {counter: true, good: {metricSource: {type: otlp, spec: {metric: d, resource: {service.name: s0}, attributes: {code: {lt: 500}}}}}, total: {metricSource: {type: otlp, spec: {metric: d, resource: {service.name: s0}}}}}}
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.9}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: b}
spec:
  service: x
  indicator:
    metadata: {name: latency}
    spec: {thresholdMetric: {metricSource: {type: otlp, spec: {metric: d, boundaries: [0.1, 0.25, 1]}}}}
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{op: lte, value: 0.25, target: 0.9}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: c}
spec:
  service: x
  indicator:
    metadata: {name: orders}
    spec: {ratioMetric: {counter: true, bad: {metricSource: {type: otlp, spec: {metric: o, attributes: {ok: false}}}}, total: {metricSource: {type: otlp, spec: {metric: o}}}}}
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.9}]
`,
);
const plan = otlpPlan(catalog);
const NOW_MS = 1_800_000_000_000;
const ns = (ms: number) => String(BigInt(ms) * 1_000_000n);

const attribute = fc.oneof(
  fc.record({
    key: fc.constantFrom('code', 'route', 'ok'),
    value: fc.record({ intValue: fc.constantFrom(200, 404, 500) }),
  }),
  fc.record({
    key: fc.constantFrom('route', 'ok', 'x'),
    value: fc.record({ stringValue: fc.constantFrom('/a', 'b', '') }),
  }),
  fc.record({ key: fc.constantFrom('ok', 'y'), value: fc.record({ boolValue: fc.boolean() }) }),
);
const times = fc.record({
  start: fc.integer({ min: 0, max: 600_000 }),
  time: fc.integer({ min: 1, max: 1_200_000 }),
});
const histogramPoint = fc
  .record({
    attributes: fc.array(attribute, { maxLength: 4 }),
    t: times,
    buckets: fc.array(fc.nat(40), { minLength: 4, maxLength: 4 }),
    bounds: fc.constantFrom([0.1, 0.25, 1], [0.1, 0.5, 1], [0.25, 0.1, 1]),
    flags: fc.constantFrom(0, 0, 1),
  })
  .map((p) => ({
    attributes: p.attributes,
    startTimeUnixNano: p.t.start ? ns(NOW_MS - 3_000_000 + p.t.start) : '0',
    timeUnixNano: ns(NOW_MS - 3_000_000 + p.t.time),
    count: p.buckets.reduce((a, b) => a + b, 0),
    bucketCounts: p.buckets,
    explicitBounds: p.bounds,
    flags: p.flags,
  }));
const sumPoint = fc
  .record({
    attributes: fc.array(attribute, { maxLength: 3 }),
    t: times,
    value: fc.oneof(
      fc.record({ asInt: fc.integer({ min: -2, max: 1_000 }) }),
      fc.record({ asDouble: fc.double({ min: -1, max: 1e6, noNaN: true }) }),
    ),
  })
  .map((p) => ({
    attributes: p.attributes,
    startTimeUnixNano: ns(NOW_MS - 3_000_000 + p.t.start),
    timeUnixNano: ns(NOW_MS - 3_000_000 + p.t.time),
    ...p.value,
  }));
const metric = fc.oneof(
  fc.record({
    name: fc.constant('d'),
    histogram: fc.record({
      dataPoints: fc.array(histogramPoint, { maxLength: 4 }),
      aggregationTemporality: fc.constantFrom(1, 2, 0),
    }),
  }),
  fc.record({
    name: fc.constantFrom('o', 'unknown'),
    sum: fc.record({
      dataPoints: fc.array(sumPoint, { maxLength: 4 }),
      aggregationTemporality: fc.constantFrom(1, 2),
      isMonotonic: fc.boolean(),
    }),
  }),
  fc.record({
    name: fc.constant('o'),
    gauge: fc.record({ dataPoints: fc.array(sumPoint, { maxLength: 2 }) }),
  }),
);
const exportRequest = fc.record({
  resourceMetrics: fc.array(
    fc.record({
      resource: fc.record({
        attributes: fc.array(
          fc.record({
            key: fc.constantFrom('service.name', 'host'),
            value: fc.record({ stringValue: fc.constantFrom('s0', 's1') }),
          }),
          { maxLength: 2 },
        ),
      }),
      scopeMetrics: fc.array(
        fc.record({
          scope: fc.record({ name: fc.constantFrom('lib', ''), version: fc.constantFrom('1', '') }),
          metrics: fc.array(metric, { maxLength: 3 }),
        }),
        { maxLength: 2 },
      ),
    }),
    { maxLength: 3 },
  ),
});

/** Maps an export twice (a retry) from no state, returning what each pass gives. */
function replay(prepare: () => PreparedExport) {
  const states = new Map<string, SeriesState>();
  return [0, 1].map(() => {
    const prepared = prepare();
    const result = mapExport(prepared, states, { nowMs: NOW_MS, newSeriesWindowMs: 600_000 });
    for (const [k, v] of result.states) states.set(k, v);
    return { keys: [...prepared.keys].sort(), ...result, states: [...result.states].sort() };
  });
}

describe('OTLP protobuf walk (wire.ts)', () => {
  it('gives the keys, increments, states and rejections of protobufjs decoding and of the same export in OTLP/JSON', () => {
    fc.assert(
      fc.property(exportRequest, (request) => {
        const bytes = SENDER.encode(SENDER.fromObject(request)).finish();
        const viaWire = replay(() => prepareProtobuf(bytes, plan));
        const decoded = decodeProtobuf(bytes);
        if (!decoded.ok) throw new Error(decoded.error);
        expect(viaWire).toEqual(replay(() => prepareExport(decoded.request, plan)));
        const json = decodeJson(
          JSON.stringify(SENDER.toObject(SENDER.fromObject(request), { longs: String })),
        );
        if (!json.ok) throw new Error(json.error);
        expect(viaWire).toEqual(replay(() => prepareExport(json.request, plan)));
      }),
      { numRuns: 300 },
    );
  });

  it('throws (answered 400) rather than crashing or hanging on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          prepareProtobuf(bytes, plan);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('OTLP stored series states', () => {
  it('are the JSON every version writes, byte for byte, and read back', () => {
    const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
    const state = fc.oneof(
      fc.record({
        temporality: fc.constant('delta' as const),
        startNs: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        timeNs: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        value: fc.constant(0),
      }),
      fc.record(
        {
          temporality: fc.constant('cumulative' as const),
          startNs: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          timeNs: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          value: finite,
          buckets: fc.array(fc.nat()),
          bounds: fc.array(finite),
        },
        { requiredKeys: ['temporality', 'startNs', 'timeNs', 'value'] },
      ),
    );
    fc.assert(
      fc.property(state, (s: SeriesState) => {
        const text = encodeState(s);
        expect(text).toBe(JSON.stringify({ ...s, startNs: String(s.startNs), timeNs: String(s.timeNs) }));
        expect(decodeState(text)).toEqual(
          JSON.parse(JSON.stringify({ ...s, startNs: 0, timeNs: 0 }), (k, v) =>
            k === 'startNs' ? s.startNs : k === 'timeNs' ? s.timeNs : v,
          ),
        );
      }),
      { numRuns: 500 },
    );
  });
});
