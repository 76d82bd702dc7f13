/**
 * Writing risks through the API and the CLI. A risk written this way is a `shinrai.dev/v1` Risk
 * document stored with the uploaded specs (`managed/risks/<name>.yaml`), validated exactly like
 * one in a spec file (service, SLOs of the service, known factors), and shared by every replica.
 * Risks written in spec files stay owned by their file: the API refuses to change them.
 */
import { Document, parse as parseYaml } from 'yaml';
import { type AuditScope, recordAudit } from '../platform/audit/index.js';
import { AppError, invalid, type ProblemDetail } from '../platform/errors.js';
import type { RiskDefinition } from '../slo/index.js';
import {
  MANAGED_PREFIX,
  type ManagedFileAudit,
  SHINRAI_V1,
  type SpecStore,
  UPLOAD_PREFIX,
} from '../slo/index.js';

/** A Risk's spec as written in YAML: durations such as `5m` / `30d`, impact `100%` or 1. */
export interface RiskSpecInput {
  readonly service: string;
  readonly description?: string | undefined;
  readonly ettd: string;
  readonly ettr: string;
  readonly impact: string | number;
  readonly ettf: string;
  readonly slos?: readonly string[] | undefined;
  readonly factors?: readonly string[] | undefined;
  readonly status?: 'open' | 'accepted' | 'mitigated' | undefined;
}

export const RISK_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Where a risk written through the API is stored among the uploaded specs. */
export function managedRiskPath(name: string): string {
  return `${MANAGED_PREFIX}risks/${name}.yaml`;
}

/** The Risk document, one spec field per line so an error's line names its field. */
export function riskDocument(name: string, input: RiskSpecInput): string {
  const spec: Record<string, unknown> = { service: input.service };
  if (input.description !== undefined) spec.description = input.description;
  Object.assign(spec, { ettd: input.ettd, ettr: input.ettr, impact: input.impact, ettf: input.ettf });
  if (input.slos?.length) spec.slos = [...input.slos];
  if (input.factors?.length) spec.factors = [...input.factors];
  if (input.status !== undefined) spec.status = input.status;
  const doc = new Document({ apiVersion: SHINRAI_V1, kind: 'Risk', metadata: { name }, spec });
  // Lists in flow style keep each field on one line.
  for (const key of ['slos', 'factors']) {
    const node = doc.getIn(['spec', key], true) as { flow?: boolean } | undefined;
    if (node) node.flow = true;
  }
  return doc.toString({ lineWidth: 0 });
}

/** The spec field an error on `line` (1-based) of `riskDocument`'s text is about. */
function fieldAt(text: string, line: number): string | undefined {
  const lines = text.split('\n');
  for (let i = Math.min(line, lines.length) - 1; i >= 0; i--) {
    const key = /^ {2}([A-Za-z]+):/.exec(lines[i]!)?.[1];
    if (key) return key;
  }
  return undefined;
}

/** True for a risk written through the API (its document is the managed file of its name). */
export function isManagedRisk(risk: Pick<RiskDefinition, 'name' | 'location'>): boolean {
  return risk.location.file === `${UPLOAD_PREFIX}${managedRiskPath(risk.name)}`;
}

/** A risk written in a spec file is owned by its file: the API neither changes nor removes it. */
function refuseFileRisk(specs: SpecStore, name: string, verb: 'change' | 'remove'): void {
  const existing = specs.current.catalog.risks?.find((r) => r.name === name);
  if (existing && !isManagedRisk(existing))
    throw new AppError(
      'Conflict',
      `risk "${name}" is written in ${existing.location.file}:${existing.location.line}; ${verb} it there`,
    );
}

/** Writes (creates or replaces) the risk `name`; `created` says which. */
export async function putRisk(
  specs: SpecStore,
  name: string,
  input: RiskSpecInput,
  audit?: AuditScope,
): Promise<{ created: boolean }> {
  if (!RISK_NAME.test(name) || name.length > 63)
    throw invalid(`risk name "${name}": use 1–63 lowercase letters, digits and "-", e.g. db-failover-manual`);
  const path = managedRiskPath(name);
  refuseFileRisk(specs, name, 'change');
  const text = riskDocument(name, input);
  const result = await specs.putManagedFile(path, text, riskAudit(audit, name, text));
  if (!result.ok) {
    const errors: ProblemDetail[] = result.errors.map((d) => {
      const field = fieldAt(text, d.line);
      return {
        ...(field ? { field } : {}),
        message: d.hint ? `${d.message} (${d.hint})` : d.message,
      };
    });
    throw invalid(`risk "${name}" is not valid: ${errors.map((e) => e.message).join('; ')}`, errors);
  }
  return { created: result.created };
}

/**
 * Changes some fields of a risk written through the API (e.g. the estimates calibration offers),
 * keeping the others as written. Also repairs one the specs now reject (a factor since removed).
 */
export async function patchRisk(
  specs: SpecStore,
  name: string,
  patch: Partial<RiskSpecInput>,
  audit?: AuditScope,
): Promise<void> {
  const path = managedRiskPath(name);
  refuseFileRisk(specs, name, 'change');
  const text = RISK_NAME.test(name) ? await specs.readManagedFile(path) : undefined;
  if (text === undefined)
    throw new AppError('NotFound', `no risk ${JSON.stringify(name)} written through the API`);
  const written = (parseYaml(text) as { spec: RiskSpecInput }).spec;
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  await putRisk(specs, name, { ...written, ...defined }, audit);
}

/** Removes a risk written through the API. */
export async function deleteRisk(specs: SpecStore, name: string, audit?: AuditScope): Promise<void> {
  const path = managedRiskPath(name);
  refuseFileRisk(specs, name, 'remove');
  if (!RISK_NAME.test(name) || !(await specs.deleteManagedFile(path, riskAudit(audit, name, undefined))))
    throw new AppError('NotFound', `no risk ${JSON.stringify(name)} written through the API`);
}

/** The risk's spec fields in a stored document, for the audit log's before/after. */
function specFields(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined) return null;
  try {
    return { ...((parseYaml(text) as { spec?: Record<string, unknown> }).spec ?? {}) };
  } catch {
    return { document: text };
  }
}

/** Records a write of the risk `name` (next: its new document; undefined: removed). */
function riskAudit(
  audit: AuditScope | undefined,
  name: string,
  next: string | undefined,
): ManagedFileAudit | undefined {
  if (!audit) return undefined;
  return (trx, previous, atMs) =>
    recordAudit(trx, audit, {
      action: next === undefined ? 'risk.delete' : previous === undefined ? 'risk.create' : 'risk.update',
      targetType: 'risk',
      targetId: name,
      before: specFields(previous),
      after: specFields(next),
      atMs,
    });
}
