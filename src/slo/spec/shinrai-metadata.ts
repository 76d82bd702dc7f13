/**
 * Shinrai's own metadata lives in annotations so OpenSLO files stay valid for other tools.
 * See docs/spec-annotations.md for the reference a user reads.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isHttpUrl } from '../../platform/urls.js';
import type { NoDataPolicy, PolicyStep, ShinraiMetadata } from '../model.js';
import type { Checker } from './check.js';
import type { PathSegment } from './documents.js';

export const ANNOTATION = {
  journey: 'shinrai.dev/journey',
  owner: 'shinrai.dev/owner',
  runbook: 'shinrai.dev/runbook',
  errorBudgetPolicy: 'shinrai.dev/error-budget-policy',
  noData: 'shinrai.dev/no-data',
  public: 'shinrai.dev/public',
  publicName: 'shinrai.dev/public-name',
} as const;

/** Longest public name: it heads a row of the status page. */
const MAX_PUBLIC_NAME_LENGTH = 100;

const KNOWN = new Set<string>(Object.values(ANNOTATION));

/** Values a format already carries elsewhere (Sloth's `owner` label, a `runbook` alert annotation). */
export interface MetadataFallback {
  readonly owner?: string | undefined;
  readonly runbookUrl?: string | undefined;
  readonly journey?: string | undefined;
}

/** A share written as "25%" or 0.25. */
export const percentOrFraction = z.union([
  z.number(),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?%$/, 'write a percentage such as "25%" or a fraction such as 0.25')
    .transform((text) => Number(text.slice(0, -1)) / 100),
]);

const stepSchema = z.strictObject({
  below: percentOrFraction.pipe(z.number().min(-1).max(1)),
  action: z.string().min(1),
  gate: z.enum(['allow', 'warn', 'deny']).optional(),
});

/**
 * Reads `shinrai.dev/*` annotations. `annotationsPath` is where the annotations map sits in the
 * checked object, so problems point at the offending annotation.
 */
export function readShinraiMetadata(
  annotations: Readonly<Record<string, string>>,
  checker: Checker,
  annotationsPath: readonly PathSegment[],
  fallback: MetadataFallback = {},
): ShinraiMetadata {
  const at = (key: string) => [...annotationsPath, key];
  for (const key of Object.keys(annotations)) {
    if (key.startsWith('shinrai.dev/') && !KNOWN.has(key)) {
      const suggestion = [...KNOWN].find((k) => k.split('/')[1]?.[0] === key.split('/')[1]?.[0]);
      checker.report(at(key), {
        rule: 'shinrai/unknown-annotation',
        severity: 'warning',
        atKey: true,
        message: `unknown Shinrai annotation "${key}"`,
        hint: suggestion ? `did you mean "${suggestion}"?` : `known: ${[...KNOWN].join(', ')}`,
      });
    }
  }

  // A fallback from another format (a Sloth alert annotation) is not checked, so only a link is kept.
  const runbookUrl =
    annotations[ANNOTATION.runbook] ?? (isHttpUrl(fallback.runbookUrl) ? fallback.runbookUrl : undefined);
  if (annotations[ANNOTATION.runbook] !== undefined && !isHttpUrl(annotations[ANNOTATION.runbook])) {
    checker.error(
      at(ANNOTATION.runbook),
      'shinrai/runbook-url',
      `runbook "${annotations[ANNOTATION.runbook]}" is not an http(s) URL`,
      'link the runbook page, e.g. https://wiki.example.com/runbooks/checkout',
    );
  }

  let noData: NoDataPolicy = 'excluded';
  const noDataText = annotations[ANNOTATION.noData];
  if (noDataText !== undefined) {
    if (noDataText === 'excluded' || noDataText === 'good' || noDataText === 'bad') noData = noDataText;
    else
      checker.error(
        at(ANNOTATION.noData),
        'shinrai/no-data',
        `no-data policy must be "excluded", "good" or "bad", not "${noDataText}"`,
        'excluded (default) leaves minutes without data out of the budget',
      );
  }

  let isPublic: boolean | undefined;
  const publicText = annotations[ANNOTATION.public];
  if (publicText !== undefined) {
    if (publicText === 'true' || publicText === 'false') isPublic = publicText === 'true';
    else
      checker.error(
        at(ANNOTATION.public),
        'shinrai/public',
        `shinrai.dev/public must be "true" or "false", not "${publicText}"`,
        'quote it in YAML: shinrai.dev/public: "true" (a Service on the public status page) or "false"',
      );
  }

  const publicNameText = annotations[ANNOTATION.publicName];
  const publicName = nonEmpty(publicNameText);
  if (publicNameText !== undefined && (!publicName || publicName.length > MAX_PUBLIC_NAME_LENGTH))
    checker.error(
      at(ANNOTATION.publicName),
      'shinrai/public-name',
      publicName
        ? `public name is ${publicName.length} characters long; at most ${MAX_PUBLIC_NAME_LENGTH}`
        : 'public name is empty',
      'the name customers know the service by, e.g. "Checkout"',
    );

  return {
    journey: nonEmpty(annotations[ANNOTATION.journey]) ?? fallback.journey,
    owner: nonEmpty(annotations[ANNOTATION.owner]) ?? fallback.owner,
    runbookUrl: runbookUrl,
    errorBudgetPolicy: readPolicy(
      annotations[ANNOTATION.errorBudgetPolicy],
      checker,
      at(ANNOTATION.errorBudgetPolicy),
    ),
    noData,
    ...(isPublic === undefined ? {} : { public: isPublic }),
    ...(publicName === undefined || publicName.length > MAX_PUBLIC_NAME_LENGTH ? {} : { publicName }),
  };
}

function readPolicy(text: string | undefined, checker: Checker, path: readonly PathSegment[]): PolicyStep[] {
  if (text === undefined) return [];
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    checker.error(
      path,
      'shinrai/error-budget-policy',
      `error-budget policy is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
      'write a YAML list under `|`, e.g. "- below: 25%\\n  action: reliability work first"',
    );
    return [];
  }
  const list = z.array(z.unknown()).safeParse(value);
  if (!list.success) {
    checker.error(
      path,
      'shinrai/error-budget-policy',
      'error-budget policy must be a list of steps',
      'each step has `below` (budget remaining, e.g. 25%), `action` and optionally `gate: allow|warn|deny`',
    );
    return [];
  }
  const steps: PolicyStep[] = [];
  list.data.forEach((raw, index) => {
    const parsed = stepSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        checker.error(
          path,
          'shinrai/error-budget-policy',
          `policy step ${index + 1}${issue.path.length ? ` field "${issue.path.join('.')}"` : ''}: ${issue.message}`,
          'a step is `below: 25%`, `action: <what the team does>`, optional `gate: allow|warn|deny`',
        );
      }
      return;
    }
    const { below, action, gate } = parsed.data;
    // Default gate: an exhausted budget blocks releases, any earlier step only warns.
    steps.push({ below, action, gate: gate ?? (below <= 0 ? 'deny' : 'warn') });
  });
  const seen = new Set<number>();
  for (const step of steps) {
    if (seen.has(step.below))
      checker.error(
        path,
        'shinrai/error-budget-policy',
        `two policy steps share the threshold ${formatPercent(step.below)}`,
        'merge their actions into one step',
      );
    seen.add(step.below);
  }
  // Highest threshold first: the first step reached as the budget drains.
  return steps.sort((a, b) => b.below - a.below);
}

/** The step in force for a remaining budget: the lowest threshold the budget is at or below. */
export function activePolicyStep(steps: readonly PolicyStep[], remaining: number): PolicyStep | undefined {
  let active: PolicyStep | undefined;
  for (const step of steps) if (remaining <= step.below) active = step;
  return active;
}

function formatPercent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(6))}%`;
}

function nonEmpty(text: string | undefined): string | undefined {
  return text?.trim() ? text.trim() : undefined;
}
