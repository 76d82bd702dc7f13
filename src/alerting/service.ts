/**
 * Live alerts: on every evaluator tick, in the transaction that stores the statuses, each SLO's
 * rules are observed on its fresh status and its alerts advanced. Runs only where the evaluator
 * runs (the leader); the state lives in the database, so a new leader carries on.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import {
  catalogTargets,
  type DeliveryTarget,
  enqueueNotifications,
  notificationId,
  payloadFor,
  targetsForRule,
  type WebhookPayload,
} from '../notifications/index.js';
import { isoOrNull } from '../platform/dates.js';
import type { Database } from '../platform/db/index.js';
import type { Catalog, DatedStatus, SloDefinition } from '../slo/index.js';
import {
  type AlertRule,
  alertRulesFor,
  CURRENT_BURN_WINDOW,
  evaluationTargets,
  windowsFromDefinition,
} from '../slo/index.js';
import { type AlertTarget, evaluateAlerts, type StoredAlert } from './evaluate.js';
import { lookupByLabel } from './observe.js';
import { readSilences, silencedBy } from './silences.js';
import { readAlerts, writeAlertChanges } from './store.js';

interface LoadedRules {
  readonly version: number;
  readonly bySlo: Map<string, readonly AlertRule[]>;
  readonly targets: ReadonlyMap<string, DeliveryTarget>;
}

export class AlertService {
  private loaded: LoadedRules | null = null;

  constructor(
    private readonly deps: {
      readonly log: Logger;
      readonly specs: () => { readonly catalog: Catalog; readonly version: number };
      /** Target names the default rules notify (`alerting.notify`). */
      readonly notify?: readonly string[] | undefined;
      /**
       * Targets configured on the server (`notificationTargets.<name>`); a spec target of the same
       * name is refused by the loader, and never replaces one of these.
       */
      readonly configuredTargets?: ReadonlyMap<string, DeliveryTarget> | undefined;
      /** Low-traffic guard: events a condition's long window needs before it may fire (0: off). */
      readonly minEvents?: number | undefined;
    },
  ) {}

  private current(): LoadedRules {
    const { catalog, version } = this.deps.specs();
    if (this.loaded?.version !== version) {
      const bySlo = new Map<string, readonly AlertRule[]>();
      const windows = (catalog.alertWindows ?? []).map(windowsFromDefinition);
      for (const s of catalog.slos) {
        const result = alertRulesFor(s, windows);
        if (result.ok) bySlo.set(s.id, result.rules);
        else this.deps.log.warn({ slo: s.id }, `no burn-rate alerts: ${result.error}`);
      }
      const fromSpecs = catalogTargets(catalog);
      for (const problem of fromSpecs.problems)
        this.deps.log.warn(`notification target not used: ${problem}`);
      const targets = new Map(this.deps.configuredTargets ?? []);
      for (const [name, target] of fromSpecs.targets) if (!targets.has(name)) targets.set(name, target);
      for (const name of this.deps.notify ?? [])
        if (!targets.has(name))
          this.deps.log.warn(
            `alerting.notify names ${name}, which is neither notificationTargets.${name} nor a deliverable AlertNotificationTarget`,
          );
      this.loaded = { version, bySlo, targets };
    }
    return this.loaded;
  }

  /** The rules of one SLO with the loaded specs (none when its period is too short for them). */
  rulesFor(slo: SloDefinition): readonly AlertRule[] {
    return this.current().bySlo.get(slo.id) ?? [];
  }

  /** Deliverable notification targets of the loaded specs, by name. */
  targets(): ReadonlyMap<string, DeliveryTarget> {
    return this.current().targets;
  }

  /** Firing alerts with the targets they notify, for re-sending to Alertmanagers. */
  async firing(
    db: Kysely<Database>,
    nowMs: number,
  ): Promise<Array<{ targets: readonly string[]; payload: WebhookPayload }>> {
    const { catalog } = this.deps.specs();
    const sloOf = new Map(evaluationTargets(catalog).map((t) => [t.id, t.slo]));
    const deliverable = this.targets();
    const out: Array<{ targets: readonly string[]; payload: WebhookPayload }> = [];
    for (const alert of (await readAlerts(db)).values()) {
      if (alert.state.phase !== 'firing') continue;
      const slo = sloOf.get(alert.sloId);
      const rule = slo && this.rulesFor(slo).find((r) => r.name === alert.rule);
      if (!slo || !rule) continue;
      const targets = targetsForRule(slo, rule, this.deps.notify ?? []).filter((n) => deliverable.has(n));
      const id = notificationId(alert.fingerprint, 'firing', alert.state.firedAtMs ?? nowMs, 'refresh');
      out.push({
        targets,
        payload: payloadFor(alert, 'firing', id, nowMs, { runbookUrl: slo.shinrai.runbookUrl }),
      });
    }
    return out;
  }

  /**
   * Burn-rate alerts firing now and not silenced: what may declare incidents by itself. Guard
   * alerts (no data, budget exhausted) never do: they ask for a look, not a response.
   */
  async firingBurns(db: Kysely<Database>, nowMs: number): Promise<StoredAlert[]> {
    const { catalog } = this.deps.specs();
    const sloOf = new Map(evaluationTargets(catalog).map((t) => [t.id, t.slo]));
    const silences = await readSilences(db, nowMs);
    return [...(await readAlerts(db)).values()].filter((alert) => {
      if (alert.state.phase !== 'firing') return false;
      const slo = sloOf.get(alert.sloId);
      const rule = slo && this.rulesFor(slo).find((r) => r.name === alert.rule);
      return (
        rule !== undefined &&
        (rule.kind ?? 'burn') === 'burn' &&
        !silencedBy(silences, alert.labels, nowMs).length
      );
    });
  }

  /**
   * One step over a tick's statuses; writes in `trx` (the statuses' transaction). Each SLO in
   * isolation: one whose alerts cannot be evaluated keeps its alerts as they were (neither fires
   * nor resolves) and is returned with the reason, while the others go on.
   */
  async step(
    trx: Kysely<Database>,
    statuses: readonly DatedStatus[],
    nowMs: number,
  ): Promise<Array<{ id: string; error: string }>> {
    const failed: Array<{ id: string; error: string }> = [];
    const targets: AlertTarget[] = [];
    for (const s of statuses)
      try {
        targets.push(this.alertTarget(s));
      } catch (error) {
        failed.push({ id: s.target.id, error: `alerts not evaluated: ${(error as Error).message}` });
      }
    const previous = await readAlerts(trx);
    const changes = targets.flatMap((target) => {
      try {
        return evaluateAlerts([target], previous, nowMs);
      } catch (error) {
        failed.push({ id: target.sloId, error: `alerts not evaluated: ${(error as Error).message}` });
        return [];
      }
    });
    for (const { id, error } of failed) this.deps.log.warn({ slo: id }, error);
    await this.writeStep(trx, statuses, changes, nowMs);
    return failed;
  }

  private alertTarget(s: DatedStatus): AlertTarget {
    return {
      sloId: s.target.id,
      service: s.target.slo.service,
      rules: this.rulesFor(s.target.slo),
      burnRate: lookupByLabel(s.status.burnRates, s.target.parts[0]!.spec.burnWindows),
      dataCurrent: !s.data || s.data.state === 'ok',
      facts: {
        dataCurrent: !s.data || s.data.state === 'ok',
        recentData:
          s.status.burnRates[CURRENT_BURN_WINDOW] !== null &&
          s.status.burnRates[CURRENT_BURN_WINDOW] !== undefined,
        budgetRemaining: s.status.sli === null ? null : s.status.budget.remaining,
      },
      guard: this.deps.minEvents
        ? {
            minEvents: this.deps.minEvents,
            events: lookupByLabel(s.status.windowEvents, s.target.parts[0]!.spec.burnWindows),
          }
        : undefined,
    };
  }

  private async writeStep(
    trx: Kysely<Database>,
    statuses: readonly DatedStatus[],
    changes: ReturnType<typeof evaluateAlerts>,
    nowMs: number,
  ): Promise<void> {
    await writeAlertChanges(trx, changes, nowMs);
    // Only a firing or a resolution notifies or is logged (most ticks have neither).
    if (!changes.some((c) => c.transition === 'firing' || c.transition === 'resolved')) return;
    const silences = await readSilences(trx, nowMs);
    const sloOf = new Map(statuses.map((s) => [s.target.id, s.target.slo]));
    const statusOf = new Map(statuses.map((s) => [s.target.id, s.status]));
    const deliverable = this.targets();
    await enqueueNotifications(
      trx,
      changes,
      ({ alert }) => {
        const slo = sloOf.get(alert.sloId)!;
        const rule = this.rulesFor(slo).find((r) => r.name === alert.rule);
        // A silenced alert keeps its state but notifies no one.
        if (!rule || silencedBy(silences, alert.labels, nowMs).length)
          return { targets: [], notifyResolved: false };
        const names = targetsForRule(slo, rule, this.deps.notify ?? []).filter((n) => deliverable.has(n));
        const status = statusOf.get(alert.sloId);
        return {
          targets: names,
          notifyResolved: rule.notifyResolved,
          context: {
            budgetRemaining: status?.budget.remaining,
            exhaustionAt: isoOrNull(status?.exhaustionAt),
            runbookUrl: slo.shinrai.runbookUrl,
          },
        };
      },
      nowMs,
    );
    for (const { alert, transition } of changes)
      if (transition === 'firing' || transition === 'resolved')
        this.deps.log.info(
          { slo: alert.sloId, rule: alert.rule, severity: alert.severity, burnRates: alert.burnRates },
          `alert ${alert.rule} of ${alert.sloId} ${transition === 'firing' ? 'is firing' : 'resolved'}`,
        );
  }
}
