/**
 * Shinrai's own kinds (`apiVersion: shinrai.dev/v1`) for what OpenSLO v1 cannot express.
 * BudgetAdjustment: a maintenance period, one-off or recurring (RFC 5545 RRULE), removed from
 * the error budget of the SLOs it names.
 */
import { IANAZone } from 'luxon';
import rrule from 'rrule';
import { z } from 'zod';
import { fixedDurationMs, parseDuration } from '../duration.js';
import type { BudgetAdjustmentDefinition } from '../model.js';
import { Checker, specObject } from './check.js';
import type { SpecObject } from './documents.js';
import type { ParsedObject } from './parsed.js';

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

export function convertShinraiV1(object: SpecObject, checker: Checker = new Checker(object)): ParsedObject[] {
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
