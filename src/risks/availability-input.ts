/**
 * The calculator's input, the same for an API body and a YAML/JSON file: zod checks the shape
 * (with issues at exact paths), then `toModel` builds the core's model. Availabilities are
 * `99.9%` strings or fractions `0.999`.
 */
import { z } from 'zod';
import {
  type AvailabilityModel,
  CALC_LIMITS,
  type CalcIssue,
  type CalcOutcome,
  type CalcPath,
  type Component,
  calculateAvailability,
  type Dependency,
} from './availability.js';

const PERCENT = /^\s*(\d{1,3}(?:\.\d+)?)\s*%\s*$/;

/** `"99.9%"` or `0.999` → 0.999; a message when it is neither. */
export function parseAvailability(value: unknown): number | { error: string } {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0 && value <= 1) return value;
    if (Number.isFinite(value) && value > 1 && value <= 100)
      return { error: `${value} is not a fraction in [0, 1]: write ${value}% or ${Number(`${value}e-2`)}` };
    return {
      error: `${value} is not an availability: write a fraction in [0, 1] or a percentage like 99.9%`,
    };
  }
  if (typeof value === 'string') {
    // A bare number in a string (a CLI flag, a quoted YAML value) reads as that number.
    if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return parseAvailability(Number(value));
    const match = PERCENT.exec(value);
    // Shifting the decimal point in the text keeps "99.9%" exactly the double nearest 0.999.
    const fraction = match ? Number(`${match[1]}e-2`) : Number.NaN;
    if (fraction >= 0 && fraction <= 1) return fraction;
    return {
      error: match
        ? `"${value}" is outside 0%–100%`
        : `"${value}" is not an availability: write a percentage like "99.9%" or a fraction like 0.999`,
    };
  }
  return { error: 'an availability is a percentage like "99.9%" or a fraction like 0.999' };
}

/** An availability as written: the schema reads it into a fraction. */
export const availabilitySchema = z
  .union([z.number(), z.string()])
  .transform((value, ctx) => {
    const parsed = parseAvailability(value);
    if (typeof parsed === 'number') return parsed;
    ctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  })
  .meta({ description: 'a percentage such as "99.9%" or a fraction such as 0.999', examples: ['99.9%'] });

const COMPONENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/;
const MAX_DEPTH = 32;

/** A dependency as written: a name, a list (serial), `{serial: [...]}` or `{parallel: [...], required?}`. */
export type DependencyInput =
  | string
  | readonly DependencyInput[]
  | { readonly serial: readonly DependencyInput[] }
  | { readonly parallel: readonly DependencyInput[]; readonly required?: number };

const DEPENDENCY_FORMS =
  'a dependency is a component name, a list (all needed), {serial: [...]} or {parallel: [...], required: k}';

/** Shape problems of a dependency expression, each at its exact path (zod unions would only say "invalid"). */
export function checkDependencyShape(value: unknown, path: CalcPath = []): CalcIssue[] {
  const issues: CalcIssue[] = [];
  let nodes = 0;
  const walk = (v: unknown, at: CalcPath, depth: number): void => {
    if (++nodes > CALC_LIMITS.expandedNodes) {
      if (nodes === CALC_LIMITS.expandedNodes + 1)
        issues.push({ path: at, message: `more than ${CALC_LIMITS.expandedNodes} dependency entries` });
      return;
    }
    if (depth > MAX_DEPTH) {
      issues.push({ path: at, message: `dependencies nest deeper than ${MAX_DEPTH} levels` });
      return;
    }
    if (typeof v === 'string') {
      if (!COMPONENT_ID.test(v))
        issues.push({
          path: at,
          message: `"${v.slice(0, 100)}" is not a component name (letters, digits, . _ - : /)`,
        });
      return;
    }
    const list = (items: unknown, listAt: CalcPath) => {
      if (!Array.isArray(items))
        issues.push({ path: listAt, message: `expected a list; ${DEPENDENCY_FORMS}` });
      else if (items.length === 0) issues.push({ path: listAt, message: 'the list is empty' });
      else
        items.forEach((item, i) => {
          walk(item, [...listAt, i], depth + 1);
        });
    };
    if (Array.isArray(v)) {
      list(v, at);
      return;
    }
    if (typeof v !== 'object' || v === null) {
      issues.push({ path: at, message: DEPENDENCY_FORMS });
      return;
    }
    const keys = Object.keys(v);
    const form = keys.includes('serial') ? 'serial' : keys.includes('parallel') ? 'parallel' : undefined;
    if (!form || (keys.includes('serial') && keys.includes('parallel'))) {
      issues.push({ path: at, message: DEPENDENCY_FORMS });
      return;
    }
    for (const key of keys)
      if (key !== form && !(form === 'parallel' && key === 'required'))
        issues.push({ path: [...at, key], message: `unknown key "${key}"; ${DEPENDENCY_FORMS}` });
    const record = v as Record<string, unknown>;
    if (form === 'parallel' && 'required' in record) {
      const k = record.required;
      if (!(typeof k === 'number' && Number.isInteger(k) && k >= 1))
        issues.push({ path: [...at, 'required'], message: 'required must be a whole number ≥ 1' });
    }
    list(record[form], [...at, form]);
  };
  walk(value, path, 0);
  return issues;
}

/** A dependency expression; checked by hand so every problem names its exact path. */
export const dependencySchema = z
  .unknown()
  .superRefine((value, ctx) => {
    for (const issue of checkDependencyShape(value))
      ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
  })
  .transform((value) => value as DependencyInput)
  .meta({
    description: DEPENDENCY_FORMS,
    examples: [['lb', 'app', { parallel: ['cache-a', 'cache-b'] }]],
  });

export const componentSchema = z.strictObject({
  availability: availabilitySchema,
  replicas: z
    .int()
    .min(1)
    .max(CALC_LIMITS.replicas)
    .optional()
    .describe('identical independent replicas (default 1)'),
  required: z.int().min(1).optional().describe('replicas that must be up (default 1: any one suffices)'),
  dependsOn: dependencySchema.optional().describe(`what every replica needs, in series; ${DEPENDENCY_FORMS}`),
});

/** The calculator's input: components, what the service needs, optional own availability and target. */
export const calcInputSchema = z.strictObject({
  target: availabilitySchema.optional().describe('answer whether the service can reach this'),
  own: availabilitySchema
    .optional()
    .describe("the service's own availability, in series with its dependencies (default 100%)"),
  components: z
    .record(
      z.string().regex(COMPONENT_ID, 'a component name: letters, digits, . _ - : / (at most 100)'),
      componentSchema,
    )
    .refine((c) => Object.keys(c).length <= CALC_LIMITS.components, {
      message: `at most ${CALC_LIMITS.components} components`,
    }),
  service: dependencySchema.describe(`what the service needs to be up; ${DEPENDENCY_FORMS}`),
});

export type CalcInput = z.output<typeof calcInputSchema>;

/** Builds the core's model from checked input; every node keeps its path for located errors. */
export function toModel(input: CalcInput): AvailabilityModel {
  const dependency = (value: DependencyInput, path: CalcPath): Dependency => {
    if (typeof value === 'string') return { kind: 'component', id: value, path };
    if (Array.isArray(value))
      return { kind: 'serial', path, items: value.map((v, i) => dependency(v, [...path, i])) };
    if ('serial' in value)
      return {
        kind: 'serial',
        path,
        items: value.serial.map((v, i) => dependency(v, [...path, 'serial', i])),
      };
    const parallel = value as { parallel: readonly DependencyInput[]; required?: number };
    return {
      kind: 'parallel',
      path,
      required: parallel.required ?? 1,
      items: parallel.parallel.map((v, i) => dependency(v, [...path, 'parallel', i])),
    };
  };
  const components = new Map<string, Component>(
    Object.entries(input.components).map(([id, c]) => [
      id,
      {
        id,
        availability: c.availability,
        replicas: c.replicas ?? 1,
        required: c.required ?? 1,
        dependsOn:
          c.dependsOn === undefined ? undefined : dependency(c.dependsOn, ['components', id, 'dependsOn']),
      },
    ]),
  );
  return {
    components,
    service: dependency(input.service, ['service']),
    own: input.own ?? 1,
    target: input.target,
  };
}

/** Reads any value (a parsed file, a body) and calculates; every problem comes back located. */
export function calculateFromInput(value: unknown): CalcOutcome {
  const parsed = calcInputSchema.safeParse(value);
  if (!parsed.success)
    return {
      ok: false,
      issues: parsed.error.issues.flatMap((issue): CalcIssue[] => {
        const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
        // One issue per unknown key, at the key, so a typo is reported where it was written.
        if (issue.code === 'unrecognized_keys')
          return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key "${key}"` }));
        return [{ path, message: issue.message }];
      }),
    };
  return calculateAvailability(toModel(parsed.data));
}

/** `components.db.required`, `service.serial.3` — a path as the API's problem details name fields. */
export function fieldName(path: CalcPath): string | undefined {
  return path.length ? path.join('.') : undefined;
}
