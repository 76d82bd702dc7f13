import { z } from 'zod';
import type { Duration, DurationUnit } from '../duration.js';
import type {
  Annotations,
  Indicator,
  Labels,
  MetricSource,
  ObjectMeta,
  ServiceDefinition,
  SliDefinition,
  SourceLocation,
  TimeWindow,
} from '../model.js';
import {
  asRecord,
  Checker,
  checkCalendar,
  closest,
  type RuleParams,
  specObject,
  withRules,
} from './check.js';
import type { PathSegment, SpecObject } from './documents.js';
import type { ParsedObject, PendingSlo } from './parsed.js';
import { readShinraiMetadata } from './shinrai-metadata.js';

export const OPENSLO_V1ALPHA = 'openslo/v1alpha';

/** Sloth's default period, used when an SLO has no time window (Sloth allows that). */
const DEFAULT_WINDOW: TimeWindow = { kind: 'rolling', duration: { count: 30, unit: 'd' } };

/** Sloth's name rule: the names become Prometheus label values `sloth_slo` / `sloth_service`. */
const NAME = /^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$/;
const WINDOW_TEMPLATE = /{{ *\.window *}}/;
const UNITS: Record<string, DurationUnit | 'Second'> = {
  Second: 'Second',
  Day: 'd',
  Week: 'w',
  Month: 'M',
  Quarter: 'Q',
  Year: 'Y',
};
/** Conventional day counts for a rolling window written in calendar units (as openslo-v1.ts). */
const ROLLING_DAYS: Partial<Record<DurationUnit, number>> = { M: 30, Q: 90, Y: 365 };
/** Sloth reads `source: sloth` as Prometheus too. */
const SOURCES = ['prometheus', 'sloth'];

const nameText = (what: string) =>
  z.string().check(
    z.superRefine((name: string, ctx) => {
      if (!NAME.test(name))
        ctx.addIssue({
          code: 'custom',
          message: `${what} ${JSON.stringify(name)} is not a valid name`,
          params: {
            rule: 'openslo-v1alpha/name',
            hint: 'start and end with a letter or digit and use only letters, digits, ".", "_" and "-" (at least 2 characters)',
          } satisfies RuleParams,
        });
    }),
  );

const metadataSchema = specObject({
  name: nameText('metadata.name'),
  displayName: z.string().optional(),
  labels: z.record(z.string(), z.union([z.string(), z.array(z.string())])).nullish(),
  annotations: z.record(z.string(), z.string()).nullish(),
});

const envelopeSchema = specObject({
  apiVersion: z.literal(OPENSLO_V1ALPHA),
  kind: z.enum(['SLO', 'Service']),
  metadata: metadataSchema,
  // Checked by kind below: a Service may omit it, an SLO may not.
  spec: z.unknown().optional(),
});

const description = z.string().max(1050, { error: 'description is longer than 1050 characters' });

const serviceSpecSchema = specObject({ description: description.optional() }).nullish();

const metricSourceSchema = withRules(
  specObject({ source: z.string(), queryType: z.string(), query: z.string() }),
  (source, issue) => {
    if (typeof source.source === 'string' && !SOURCES.includes(source.source))
      issue(
        ['source'],
        'openslo-v1alpha/source',
        `source "${source.source}" is not supported`,
        'Shinrai (like Sloth) reads source: prometheus',
      );
    if (typeof source.queryType === 'string' && source.queryType !== 'promql')
      issue(
        ['queryType'],
        'openslo-v1alpha/query-type',
        `queryType "${source.queryType}" is not supported`,
        'write queryType: promql',
      );
    if (typeof source.query === 'string' && !source.query.trim())
      issue(['query'], 'openslo-v1alpha/query', 'query is empty', 'write a PromQL query using [{{.window}}]');
  },
);

const ratioMetricsSchema = specObject({
  good: metricSourceSchema,
  total: metricSourceSchema,
  counter: z.boolean().optional(),
});

const objectiveSchema = withRules(
  specObject({
    displayName: z.string().optional(),
    value: z.number().optional(),
    ratioMetrics: ratioMetricsSchema.optional(),
    target: z.number(),
    timeSliceTarget: z.number().optional(),
    op: z.string().optional(),
  }),
  (o, issue) => {
    if (o.ratioMetrics === undefined)
      issue(
        [],
        'openslo-v1alpha/ratio-only',
        'objective has no `ratioMetrics`; only ratio objectives can be imported from v1alpha',
        'add ratioMetrics {good, total}, or write the SLO in openslo/v1 for threshold SLIs',
      );
    if (typeof o.target === 'number' && (o.target <= 0 || o.target >= 1))
      issue(
        ['target'],
        'openslo-v1alpha/target-range',
        `target ${o.target} is not a fraction above 0 and below 1`,
        'write the target as a fraction, e.g. 0.999 for 99.9%',
      );
  },
);

const timeWindowSchema = withRules(
  specObject({
    count: z.number().int().positive(),
    unit: z.string(),
    isRolling: z.boolean().optional(),
    calendar: specObject({ startTime: z.string(), timeZone: z.string() }).optional(),
  }),
  (w, issue) => {
    if (typeof w.unit === 'string' && canonicalUnit(w.unit) === undefined) {
      const suggestion = closest(w.unit, Object.keys(UNITS));
      issue(
        ['unit'],
        'openslo-v1alpha/time-window-unit',
        `unit "${w.unit}" is not one of ${Object.keys(UNITS).join(', ')}`,
        suggestion ? `did you mean "${suggestion}"?` : undefined,
      );
    }
    if (w.unit === 'Second' && typeof w.count === 'number' && w.count % 60 !== 0)
      issue(
        ['count'],
        'openslo-v1alpha/time-window-unit',
        `${w.count} seconds is not a whole number of minutes`,
        'Shinrai windows have minute resolution; use Day for an SLO period',
      );
    if (w.isRolling === true && w.calendar !== undefined)
      issue(
        ['calendar'],
        'openslo-v1alpha/time-window',
        'a rolling window (`isRolling: true`) cannot have `calendar`',
        'remove calendar, or set isRolling: false',
        true,
      );
    checkCalendar(asRecord(w.calendar), issue, 'openslo-v1alpha');
  },
);

const sloSpecSchema = withRules(
  specObject({
    description: description.optional(),
    service: nameText('service'),
    budgetingMethod: z.enum(['Occurrences', 'Timeslices']).optional(),
    indicator: z.unknown().optional(),
    timeWindows: z.array(timeWindowSchema).optional(),
    objectives: z.array(objectiveSchema),
  }),
  (spec, issue) => {
    if (spec.indicator !== undefined)
      issue(
        ['indicator'],
        'openslo-v1alpha/ratio-only',
        'threshold SLIs (`indicator.thresholdMetric`) cannot be imported from v1alpha',
        'use ratioMetrics on each objective, or write the SLO in openslo/v1',
        true,
      );
    if (Array.isArray(spec.timeWindows) && spec.timeWindows.length > 1)
      issue(
        ['timeWindows', 1],
        'openslo-v1alpha/time-window-count',
        'an SLO has exactly one time window',
        'split it into one SLO per window',
      );
    if (Array.isArray(spec.objectives) && spec.objectives.length === 0)
      issue(['objectives'], 'openslo-v1alpha/objectives', 'the SLO needs at least one objective', undefined);
  },
);

type Metadata = z.output<typeof metadataSchema>;
type SloSpec = z.output<typeof sloSpecSchema>;
type TimeWindowValue = z.output<typeof timeWindowSchema>;
type MetricSourceValue = z.output<typeof metricSourceSchema>;

/**
 * Converts one `apiVersion: openslo/v1alpha` object (SLO or Service). An SLO yields one SLO per
 * objective, with alerts off as in Sloth; its `spec.service` needs no Service object (Sloth treats
 * it as a plain name). Problems go to `checker`, and an invalid object yields nothing.
 */
export function convertOpenSloV1alpha(
  object: SpecObject,
  checker: Checker = new Checker(object),
): ParsedObject[] {
  const envelope = checker.parse(envelopeSchema, object.value);
  const kind = asRecord(object.value).kind;
  const specValue = asRecord(object.value).spec;
  if (kind === 'Service') {
    // The service spec may be absent, so success is told by the errors it adds, not its value.
    const errorsBefore = errorCount(checker);
    const spec = checker.parse(serviceSpecSchema, specValue, ['spec']);
    if (!envelope || errorCount(checker) > errorsBefore) return [];
    const meta = objectMeta(checker, envelope.metadata, spec?.description);
    const def: ServiceDefinition = {
      ...meta,
      shinrai: readShinraiMetadata(meta.annotations, checker, ['metadata', 'annotations']),
    };
    return [{ kind: 'Service', def }];
  }
  if (kind !== 'SLO') return [];
  const spec = checker.parse(sloSpecSchema, specValue, ['spec']);
  sloWarnings(checker, specValue);
  if (!envelope || !spec) return [];
  return convertSlo(checker, envelope.metadata, spec);
}

function convertSlo(checker: Checker, metadata: Metadata, spec: SloSpec): ParsedObject[] {
  const loc = (path: readonly PathSegment[]): SourceLocation => checker.object.at(checker.path(path));
  const meta = objectMeta(checker, metadata, spec.description);
  const shinrai = readShinraiMetadata(meta.annotations, checker, ['metadata', 'annotations']);
  const first = spec.timeWindows?.[0];
  const window = first ? timeWindow(checker, first, ['spec', 'timeWindows', 0]) : DEFAULT_WINDOW;
  return spec.objectives.map((o, i): ParsedObject => {
    const path: PathSegment[] = ['spec', 'objectives', i];
    const id = `${spec.service}-${metadata.name}-${i}`;
    const ratio = o.ratioMetrics!;
    const source = (s: MetricSourceValue, at: PathSegment[]): MetricSource => ({
      type: 'prometheus',
      spec: { query: s.query },
      location: loc(at),
    });
    const indicator: Indicator = {
      kind: 'ratio',
      counter: ratio.counter,
      good: source(ratio.good, [...path, 'ratioMetrics', 'good']),
      total: source(ratio.total, [...path, 'ratioMetrics', 'total']),
    };
    const sli: SliDefinition = {
      ...meta,
      name: id,
      labels: {},
      annotations: {},
      location: loc([...path, 'ratioMetrics']),
      indicator,
      inline: true,
    };
    const def: PendingSlo = {
      ...meta,
      id,
      name: `${metadata.name}-${i}`,
      displayName: o.displayName ?? metadata.displayName,
      service: spec.service,
      serviceLocation: loc(['spec', 'service']),
      definesService: true,
      indicator: sli,
      composite: false,
      window,
      budgetingMethod: 'Occurrences',
      objectives: [
        {
          key: objectiveKey(o.displayName),
          displayName: o.displayName,
          target: o.target,
          location: loc(path),
        },
      ],
      alertPolicies: [],
      alerting: {
        labels: {},
        annotations: {},
        page: { disabled: true, labels: {}, annotations: {} },
        ticket: { disabled: true, labels: {}, annotations: {} },
      },
      shinrai,
    };
    return { kind: 'SLO', def };
  });
}

function objectMeta(checker: Checker, metadata: Metadata, description: string | undefined): ObjectMeta {
  return {
    name: metadata.name,
    displayName: metadata.displayName,
    description,
    labels: normaliseLabels(metadata.labels),
    annotations: (metadata.annotations ?? {}) as Annotations,
    location: checker.object.at(checker.path(['metadata', 'name'])),
    format: 'openslo/v1alpha',
  };
}

function timeWindow(checker: Checker, w: TimeWindowValue, path: PathSegment[]): TimeWindow {
  const unit = canonicalUnit(w.unit)!;
  const duration: Duration =
    unit === 'Second'
      ? { count: w.count / 60, unit: 'm' }
      : { count: w.count, unit: UNITS[unit] as DurationUnit };
  if (w.calendar)
    return { kind: 'calendar', duration, startTime: w.calendar.startTime, timeZone: w.calendar.timeZone };
  const days = ROLLING_DAYS[duration.unit];
  if (days !== undefined) {
    // A rolling "month" has no fixed length; use the conventional day count and say so.
    checker.warn(
      [...path, 'unit'],
      'openslo-v1alpha/rolling-calendar-unit',
      `a rolling window of ${w.count} ${unit} has no fixed length; Shinrai uses ${days * w.count} days`,
      `write count: ${days * w.count}, unit: Day to make this explicit, or add calendar for calendar months`,
    );
    return { kind: 'rolling', duration: { count: days * w.count, unit: 'd' } };
  }
  return { kind: 'rolling', duration };
}

/** Problems that do not stop the import; checked on the raw value so invalid SLOs get them too. */
function sloWarnings(checker: Checker, specValue: unknown): void {
  const spec = asRecord(specValue);
  if (spec.budgetingMethod === 'Timeslices')
    checker.warn(
      ['spec', 'budgetingMethod'],
      'openslo-v1alpha/budgeting-method',
      'Timeslices is read as Occurrences, as Sloth does (v1alpha has no time-slice window)',
      'write the SLO in openslo/v1 to budget by time slices',
    );
  asArray(spec.timeWindows).forEach((w, i) => {
    const window = asRecord(w);
    if (window.isRolling === false && window.calendar === undefined)
      checker.warn(
        ['spec', 'timeWindows', i, 'isRolling'],
        'openslo-v1alpha/time-window',
        'isRolling: false without `calendar` is read as a rolling window, as Sloth does',
        'add calendar {startTime, timeZone} for a calendar window, or set isRolling: true',
      );
  });
  asArray(spec.objectives).forEach((item, i) => {
    const o = asRecord(item);
    const path: PathSegment[] = ['spec', 'objectives', i];
    if (o.ratioMetrics !== undefined)
      for (const key of ['op', 'value', 'timeSliceTarget'])
        if (o[key] !== undefined)
          checker.report([...path, key], {
            rule: 'openslo-v1alpha/ignored-field',
            severity: 'warning',
            atKey: true,
            message: `\`${key}\` is ignored on a ratio objective`,
            hint: 'remove it; the target alone sets a ratio objective',
          });
    const ratio = asRecord(o.ratioMetrics);
    for (const part of ['good', 'total']) {
      const text = asRecord(ratio[part]).query;
      if (typeof text === 'string' && text.trim() && !WINDOW_TEMPLATE.test(text))
        checker.warn(
          [...path, 'ratioMetrics', part, 'query'],
          'openslo-v1alpha/window-template',
          'query does not use {{.window}}, so every alert window sees the same value',
          'use the template as range, e.g. rate(http_requests_total[{{.window}}])',
        );
    }
  });
}

/** Sloth compares the unit case-insensitively (`day` works); the canonical spelling is returned. */
function canonicalUnit(unit: string): keyof typeof UNITS | undefined {
  return Object.keys(UNITS).find((u) => u.toLowerCase() === unit.toLowerCase());
}

function objectiveKey(displayName: string | undefined): string {
  const slug = (displayName ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug || 'objective-1';
}

function normaliseLabels(labels: Record<string, string | string[]> | null | undefined): Labels {
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(labels ?? {})) out[key] = Array.isArray(value) ? value : [value];
  return out;
}

function errorCount(checker: Checker): number {
  return checker.diagnostics.filter((d) => d.severity === 'error').length;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
