/**
 * Loading SLOs as code: read files, convert each object by its format, resolve references.
 * The one entry point for the CLI, the server and tests.
 */

import { validateObjective } from '../budget/index.js';
import { evaluationTargets } from '../evaluation.js';
import type { Catalog } from '../model.js';
import { checkOtlpSources } from '../sources/otlp/index.js';
import { Checker } from './check.js';
import { type Diagnostic, hasErrors, sortDiagnostics } from './diagnostics.js';
import { parseSpecText, type ReadOptions, readSpecTree, type SpecObject } from './documents.js';
import { convertOpenSloV1, OPENSLO_V1 } from './openslo-v1.js';
import { convertOpenSloV1alpha } from './openslo-v1alpha.js';
import { checkUploadedObject, isUploaded } from './origin.js';
import type { AlertWindowsDefinition, ParsedObject } from './parsed.js';
import { type ResolveOptions, resolveCatalog } from './resolve.js';
import { convertShinraiV1, SHINRAI_V1 } from './shinrai-v1.js';
import { convertSlothAlertWindows, convertSlothKubernetes, convertSlothPrometheusV1 } from './sloth.js';

export interface LoadResult {
  readonly files: readonly string[];
  readonly catalog: Catalog;
  readonly alertWindows: readonly AlertWindowsDefinition[];
  /** Sorted by file and position; errors and warnings together. */
  readonly diagnostics: readonly Diagnostic[];
}

const SUPPORTED = `${OPENSLO_V1}, openslo/v1alpha, Sloth "version: prometheus/v1", sloth.slok.dev/v1, ${SHINRAI_V1}`;

/**
 * Loads a file or a directory tree of specs. Never throws for bad input: problems are diagnostics.
 * `options.configuredTargets`: notification targets configured on the server, which refs may name.
 */
export async function loadSpecs(
  path: string,
  cwd?: string,
  options: ResolveOptions = {},
): Promise<LoadResult> {
  const read = await readSpecTree(path, cwd);
  return build(read.files, read.objects, [...read.diagnostics], options);
}

/**
 * Loads a spec tree (optional) together with spec texts from elsewhere (files uploaded through
 * the API), resolving references across all of them.
 */
export async function loadSpecSources(
  path: string | undefined,
  texts: readonly { file: string; text: string }[],
  cwd?: string,
  options: ReadOptions & ResolveOptions = {},
): Promise<LoadResult> {
  const parse = options.parse ?? parseSpecText;
  const files: string[] = [];
  const objects: SpecObject[] = [];
  const diagnostics: Diagnostic[] = [];
  if (path !== undefined) {
    const read = await readSpecTree(path, cwd, options);
    files.push(...read.files);
    objects.push(...read.objects);
    diagnostics.push(...read.diagnostics);
  }
  for (const { file, text } of texts) {
    const parsed = parse(file, text);
    files.push(file);
    objects.push(...parsed.objects);
    diagnostics.push(...parsed.diagnostics);
  }
  return build(files, objects, diagnostics, options);
}

/** Loads specs from text (an API body, a test); `file` is the name used in diagnostics. */
export function loadSpecText(file: string, text: string, options: ResolveOptions = {}): LoadResult {
  const parsed = parseSpecText(file, text);
  return build([file], parsed.objects, parsed.diagnostics, options);
}

function build(
  files: readonly string[],
  objects: readonly SpecObject[],
  diagnostics: Diagnostic[],
  options: ResolveOptions,
): LoadResult {
  const parsed: ParsedObject[] = [];
  for (const object of objects) {
    const checker = new Checker(object);
    // What came over the network may not define connections or secrets (see origin.ts).
    if (isUploaded(object.file)) checkUploadedObject(checker);
    const converted = convertObject(object, checker);
    // An object with an error is reported and skipped; it never half-loads.
    if (!hasErrors(checker.diagnostics)) parsed.push(...converted);
    diagnostics.push(...checker.diagnostics);
  }
  const resolved = resolveCatalog(parsed, diagnostics, { configuredTargets: options.configuredTargets });
  diagnostics.push(...checkOtlpSources(resolved.catalog));
  const catalog = withoutUnevaluable(resolved.catalog, diagnostics);
  return { files, catalog, alertWindows: resolved.alertWindows, diagnostics: sortDiagnostics(diagnostics) };
}

/**
 * Whatever loads must be evaluable: the engine's own checks run here, so an SLO the engine would
 * refuse is reported at its objective instead of failing later at evaluation time.
 */
function withoutUnevaluable(catalog: Catalog, diagnostics: Diagnostic[]): Catalog {
  const refused = new Set<string>();
  for (const target of evaluationTargets(catalog)) {
    for (const part of target.parts) {
      for (const issue of validateObjective(part.spec)) {
        const objective = target.slo.objectives.find((o) => o.key === part.key);
        diagnostics.push({
          ...(objective?.location ?? target.slo.location),
          severity: 'error',
          rule: 'shinrai/not-evaluable',
          message: `${target.id}: ${issue.message}`,
        });
        refused.add(target.slo.id);
      }
    }
  }
  return refused.size ? { ...catalog, slos: catalog.slos.filter((s) => !refused.has(s.id)) } : catalog;
}

function convertObject(object: SpecObject, checker: Checker): ParsedObject[] {
  const value = object.value as Record<string, unknown>;
  const apiVersion = value.apiVersion;
  if (apiVersion === OPENSLO_V1) return convertOpenSloV1(object, checker);
  if (apiVersion === 'openslo/v1alpha') return convertOpenSloV1alpha(object, checker);
  if (apiVersion === SHINRAI_V1) return convertShinraiV1(object, checker);
  if (apiVersion === 'sloth.slok.dev/v1') {
    if (value.kind === 'AlertWindows') return convertSlothAlertWindows(object, checker);
    if (value.kind === 'PrometheusServiceLevel') return convertSlothKubernetes(object, checker);
    checker.error(
      ['kind'],
      'spec/kind',
      `unsupported sloth.slok.dev/v1 kind ${JSON.stringify(value.kind)}`,
      'Shinrai reads PrometheusServiceLevel and AlertWindows',
    );
    return [];
  }
  if (apiVersion === undefined && value.version === 'prometheus/v1')
    return convertSlothPrometheusV1(object, checker);
  if (apiVersion === undefined && value.version !== undefined) {
    checker.error(
      ['version'],
      'spec/api-version',
      `unsupported Sloth spec version ${JSON.stringify(value.version)}`,
      'Shinrai reads Sloth "prometheus/v1"',
    );
    return [];
  }
  checker.error(
    apiVersion === undefined ? [] : ['apiVersion'],
    'spec/api-version',
    apiVersion === undefined
      ? 'object has no apiVersion'
      : `unsupported apiVersion ${JSON.stringify(apiVersion)}`,
    `supported: ${SUPPORTED}`,
  );
  return [];
}
