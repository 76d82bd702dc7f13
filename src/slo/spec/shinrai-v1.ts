/**
 * Shinrai's own kinds (`apiVersion: shinrai.dev/v1`) for what OpenSLO v1 cannot express.
 * BudgetAdjustment: a maintenance period, one-off or recurring (RFC 5545 RRULE), removed from
 * the error budget of the SLOs it names. Risk and RiskFactor: the risk catalog (ETTD, ETTR,
 * impact, ETTF) kept next to the specs.
 */
import { IANAZone } from 'luxon';
import rrule from 'rrule';
import { z } from 'zod';
import { fixedDurationMs, parseDuration } from '../duration.js';
import type { BudgetAdjustmentDefinition, RiskDefinition, RiskFactorDefinition } from '../model.js';
import { Checker, specObject } from './check.js';
import type { SpecObject } from './documents.js';
import type { ParsedObject } from './parsed.js';
import { percentOrFraction } from './shinrai-metadata.js';

export const SHINRAI_V1 = 'shinrai.dev/v1';

// rrule ships CommonJS for Node: take the class off the default export.
const { RRule } = rrule;

const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$/;

const adjustmentSchema = specObject({
  apiVersion: z.literal(SHINRAI_V1),
  kind: z.literal('BudgetAdjustment'),
  metadata: specObject({
    name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'use lowercase letters, digits and "-"'),
    displayName: z.string().optional(),
    labels: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: specObject({
    description: z.string().max(1050).optional(),
    start: z.string().regex(LOCAL_TIME, 'write local time as 2026-01-04 02:00:00'),
    timeZone: z.string().default('UTC'),
    duration: z.string(),
    rrule: z.string().optional(),
    slos: z.array(z.string()).default([]),
    services: z.array(z.string()).default([]),
  }),
});

const metadataSchema = specObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'use lowercase letters, digits and "-"'),
  displayName: z.string().optional(),
  labels: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** A fixed-length duration (m h d w) in minutes, e.g. `30m` → 30. */
const minutes = z.string().transform((text, ctx) => {
  const parsed = parseDuration(text);
  const ms = parsed.ok ? fixedDurationMs(parsed.value) : undefined;
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: parsed.ok ? 'use a fixed unit: m, h, d or w' : parsed.error,
    });
    return z.NEVER;
  }
  return ms / 60_000;
});

/**
 * ETTF also in months, quarters and years, as the risk formulas count them: a year is 365.25
 * days (so `1Y` is exactly one incident a year), a month a twelfth of it.
 */
const YEAR_MINUTES = 365.25 * 1440;
const CALENDAR_MINUTES: Record<string, number> = {
  M: YEAR_MINUTES / 12,
  Q: YEAR_MINUTES / 4,
  Y: YEAR_MINUTES,
};
const intervalMinutes = z.string().transform((text, ctx) => {
  const parsed = parseDuration(text);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  }
  const fixed = fixedDurationMs(parsed.value);
  return fixed !== undefined ? fixed / 60_000 : parsed.value.count * CALENDAR_MINUTES[parsed.value.unit]!;
});

const riskSchema = specObject({
  apiVersion: z.literal(SHINRAI_V1),
  kind: z.literal('Risk'),
  metadata: metadataSchema,
  spec: specObject({
    service: z.string().min(1),
    description: z.string().max(2000).optional(),
    ettd: minutes.describe('expected time to detect, e.g. 5m'),
    ettr: minutes.describe('expected time to repair once detected, e.g. 30m'),
    impact: percentOrFraction.pipe(
      z.number().gt(0, 'impact is the share of users affected: above 0%').max(1, 'at most 100% of users'),
    ),
    ettf: intervalMinutes.describe('expected time between failures, e.g. 30d or 1Y'),
    slos: z.array(z.string()).default([]),
    factors: z.array(z.string()).default([]),
    status: z.enum(['open', 'accepted', 'mitigated']).default('open'),
  }),
});

const riskFactorSchema = specObject({
  apiVersion: z.literal(SHINRAI_V1),
  kind: z.literal('RiskFactor'),
  metadata: metadataSchema,
  spec: specObject({
    description: z.string().max(2000).optional(),
    addEttd: minutes.optional(),
    addEttr: minutes.optional(),
    ettfMultiplier: z.number().gt(0).max(100).optional(),
  }),
});

function meta(object: SpecObject, metadata: z.output<typeof metadataSchema>) {
  const labels: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(metadata.labels ?? {})) labels[k] = Array.isArray(v) ? v : [v];
  return {
    name: metadata.name,
    displayName: metadata.displayName,
    labels,
    annotations: metadata.annotations ?? {},
    location: object.at(['metadata', 'name']),
    format: 'shinrai/v1' as const,
  };
}

export function convertShinraiV1(object: SpecObject, checker: Checker = new Checker(object)): ParsedObject[] {
  const kind = (object.value as { kind?: unknown }).kind;
  if (kind === 'Risk') {
    const value = checker.parse(riskSchema, object.value);
    if (!value) return [];
    const { spec } = value;
    if (spec.ettf <= 0 || spec.ettd < 0 || spec.ettr < 0) return [];
    const def: RiskDefinition = {
      ...meta(object, value.metadata),
      description: spec.description,
      service: spec.service,
      ettdMinutes: spec.ettd,
      ettrMinutes: spec.ettr,
      impact: spec.impact,
      ettfDays: spec.ettf / 1440,
      slos: spec.slos,
      factors: spec.factors,
      status: spec.status,
      refLocations: {
        slos: spec.slos.map((_, i) => object.at(['spec', 'slos', i])),
        factors: spec.factors.map((_, i) => object.at(['spec', 'factors', i])),
      },
    };
    return [{ kind: 'Risk', def }];
  }
  if (kind === 'RiskFactor') {
    const value = checker.parse(riskFactorSchema, object.value);
    if (!value) return [];
    const { spec } = value;
    const def: RiskFactorDefinition = {
      ...meta(object, value.metadata),
      description: spec.description,
      addEttdMinutes: spec.addEttd ?? 0,
      addEttrMinutes: spec.addEttr ?? 0,
      ettfMultiplier: spec.ettfMultiplier ?? 1,
    };
    return [{ kind: 'RiskFactor', def }];
  }
  const value = checker.parse(adjustmentSchema, object.value);
  if (!value) return [];
  const { metadata, spec } = value;
  let ok = true;
  const duration = parseDuration(spec.duration);
  if (!duration.ok || fixedDurationMs(duration.value) === undefined) {
    checker.error(
      ['spec', 'duration'],
      'shinrai/adjustment-duration',
      duration.ok ? 'an adjustment needs a fixed duration (m h d w)' : duration.error,
    );
    ok = false;
  }
  if (!IANAZone.isValidZone(spec.timeZone)) {
    checker.error(
      ['spec', 'timeZone'],
      'shinrai/time-zone',
      `"${spec.timeZone}" is not an IANA time zone`,
      'e.g. Asia/Tokyo',
    );
    ok = false;
  }
  if (spec.rrule !== undefined) {
    try {
      const options = RRule.parseString(spec.rrule.replace(/^RRULE:/, ''));
      if (options.freq === undefined) throw new Error('FREQ is required');
      if (/DTSTART/i.test(spec.rrule)) throw new Error('put the start in `start`, not DTSTART');
    } catch (error) {
      checker.error(
        ['spec', 'rrule'],
        'shinrai/rrule',
        `rrule is not a valid recurrence: ${(error as Error).message}`,
        'e.g. FREQ=WEEKLY;BYDAY=SU',
      );
      ok = false;
    }
  }
  if (!ok || !duration.ok) return [];
  const labels: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(metadata.labels ?? {})) labels[k] = Array.isArray(v) ? v : [v];
  const def: BudgetAdjustmentDefinition = {
    name: metadata.name,
    displayName: metadata.displayName,
    description: spec.description,
    labels,
    annotations: metadata.annotations ?? {},
    location: object.at(['metadata', 'name']),
    format: 'shinrai/v1',
    start: spec.start.replace('T', ' '),
    timeZone: spec.timeZone,
    duration: duration.value,
    rrule: spec.rrule?.replace(/^RRULE:/, ''),
    slos: spec.slos,
    services: spec.services,
  };
  return [{ kind: 'BudgetAdjustment', def }];
}
