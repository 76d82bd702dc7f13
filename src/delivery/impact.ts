/**
 * What each deployment did: whether it failed (and which incidents it caused) and the error budget
 * each SLO of its service burned in the hours after it versus as long before it.
 */
import { type BurnBetween, burnBetween, evaluationTargets } from '../slo/index.js';
import {
  confirmedCauses,
  type DeliveryDeps,
  type DeploymentFilter,
  listDeployments,
  nextProductionDeployments,
  type StoredDeployment,
} from './service.js';

const MINUTE_MS = 60_000;

export interface SloBurnAroundDeploy {
  /** The evaluation target (`slo` or `slo/objective`). */
  readonly slo: string;
  readonly unit: 'events' | 'minutes';
  readonly before: Omit<BurnBetween, 'unit'>;
  readonly after: Omit<BurnBetween, 'unit'>;
  /** after.burnRate − before.burnRate; null when either is unknown. */
  readonly burnRateChange: number | null;
}

export interface DeploymentWithImpact {
  readonly deployment: StoredDeployment;
  /** Failed: rolled back, named as an incident's confirmed cause, or followed by a hotfix or rollback. */
  readonly failed: boolean;
  /** References (INC-3) of the incidents it caused (confirmed). */
  readonly causedIncidents: readonly string[];
  readonly budget: readonly SloBurnAroundDeploy[];
}

/** The budget each SLO of the deployment's service burned after it (delivery.afterHours) versus before. */
export async function budgetAroundDeploy(
  deps: DeliveryDeps,
  deployment: Pick<StoredDeployment, 'service' | 'finishedAtMs'>,
): Promise<SloBurnAroundDeploy[]> {
  const lengthMs = Math.round(deps.settings.afterHours * 60) * MINUTE_MS;
  // Whole minutes: the minute the deployment finished in counts as after it.
  const atMs = Math.floor(deployment.finishedAtMs / MINUTE_MS) * MINUTE_MS;
  const out: SloBurnAroundDeploy[] = [];
  for (const target of evaluationTargets(deps.catalog())) {
    if (target.slo.service !== deployment.service || target.slo.composite) continue;
    const part = target.parts[0]!;
    const [before, after] = await Promise.all([
      burnBetween(deps.db, part, atMs - lengthMs, atMs),
      burnBetween(deps.db, part, atMs, atMs + lengthMs),
    ]);
    const { unit, ...beforeFigures } = before;
    const { unit: _unit, ...afterFigures } = after;
    out.push({
      slo: target.id,
      unit,
      before: beforeFigures,
      after: afterFigures,
      burnRateChange:
        before.burnRate === null || after.burnRate === null ? null : after.burnRate - before.burnRate,
    });
  }
  return out;
}

/** Incident references per deployment id, from the confirmed causes. */
async function causedByDeployment(deps: DeliveryDeps): Promise<Map<string, string[]>> {
  const causedBy = new Map<string, string[]>();
  for (const cause of await confirmedCauses(deps)) {
    const list = causedBy.get(cause.deploymentId) ?? [];
    list.push(cause.incident.reference);
    causedBy.set(cause.deploymentId, list);
  }
  return causedBy;
}

async function withImpact(
  deps: DeliveryDeps,
  page: readonly StoredDeployment[],
  causedBy: ReadonlyMap<string, readonly string[]>,
  withBudget = true,
): Promise<DeploymentWithImpact[]> {
  const following = await nextProductionDeployments(deps, page);
  const out: DeploymentWithImpact[] = [];
  for (const deployment of page) {
    const next = following.get(deployment.id);
    const caused = [...(causedBy.get(deployment.id) ?? [])].sort();
    const failed =
      deployment.production &&
      deployment.status !== 'failure' &&
      (deployment.status === 'rolled_back' ||
        caused.length > 0 ||
        (next !== undefined && next.kind !== 'normal'));
    out.push({
      deployment,
      failed,
      causedIncidents: caused,
      budget: withBudget ? await budgetAroundDeploy(deps, deployment) : [],
    });
  }
  return out;
}

/** One deployment with its failure and budget impact. */
export async function deploymentImpact(
  deps: DeliveryDeps,
  deployment: StoredDeployment,
): Promise<DeploymentWithImpact> {
  return (await withImpact(deps, [deployment], await causedByDeployment(deps)))[0]!;
}

/**
 * Deployments (newest first) with failure and budget impact. With `burnedOverShare`, only those
 * whose hours after burned more than that share of some SLO's budget; the search then pages
 * through older deployments until it has `limit` of them or has looked at `scanLimit`.
 */
export async function deploymentsWithImpact(
  deps: DeliveryDeps,
  filter: DeploymentFilter,
  options: {
    readonly burnedOverShare?: number | undefined;
    readonly scanLimit?: number | undefined;
    /** false: leave `budget` empty (a caller that only needs the deployments, such as the CLI). */
    readonly withBudget?: boolean | undefined;
  } = {},
): Promise<{ items: DeploymentWithImpact[]; next?: StoredDeployment | undefined }> {
  const causedBy = await causedByDeployment(deps);
  const items: DeploymentWithImpact[] = [];
  const scanLimit = options.scanLimit ?? 2_000;
  let scanned = 0;
  let before = filter.before;
  for (;;) {
    const page = await listDeployments(deps, { ...filter, before, limit: filter.limit });
    scanned += page.length;
    const withBudget = options.withBudget !== false || options.burnedOverShare !== undefined;
    for (const item of await withImpact(deps, page, causedBy, withBudget)) {
      const over = options.burnedOverShare;
      if (over !== undefined && !item.budget.some((b) => (b.after.shareOfBudget ?? 0) > over)) continue;
      items.push(item);
      if (items.length >= filter.limit) return { items, next: item.deployment };
    }
    const last = page.at(-1);
    if (!last || page.length < filter.limit) return { items };
    if (options.burnedOverShare === undefined || scanned >= scanLimit) return { items, next: last };
    before = { finishedAtMs: last.finishedAtMs, id: last.id };
  }
}
