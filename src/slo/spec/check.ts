/**
 * Turns zod validation of a spec object into located diagnostics. Schemas attach a rule id and
 * hint to custom issues through `params`; built-in issues get a rule from their code.
 */
import { distance } from 'fastest-levenshtein';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import type { Diagnostic, Severity } from './diagnostics.js';
import type { PathSegment, SpecObject } from './documents.js';

export interface RuleParams {
  rule: string;
  hint?: string;
  severity?: Severity;
  /** Point at the key instead of the value (for "remove this field"). */
  atKey?: boolean;
}

/** Collects diagnostics for one spec object. */
export class Checker {
  readonly diagnostics: Diagnostic[] = [];
  constructor(
    readonly object: SpecObject,
    private readonly basePath: readonly PathSegment[] = [],
  ) {}

  /** A checker for a nested object (e.g. an inline SLI inside an SLO) that reports at the right place. */
  nested(path: readonly PathSegment[]): Checker {
    const child = new Checker(this.object, [...this.basePath, ...path]);
    child.diagnostics.length = 0;
    return Object.assign(child, { diagnostics: this.diagnostics });
  }

  path(path: readonly PathSegment[]): PathSegment[] {
    return [...this.basePath, ...path];
  }

  report(path: readonly PathSegment[], params: RuleParams & { message: string }): void {
    const full = this.path(path);
    const where = params.atKey ? this.object.keyAt(full) : this.object.at(full);
    this.diagnostics.push({
      ...where,
      severity: params.severity ?? 'error',
      rule: params.rule,
      message: params.message,
      hint: params.hint,
    });
  }

  error(path: readonly PathSegment[], rule: string, message: string, hint?: string): void {
    this.report(path, { rule, message, hint });
  }

  warn(path: readonly PathSegment[], rule: string, message: string, hint?: string): void {
    this.report(path, { rule, message, hint, severity: 'warning' });
  }

  /** Validates `value` (found at `path` below this checker) and reports every issue. */
  parse<T extends z.ZodType>(
    schema: T,
    value: unknown,
    path: readonly PathSegment[] = [],
  ): z.output<T> | undefined {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) this.reportIssue(issue, value, [...path]);
    return undefined;
  }

  private reportIssue(issue: z.core.$ZodIssue, root: unknown, prefix: PathSegment[]): void {
    const issuePath = issue.path.filter((p): p is PathSegment => typeof p !== 'symbol');
    const path = [...prefix, ...issuePath];
    const field = describePath(path);
    const params = (issue as { params?: Partial<RuleParams> }).params;
    switch (issue.code) {
      case 'invalid_type': {
        const present = valueAt(root, issuePath) !== undefined;
        if (!present) {
          this.report(path, {
            rule: 'spec/required',
            message: `${field || 'value'} is required`,
            hint: params?.hint,
          });
        } else {
          this.report(path, {
            rule: 'spec/type',
            message: `${field || 'value'} must be ${article(issue.expected)}, not ${kindOf(valueAt(root, issuePath))}`,
            hint: params?.hint,
          });
        }
        return;
      }
      case 'invalid_value':
        if (valueAt(root, issuePath) === undefined) {
          this.report(path, {
            rule: 'spec/required',
            message: `${field} is required (one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')})`,
            hint: params?.hint,
          });
          return;
        }
        this.report(path, {
          rule: 'spec/enum',
          message: `${field} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, not ${JSON.stringify(valueAt(root, issuePath))}`,
          hint: params?.hint ?? closestHint(valueAt(root, issuePath), issue.values),
        });
        return;
      case 'too_small':
      case 'too_big':
      case 'invalid_format':
        this.report(path, {
          rule: params?.rule ?? 'spec/range',
          message: `${field}: ${issue.message}`,
          hint: params?.hint,
        });
        return;
      case 'invalid_union':
        this.report(path, {
          rule: params?.rule ?? 'spec/type',
          message: `${field}: ${issue.message}`,
          hint: params?.hint,
        });
        return;
      case 'custom':
        this.report(path, {
          rule: params?.rule ?? 'spec/invalid',
          message: issue.message,
          hint: params?.hint,
          severity: params?.severity,
          atKey: params?.atKey,
        });
        return;
      default:
        this.report(path, { rule: params?.rule ?? 'spec/invalid', message: `${field}: ${issue.message}` });
    }
  }
}

export function describePath(path: readonly PathSegment[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let current: unknown = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PathSegment, unknown>)[segment];
  }
  return current;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the text ${JSON.stringify(value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function article(expected: string): string {
  switch (expected) {
    case 'object':
      return 'an object';
    case 'array':
      return 'a list';
    case 'record':
      return 'a map';
    case 'int':
      return 'a whole number';
    default:
      return `a ${expected}`;
  }
}

function closestHint(value: unknown, options: readonly unknown[]): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = closest(
    value,
    options.filter((o): o is string => typeof o === 'string'),
  );
  return match ? `did you mean "${match}"?` : undefined;
}

/** The option closest to `word` by edit distance, if it is plausibly a typo. */
export function closest(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const option of options) {
    if (option.toLowerCase() === word.toLowerCase()) return option;
    const d = distance(word.toLowerCase(), option.toLowerCase());
    if (d < bestDistance) {
      best = option;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/**
 * An object schema that reports unknown fields (with a did-you-mean hint) alongside every other
 * problem — zod skips refinements once a field fails, so this one runs unconditionally.
 */
export function specObject<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape);
  return z.looseObject(shape).check(
    z.superRefine(
      (value: unknown, ctx) => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
        for (const key of Object.keys(value)) {
          if (known.includes(key)) continue;
          const suggestion = closest(key, known);
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `unknown field "${key}"`,
            params: {
              rule: 'spec/unknown-field',
              atKey: true,
              hint: suggestion ? `did you mean "${suggestion}"?` : `known fields: ${known.join(', ')}`,
            } satisfies RuleParams,
          });
        }
      },
      { when: () => true },
    ),
  );
}

/** Reports one rule violation from inside a schema check. */
export type Issue = (
  path: PathSegment[],
  rule: string,
  message: string,
  hint?: string,
  atKey?: boolean,
) => void;

/** Attaches rules that run even when other fields already failed, so one run reports everything. */
export function withRules<T extends z.ZodType>(
  schema: T,
  rules: (value: Record<string, unknown>, issue: Issue) => void,
) {
  return schema.check(
    z.superRefine(
      (value: unknown, ctx) => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
        rules(value as Record<string, unknown>, (path, rule, message, hint, atKey) =>
          ctx.addIssue({ code: 'custom', path, message, params: { rule, hint, atKey } satisfies RuleParams }),
        );
      },
      { when: () => true },
    ),
  );
}

/** The value as a plain object, or an empty one: for rules that read fields which may be absent. */
export function asRecord(value: unknown): Record<PathSegment, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<PathSegment, unknown>)
    : {};
}

const LOCAL_START_TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$/;

/** OpenSLO calendar windows (v1 and v1alpha): an IANA zone and a local start time without offset. */
export function checkCalendar(
  calendar: Record<PathSegment, unknown>,
  issue: Issue,
  rulePrefix: string,
): void {
  if (typeof calendar.timeZone === 'string' && !IANAZone.isValidZone(calendar.timeZone))
    issue(
      ['calendar', 'timeZone'],
      `${rulePrefix}/time-zone`,
      `"${calendar.timeZone}" is not an IANA time zone`,
      'e.g. Asia/Tokyo, America/New_York, UTC',
    );
  if (typeof calendar.startTime === 'string' && !LOCAL_START_TIME.test(calendar.startTime))
    issue(
      ['calendar', 'startTime'],
      `${rulePrefix}/start-time`,
      `startTime "${calendar.startTime}" is not a local date and time`,
      'write it as 2024-01-01 00:00:00, without a time zone (the zone is calendar.timeZone)',
    );
}
