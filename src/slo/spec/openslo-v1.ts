import { z } from 'zod';
import { parseConnectionDetails } from '../../platform/connections.js';
import { type Duration, fixedDurationMs, parseDuration } from '../duration.js';
import type {
  AlertConditionDefinition,
  Annotations,
  DataSourceDefinition,
  Indicator,
  Labels,
  MetricSource,
  NotificationTargetDefinition,
  ObjectMeta,
  ServiceDefinition,
  SliDefinition,
  SourceLocation,
  SpecFormat,
  TimeWindow,
} from '../model.js';
import { SOURCES, sourceForType } from '../sources/registry.js';
import { asRecord, Checker, checkCalendar, type Issue, specObject, withRules } from './check.js';
import type { PathSegment, SpecObject } from './documents.js';
import type { OrRef, ParsedObject, PendingAlertPolicy, PendingObjective, PendingSlo, Ref } from './parsed.js';
import { readShinraiMetadata } from './shinrai-metadata.js';

export const OPENSLO_V1 = 'openslo/v1';
export const OPENSLO_V1_KINDS = [
  'Service',
  'SLI',
  'SLO',
  'DataSource',
  'AlertPolicy',
  'AlertCondition',
  'AlertNotificationTarget',
] as const;

// ---------------------------------------------------------------------------------------------
// Schemas: shape, types and rules local to one object. Every rule issue carries a rule id.

const NAME = /^[a-z0-9]([-a-z0-9.|/\\]*[a-z0-9])?$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

const nameSchema = z.string().check(
  z.superRefine((name: string, ctx) => {
    if (name.length > 255 || !NAME.test(name))
      ctx.addIssue({
        code: 'custom',
        message: `name "${name}" is not a valid OpenSLO name`,
        params: {
          rule: 'openslo/name',
          hint: 'use lowercase letters, digits and "-", starting and ending with a letter or digit (at most 63 characters)',
        },
      });
  }),
);

const description = z.string().max(1050, { error: 'description is longer than 1050 characters' });

const labelsSchema = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
const annotationsSchema = z.record(z.string(), z.string());

const metadataSchema = withRules(
  specObject({
    name: nameSchema,
    displayName: z.string().optional(),
    labels: labelsSchema.nullish(),
    annotations: annotationsSchema.nullish(),
  }),
  (meta, issue) => {
    for (const key of Object.keys(asRecord(meta.labels)))
      if (key.length > 63 + 254 || !LABEL_KEY.test(key))
        issue(
          ['labels', key],
          'openslo/label-key',
          `label key "${key}" is not valid`,
          'letters, digits, "-", "_", "." and an optional DNS prefix with "/"',
        );
  },
);

const durationText = z.string().check(
  z.superRefine((text: string, ctx) => {
    const parsed = parseDuration(text);
    if (!parsed.ok)
      ctx.addIssue({ code: 'custom', message: parsed.error, params: { rule: 'openslo/duration' } });
  }),
);

const metricSourceSchema = withRules(
  specObject({
    metricSourceRef: z.string().optional(),
    type: z.string().optional(),
    spec: z.record(z.string(), z.unknown()),
  }),
  (source, issue) => {
    if (source.metricSourceRef === undefined && source.type === undefined)
      issue(
        [],
        'openslo/metric-source',
        'metricSource needs a `type` or a `metricSourceRef`',
        'type can only be omitted when it comes from a referenced DataSource',
      );
  },
);

const metricSchema = specObject({ metricSource: metricSourceSchema });

const ratioMetricSchema = withRules(
  specObject({
    counter: z.boolean().optional(),
    good: metricSchema.optional(),
    bad: metricSchema.optional(),
    total: metricSchema.optional(),
    rawType: z.enum(['success', 'failure']).optional(),
    raw: metricSchema.optional(),
  }),
  (ratio, issue) => {
    const has = (k: string) => ratio[k] !== undefined;
    if (has('raw')) {
      for (const k of ['good', 'bad', 'total'])
        if (has(k))
          issue(
            [k],
            'openslo/ratio-raw-exclusive',
            `\`${k}\` cannot be used together with \`raw\``,
            'a raw ratio is already computed; remove good/bad/total or raw',
          );
      if (!has('rawType'))
        issue(
          ['raw'],
          'openslo/raw-type',
          '`raw` needs `rawType: success` or `rawType: failure`',
          'success: the stored ratio is good/total; failure: bad/total',
        );
      return;
    }
    if (has('rawType'))
      issue(
        ['rawType'],
        'openslo/raw-type',
        '`rawType` is only used with `raw`',
        'remove rawType, or use a raw ratio',
      );
    if (has('good') && has('bad'))
      issue(
        ['bad'],
        'openslo/good-xor-bad',
        '`good` and `bad` cannot both be set',
        'keep the numerator you have: good/total or bad/total',
      );
    if (!has('good') && !has('bad'))
      issue(
        [],
        'openslo/good-xor-bad',
        'ratioMetric needs `good` or `bad` (with `total`), or `raw`',
        undefined,
      );
    if (!has('total'))
      issue([], 'openslo/ratio-total', 'ratioMetric needs `total` (the denominator)', undefined);
  },
);

const sliSpecSchema = withRules(
  specObject({
    description: description.optional(),
    thresholdMetric: metricSchema.optional(),
    ratioMetric: ratioMetricSchema.optional(),
  }),
  (spec, issue) => {
    const threshold = spec.thresholdMetric !== undefined;
    const ratio = spec.ratioMetric !== undefined;
    if (threshold === ratio)
      issue(
        [],
        'openslo/sli-one-of',
        threshold
          ? 'an SLI has either `thresholdMetric` or `ratioMetric`, not both'
          : 'an SLI needs `thresholdMetric` or `ratioMetric`',
        'ratioMetric for good/total counts, thresholdMetric for raw values such as latency',
      );
  },
);

const inlineSliSchema = specObject({
  apiVersion: z.literal(OPENSLO_V1).optional(),
  kind: z.literal('SLI').optional(),
  metadata: metadataSchema,
  spec: sliSpecSchema,
});

const OPS = ['lt', 'lte', 'gt', 'gte'] as const;

const objectiveSchema = withRules(
  specObject({
    displayName: z.string().optional(),
    op: z.enum(OPS).optional(),
    value: z.number().optional(),
    target: z.number().optional(),
    targetPercent: z.number().optional(),
    timeSliceTarget: z.number().optional(),
    timeSliceWindow: z.union([z.number(), durationText]).optional(),
    indicator: inlineSliSchema.optional(),
    indicatorRef: z.string().optional(),
    compositeWeight: z.number().optional(),
  }),
  (o, issue) => {
    const target = o.target;
    const percent = o.targetPercent;
    if (target !== undefined && percent !== undefined)
      issue(
        ['targetPercent'],
        'openslo/target-one-of',
        'use `target` or `targetPercent`, not both',
        'target: 0.999 is the same as targetPercent: 99.9',
      );
    if (target === undefined && percent === undefined)
      issue(
        [],
        'openslo/target-one-of',
        'objective needs `target` (e.g. 0.999) or `targetPercent` (e.g. 99.9)',
        undefined,
      );
    if (typeof target === 'number' && !(target >= 0 && target < 1))
      issue(
        ['target'],
        'openslo/target-range',
        `target ${target} is outside [0, 1)`,
        target >= 1 && target < 100
          ? `did you mean targetPercent: ${target}?`
          : 'a target of 1 (100%) leaves no error budget',
      );
    if (typeof percent === 'number' && !(percent >= 0 && percent < 100))
      issue(
        ['targetPercent'],
        'openslo/target-range',
        `targetPercent ${percent} is outside [0, 100)`,
        'a target of 100% leaves no error budget',
      );
    const sliceTarget = o.timeSliceTarget;
    if (typeof sliceTarget === 'number' && !(sliceTarget > 0 && sliceTarget <= 1))
      issue(
        ['timeSliceTarget'],
        'openslo/time-slice-target',
        `timeSliceTarget ${sliceTarget} is outside (0, 1]`,
        'the share of good events that makes a slice good, e.g. 0.95',
      );
    const slice = o.timeSliceWindow;
    if (typeof slice === 'number' && !(Number.isInteger(slice) && slice > 0))
      issue(
        ['timeSliceWindow'],
        'openslo/time-slice-window',
        'a numeric timeSliceWindow is a positive whole number of minutes',
        'or use a duration such as 5m',
      );
    if (typeof slice === 'string') {
      const parsed = parseDuration(slice);
      if (parsed.ok && fixedDurationMs(parsed.value) === undefined)
        issue(
          ['timeSliceWindow'],
          'openslo/time-slice-window',
          `timeSliceWindow ${slice} has no fixed length`,
          'use minutes, hours, days or weeks (m h d w); `M` is months, `m` is minutes',
        );
    }
    if (o.indicator !== undefined && o.indicatorRef !== undefined)
      issue(
        ['indicatorRef'],
        'openslo/inline-or-ref',
        'use `indicator` or `indicatorRef`, not both',
        undefined,
      );
    const weight = o.compositeWeight;
    if (typeof weight === 'number' && !(weight > 0))
      issue(
        ['compositeWeight'],
        'openslo/composite-weight',
        `compositeWeight ${weight} must be greater than 0`,
        undefined,
      );
  },
);

const timeWindowSchema = withRules(
  specObject({
    duration: durationText,
    isRolling: z.boolean().optional(),
    calendar: specObject({ startTime: z.string(), timeZone: z.string() }).optional(),
  }),
  (w, issue) => {
    if (w.isRolling === true && w.calendar !== undefined)
      issue(
        ['calendar'],
        'openslo/time-window',
        'a rolling window (`isRolling: true`) cannot have `calendar`',
        'remove calendar, or set isRolling: false',
      );
    if (w.isRolling !== true && w.calendar === undefined)
      issue(
        [],
        'openslo/time-window',
        'a calendar window (`isRolling: false`) needs `calendar.startTime` and `calendar.timeZone`',
        'or set isRolling: true for a rolling window',
      );
    checkCalendar(asRecord(w.calendar), issue, 'openslo');
  },
);

const alertConditionSpecSchema = specObject({
  description: description.optional(),
  severity: z.string().min(1),
  condition: specObject({
    kind: z.enum(['burnrate']).default('burnrate'),
    op: z.enum(OPS).optional(),
    threshold: z.number(),
    lookbackWindow: durationText,
    // The spec says alertAfter defaults to 0m, which is not a valid shorthand; accept it here.
    alertAfter: z.union([z.literal('0m'), durationText]).optional(),
  }),
});

const inlineConditionSchema = withRules(
  specObject({
    conditionRef: z.string().optional(),
    apiVersion: z.literal(OPENSLO_V1).optional(),
    kind: z.literal('AlertCondition').optional(),
    metadata: metadataSchema.optional(),
    spec: alertConditionSpecSchema.optional(),
  }),
  (item, issue) => inlineOrRef(item, 'conditionRef', 'AlertCondition', issue),
);

const notificationTargetSpecSchema = specObject({
  description: description.optional(),
  target: z.string().min(1),
});

const inlineTargetSchema = withRules(
  specObject({
    targetRef: z.string().optional(),
    apiVersion: z.literal(OPENSLO_V1).optional(),
    kind: z.literal('AlertNotificationTarget').optional(),
    metadata: metadataSchema.optional(),
    spec: notificationTargetSpecSchema.optional(),
  }),
  (item, issue) => inlineOrRef(item, 'targetRef', 'AlertNotificationTarget', issue),
);

const alertPolicySpecSchema = withRules(
  specObject({
    description: description.optional(),
    alertWhenNoData: z.boolean().optional(),
    alertWhenResolved: z.boolean().optional(),
    alertWhenBreaching: z.boolean().optional(),
    conditions: z.array(inlineConditionSchema),
    notificationTargets: z.array(inlineTargetSchema),
  }),
  (spec, issue) => {
    if (Array.isArray(spec.conditions) && spec.conditions.length !== 1)
      issue(
        ['conditions'],
        'openslo/alert-policy-conditions',
        `an AlertPolicy has exactly one condition, not ${spec.conditions.length}`,
        'OpenSLO v1 keeps `conditions` a list for the future but allows one item',
      );
  },
);

const inlinePolicySchema = withRules(
  specObject({
    alertPolicyRef: z.string().optional(),
    apiVersion: z.literal(OPENSLO_V1).optional(),
    kind: z.literal('AlertPolicy').optional(),
    metadata: metadataSchema.optional(),
    spec: alertPolicySpecSchema.optional(),
  }),
  (item, issue) => inlineOrRef(item, 'alertPolicyRef', 'AlertPolicy', issue),
);

const sloSpecSchema = withRules(
  specObject({
    description: description.optional(),
    service: z.string().min(1),
    indicator: inlineSliSchema.optional(),
    indicatorRef: z.string().optional(),
    timeWindow: z.array(timeWindowSchema),
    budgetingMethod: z.enum(['Occurrences', 'Timeslices', 'RatioTimeslices']),
    objectives: z.array(objectiveSchema),
    alertPolicies: z.array(inlinePolicySchema).nullish(),
  }),
  (spec, issue) => {
    const objectives = Array.isArray(spec.objectives) ? spec.objectives.map(asRecord) : [];
    const composite = objectives.some((o) => o.indicator !== undefined || o.indicatorRef !== undefined);
    const sloIndicator = spec.indicator !== undefined || spec.indicatorRef !== undefined;
    if (spec.indicator !== undefined && spec.indicatorRef !== undefined)
      issue(
        ['indicatorRef'],
        'openslo/inline-or-ref',
        'use `indicator` or `indicatorRef`, not both',
        undefined,
      );
    if (composite && sloIndicator)
      issue(
        [spec.indicator !== undefined ? 'indicator' : 'indicatorRef'],
        'openslo/composite-indicator',
        'a composite SLO (objectives with their own indicators) cannot also have an SLO-level indicator',
        'move the indicator into each objective, or remove the objective indicators',
      );
    if (!composite && !sloIndicator)
      issue(
        [],
        'openslo/indicator-required',
        'the SLO needs `indicator` or `indicatorRef`',
        'or give every objective its own indicator to make a composite SLO',
      );
    if (composite)
      objectives.forEach((o, i) => {
        if (o.indicator === undefined && o.indicatorRef === undefined)
          issue(
            ['objectives', i],
            'openslo/composite-indicator',
            'in a composite SLO every objective needs `indicator` or `indicatorRef`',
            undefined,
          );
      });
    else
      objectives.forEach((o, i) => {
        if (o.compositeWeight !== undefined)
          issue(
            ['objectives', i, 'compositeWeight'],
            'openslo/composite-weight',
            '`compositeWeight` only applies to composite SLOs',
            'remove it, or give the objectives their own indicators',
          );
      });
    if (Array.isArray(spec.timeWindow) && spec.timeWindow.length !== 1)
      issue(
        ['timeWindow'],
        'openslo/time-window-count',
        `timeWindow must have exactly one item, not ${spec.timeWindow.length}`,
        'e.g. timeWindow: [{ duration: 28d, isRolling: true }]',
      );
    if (Array.isArray(spec.objectives) && spec.objectives.length === 0)
      issue(['objectives'], 'openslo/objectives', 'the SLO needs at least one objective', undefined);
    const method = spec.budgetingMethod;
    objectives.forEach((o, i) => {
      if (method === 'Timeslices') {
        if (o.timeSliceTarget === undefined)
          issue(
            ['objectives', i],
            'openslo/timeslices-fields',
            'Timeslices objectives need `timeSliceTarget`',
            'the share of good events that makes a slice good, e.g. 0.95',
          );
        if (o.timeSliceWindow === undefined)
          issue(
            ['objectives', i],
            'openslo/timeslices-fields',
            'Timeslices objectives need `timeSliceWindow`',
            'the slice length, e.g. 1m or 5m',
          );
      }
      if (method === 'RatioTimeslices' && o.timeSliceWindow === undefined)
        issue(
          ['objectives', i],
          'openslo/timeslices-fields',
          'RatioTimeslices objectives need `timeSliceWindow`',
          'the slice length, e.g. 1m or 5m',
        );
    });
  },
);

const envelopeSchema = specObject({
  apiVersion: z.literal(OPENSLO_V1),
  kind: z.enum(OPENSLO_V1_KINDS),
  metadata: metadataSchema,
  spec: z.unknown().optional(),
});

const SPEC_SCHEMAS = {
  Service: specObject({ description: description.optional() }).nullish(),
  SLI: sliSpecSchema,
  SLO: sloSpecSchema,
  DataSource: specObject({
    description: description.optional(),
    type: z.string().min(1),
    connectionDetails: z.unknown(),
  }),
  AlertPolicy: alertPolicySpecSchema,
  AlertCondition: alertConditionSpecSchema,
  AlertNotificationTarget: notificationTargetSpecSchema,
} as const;

function inlineOrRef(item: Record<string, unknown>, refKey: string, kind: string, issue: Issue): void {
  const hasRef = item[refKey] !== undefined;
  const inlineKeys = ['kind', 'metadata', 'spec', 'apiVersion'].filter((k) => item[k] !== undefined);
  if (hasRef && inlineKeys.length > 0)
    issue(
      [inlineKeys[0]!],
      'openslo/inline-or-ref',
      `use \`${refKey}\` or an inline ${kind}, not both`,
      `remove ${inlineKeys.join('/')} or ${refKey}`,
    );
  if (!hasRef) {
    if (item.metadata === undefined)
      issue(
        [],
        'openslo/inline-or-ref',
        `an inline ${kind} needs \`metadata\` (or use \`${refKey}\`)`,
        undefined,
      );
    if (item.spec === undefined)
      issue(
        [],
        'openslo/inline-or-ref',
        `an inline ${kind} needs \`spec\` (or use \`${refKey}\`)`,
        undefined,
      );
  }
}

// ---------------------------------------------------------------------------------------------
// Conversion to the internal model (only runs on objects whose shape is valid).

type Envelope = z.output<typeof envelopeSchema>;
type MetadataValue = z.output<typeof metadataSchema>;

/** Converts one OpenSLO v1 object; problems go to `checker`, and an invalid object yields nothing. */
export function convertOpenSloV1(object: SpecObject, checker: Checker = new Checker(object)): ParsedObject[] {
  const envelope = checker.parse(envelopeSchema, checker.object.value) as Envelope | undefined;
  if (!envelope) {
    // Still check the spec's own shape when the envelope's kind is known, to report everything at once.
    const kind = asRecord(checker.object.value).kind;
    if (typeof kind === 'string' && kind in SPEC_SCHEMAS)
      checker.parse(SPEC_SCHEMAS[kind as keyof typeof SPEC_SCHEMAS], asRecord(checker.object.value).spec, [
        'spec',
      ]);
    return [];
  }
  const spec = checker.parse(SPEC_SCHEMAS[envelope.kind], envelope.spec, ['spec']);
  if (spec === undefined && envelope.kind !== 'Service') return [];
  const converter = new OpenSloV1Converter(checker);
  return converter.convert(envelope, spec);
}

class OpenSloV1Converter {
  constructor(private readonly checker: Checker) {}

  private loc(path: readonly PathSegment[]): SourceLocation {
    return this.checker.object.at(this.checker.path(path));
  }

  convert(envelope: Envelope, spec: unknown): ParsedObject[] {
    const meta = (description: string | undefined) => this.meta(envelope.metadata, description, []);
    switch (envelope.kind) {
      case 'Service': {
        const s = (spec ?? {}) as z.output<(typeof SPEC_SCHEMAS)['Service']> & object;
        const base = meta(s?.description);
        const def: ServiceDefinition = {
          ...base,
          shinrai: readShinraiMetadata(base.annotations, this.checker, ['metadata', 'annotations']),
        };
        return [{ kind: 'Service', def }];
      }
      case 'DataSource': {
        const s = spec as z.output<(typeof SPEC_SCHEMAS)['DataSource']>;
        // Types Shinrai pulls have their connection checked now, not at the first pull.
        const reader = sourceForType(SOURCES, s.type);
        if (reader) {
          const connection = parseConnectionDetails(s.connectionDetails, {
            required: reader.requiredConnection,
          });
          if (!connection.ok)
            for (const problem of connection.problems)
              this.checker.error(
                ['spec', 'connectionDetails'],
                `${reader.kind}/connection`,
                problem,
                reader.kind === 'prometheus'
                  ? 'see docs/prometheus.md for url, bearerToken(File), basicAuth, headers, tlsCaFile'
                  : `see docs/sources.md for a ${reader.kind} connection`,
              );
        }
        const def: DataSourceDefinition = {
          ...meta(s.description),
          type: s.type,
          connectionDetails: s.connectionDetails,
        };
        return [{ kind: 'DataSource', def }];
      }
      case 'SLI':
        return [{ kind: 'SLI', def: this.sli(envelope.metadata, spec as SliSpec, ['spec'], [], false) }];
      case 'AlertCondition':
        return [
          { kind: 'AlertCondition', def: this.condition(envelope.metadata, spec as ConditionSpec, []) },
        ];
      case 'AlertNotificationTarget': {
        const s = spec as z.output<typeof notificationTargetSpecSchema>;
        return [{ kind: 'AlertNotificationTarget', def: { ...meta(s.description), target: s.target } }];
      }
      case 'AlertPolicy':
        return [{ kind: 'AlertPolicy', def: this.policy(envelope.metadata, spec as PolicySpec, []) }];
      case 'SLO':
        return [{ kind: 'SLO', def: this.slo(envelope.metadata, spec as SloSpec) }];
    }
  }

  private meta(metadata: MetadataValue, description: string | undefined, base: PathSegment[]): ObjectMeta {
    return {
      name: metadata.name,
      displayName: metadata.displayName,
      description,
      labels: normaliseLabels(metadata.labels),
      annotations: (metadata.annotations ?? {}) as Annotations,
      location: this.loc([...base, 'metadata', 'name']),
      format: 'openslo/v1' satisfies SpecFormat,
    };
  }

  private metricSource(value: z.output<typeof metricSchema>, path: PathSegment[]): MetricSource {
    const source = value.metricSource;
    return {
      ref: source.metricSourceRef,
      type: source.type,
      spec: source.spec,
      location: this.loc([...path, 'metricSource']),
    };
  }

  private sli(
    metadata: MetadataValue,
    spec: SliSpec,
    specPath: PathSegment[],
    base: PathSegment[],
    inline: boolean,
  ): SliDefinition {
    let indicator: Indicator;
    if (spec.thresholdMetric) {
      indicator = {
        kind: 'threshold',
        metric: this.metricSource(spec.thresholdMetric, [...specPath, 'thresholdMetric']),
      };
    } else {
      const ratio = spec.ratioMetric!;
      const path = [...specPath, 'ratioMetric'];
      if (ratio.raw) {
        indicator = {
          kind: 'raw',
          rawType: ratio.rawType!,
          raw: this.metricSource(ratio.raw, [...path, 'raw']),
        };
      } else {
        indicator = {
          kind: 'ratio',
          counter: ratio.counter,
          good: ratio.good ? this.metricSource(ratio.good, [...path, 'good']) : undefined,
          bad: ratio.bad ? this.metricSource(ratio.bad, [...path, 'bad']) : undefined,
          total: this.metricSource(ratio.total!, [...path, 'total']),
        };
      }
    }
    return { ...this.meta(metadata, spec.description, base), indicator, inline };
  }

  private condition(
    metadata: MetadataValue,
    spec: ConditionSpec,
    base: PathSegment[],
  ): AlertConditionDefinition {
    const c = spec.condition;
    return {
      ...this.meta(metadata, spec.description, base),
      severity: spec.severity,
      kind: c.kind,
      op: c.op,
      threshold: c.threshold,
      lookbackWindow: mustDuration(c.lookbackWindow),
      alertAfter:
        c.alertAfter === undefined || c.alertAfter === '0m'
          ? { count: 0, unit: 'm' }
          : mustDuration(c.alertAfter),
    };
  }

  private policy(metadata: MetadataValue, spec: PolicySpec, base: PathSegment[]): PendingAlertPolicy {
    const specPath = [...base, 'spec'];
    const conditions = spec.conditions.map(
      (item, i): OrRef<AlertConditionDefinition> =>
        item.conditionRef !== undefined
          ? this.ref(item.conditionRef, [...specPath, 'conditions', i, 'conditionRef'])
          : this.condition(item.metadata!, item.spec!, [...specPath, 'conditions', i]),
    );
    const notificationTargets = spec.notificationTargets.map(
      (item, i): OrRef<NotificationTargetDefinition> =>
        item.targetRef !== undefined
          ? this.ref(item.targetRef, [...specPath, 'notificationTargets', i, 'targetRef'])
          : {
              ...this.meta(item.metadata!, item.spec!.description, [...specPath, 'notificationTargets', i]),
              target: item.spec!.target,
            },
    );
    return {
      ...this.meta(metadata, spec.description, base),
      alertWhenNoData: spec.alertWhenNoData ?? false,
      alertWhenResolved: spec.alertWhenResolved ?? false,
      alertWhenBreaching: spec.alertWhenBreaching ?? false,
      conditions,
      notificationTargets,
    };
  }

  private ref(name: string, path: PathSegment[]): Ref {
    return { ref: name, location: this.loc(path) };
  }

  private slo(metadata: MetadataValue, spec: SloSpec): PendingSlo {
    const base = this.meta(metadata, spec.description, []);
    const indicator: OrRef<SliDefinition> | undefined = spec.indicator
      ? this.sli(
          spec.indicator.metadata,
          spec.indicator.spec,
          ['spec', 'indicator', 'spec'],
          ['spec', 'indicator'],
          true,
        )
      : spec.indicatorRef !== undefined
        ? this.ref(spec.indicatorRef, ['spec', 'indicatorRef'])
        : undefined;
    const composite = spec.objectives.some((o) => o.indicator !== undefined || o.indicatorRef !== undefined);
    const window = this.timeWindow(spec.timeWindow[0]!, ['spec', 'timeWindow', 0]);
    const usedKeys = new Set<string>();
    const objectives = spec.objectives.map((o, i): PendingObjective => {
      const path: PathSegment[] = ['spec', 'objectives', i];
      const target = o.target ?? (o.targetPercent ?? 0) / 100;
      this.objectiveWarnings(o, spec.budgetingMethod, path, window);
      return {
        key: objectiveKey(o.displayName, i, usedKeys),
        displayName: o.displayName,
        target,
        op: o.op,
        value: o.value,
        timeSliceTarget: spec.budgetingMethod === 'Timeslices' ? o.timeSliceTarget : undefined,
        timeSliceWindow:
          spec.budgetingMethod === 'Occurrences' || o.timeSliceWindow === undefined
            ? undefined
            : typeof o.timeSliceWindow === 'number'
              ? { count: o.timeSliceWindow, unit: 'm' }
              : mustDuration(o.timeSliceWindow),
        indicator: o.indicator
          ? this.sli(
              o.indicator.metadata,
              o.indicator.spec,
              [...path, 'indicator', 'spec'],
              [...path, 'indicator'],
              true,
            )
          : o.indicatorRef !== undefined
            ? this.ref(o.indicatorRef, [...path, 'indicatorRef'])
            : undefined,
        compositeWeight: composite ? (o.compositeWeight ?? 1) : undefined,
        location: this.loc(path),
        opLocation:
          o.op !== undefined ? this.checker.object.keyAt(this.checker.path([...path, 'op'])) : undefined,
        valueLocation:
          o.value !== undefined
            ? this.checker.object.keyAt(this.checker.path([...path, 'value']))
            : undefined,
      };
    });
    const alertPolicies = (spec.alertPolicies ?? []).map(
      (item, i): OrRef<PendingAlertPolicy> =>
        item.alertPolicyRef !== undefined
          ? this.ref(item.alertPolicyRef, ['spec', 'alertPolicies', i, 'alertPolicyRef'])
          : this.policy(item.metadata!, item.spec!, ['spec', 'alertPolicies', i]),
    );
    return {
      ...base,
      id: metadata.name,
      service: spec.service,
      serviceLocation: this.loc(['spec', 'service']),
      definesService: false,
      indicator,
      composite,
      window,
      budgetingMethod: spec.budgetingMethod,
      objectives,
      alertPolicies,
      shinrai: readShinraiMetadata(base.annotations, this.checker, ['metadata', 'annotations']),
    };
  }

  private timeWindow(w: z.output<typeof timeWindowSchema>, path: PathSegment[]): TimeWindow {
    const duration = mustDuration(w.duration);
    if (w.calendar) {
      return { kind: 'calendar', duration, startTime: w.calendar.startTime, timeZone: w.calendar.timeZone };
    }
    if (fixedDurationMs(duration) === undefined) {
      // A rolling "month" has no fixed length; use the conventional day count and say so.
      const days = { M: 30, Q: 90, Y: 365 }[duration.unit as 'M' | 'Q' | 'Y'] * duration.count;
      this.checker.warn(
        [...path, 'duration'],
        'openslo/rolling-calendar-unit',
        `a rolling window of ${w.duration} has no fixed length; Shinrai uses ${days}d`,
        `write duration: ${days}d to make this explicit, or use a calendar window for calendar months`,
      );
      return { kind: 'rolling', duration: { count: days, unit: 'd' } };
    }
    return { kind: 'rolling', duration };
  }

  private objectiveWarnings(o: ObjectiveSpec, method: string, path: PathSegment[], window: TimeWindow): void {
    if (method === 'Occurrences') {
      for (const key of ['timeSliceTarget', 'timeSliceWindow'] as const)
        if (o[key] !== undefined)
          this.checker.warn(
            [...path, key],
            'openslo/ignored-field',
            `\`${key}\` is ignored with budgetingMethod Occurrences`,
            'remove it, or use Timeslices',
          );
    }
    if (method === 'RatioTimeslices' && o.timeSliceTarget !== undefined)
      this.checker.warn(
        [...path, 'timeSliceTarget'],
        'openslo/ignored-field',
        '`timeSliceTarget` is ignored with RatioTimeslices (each slice counts by its ratio)',
        undefined,
      );
    if (o.timeSliceWindow !== undefined && method !== 'Occurrences') {
      const slice =
        typeof o.timeSliceWindow === 'number'
          ? o.timeSliceWindow * 60_000
          : fixedDurationMs(mustDuration(o.timeSliceWindow));
      const windowMs = window.kind === 'rolling' ? fixedDurationMs(window.duration) : undefined;
      if (slice !== undefined && windowMs !== undefined) {
        if (slice > windowMs)
          this.checker.error(
            [...path, 'timeSliceWindow'],
            'openslo/time-slice-window',
            'timeSliceWindow is longer than the SLO time window',
            undefined,
          );
        else if (windowMs % slice !== 0)
          this.checker.error(
            [...path, 'timeSliceWindow'],
            'openslo/time-slice-window',
            'the rolling window is not a whole number of slices',
            'pick a slice length that divides the window, e.g. 1m or 5m for 28d',
          );
      }
    }
  }
}

type SliSpec = z.output<typeof sliSpecSchema>;
type SloSpec = z.output<typeof sloSpecSchema>;
type ObjectiveSpec = z.output<typeof objectiveSchema>;
type PolicySpec = z.output<typeof alertPolicySpecSchema>;
type ConditionSpec = z.output<typeof alertConditionSpecSchema>;

/** Objectives get a stable key: the display name as a slug, or `objective-<n>`. */
function objectiveKey(displayName: string | undefined, index: number, used: Set<string>): string {
  const slug = (displayName ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  let key = slug || `objective-${index + 1}`;
  if (used.has(key)) key = `${key}-${index + 1}`;
  used.add(key);
  return key;
}

function normaliseLabels(labels: Record<string, string | string[]> | null | undefined): Labels {
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(labels ?? {})) out[key] = Array.isArray(value) ? value : [value];
  return out;
}

function mustDuration(text: string): Duration {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new Error(`validated duration failed to parse: ${text}`);
  return parsed.value;
}
