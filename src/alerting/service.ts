/**
 * Live alerts: on every evaluator tick, in the transaction that stores the statuses, each SLO's
 * rules are observed on its fresh status and its alerts advanced. Runs only where the evaluator
 * runs (the leader); the state lives in the database, so a new leader carries on.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../platform/db/schema.js';
import type { DatedStatus } from '../slo/evaluator/evaluator.js';
import type { Catalog, SloDefinition } from '../slo/model.js';
import { type AlertTarget, evaluateAlerts } from './evaluate.js';
import { lookupByLabel } from './observe.js';
import { type AlertRule, alertRulesFor } from './policy.js';
import { readAlerts, writeAlertChanges } from './store.js';

export class AlertService {
  private rules: { version: number; bySlo: Map<string, readonly AlertRule[]> } | null = null;

  constructor(
    private readonly deps: {
      readonly log: Logger;
      readonly specs: () => { readonly catalog: Catalog; readonly version: number };
    },
  ) {}

  /** The rules of one SLO with the loaded specs (none when its period is too short for them). */
  rulesFor(slo: SloDefinition): readonly AlertRule[] {
    const { catalog, version } = this.deps.specs();
    if (this.rules?.version !== version) {
      const bySlo = new Map<string, readonly AlertRule[]>();
      for (const s of catalog.slos) {
        const result = alertRulesFor(s);
        if (result.ok) bySlo.set(s.id, result.rules);
        else this.deps.log.warn({ slo: s.id }, `no burn-rate alerts: ${result.error}`);
      }
      this.rules = { version, bySlo };
    }
    return this.rules.bySlo.get(slo.id) ?? [];
  }

  /** One step over a tick's statuses; writes in `trx` (the statuses' transaction). */
  async step(trx: Kysely<Database>, statuses: readonly DatedStatus[], nowMs: number): Promise<void> {
    const targets: AlertTarget[] = statuses.map((s) => ({
      sloId: s.target.id,
      service: s.target.slo.service,
      rules: this.rulesFor(s.target.slo),
      burnRate: lookupByLabel(s.status.burnRates, s.target.parts[0]!.spec.burnWindows),
      dataCurrent: !s.data || s.data.state === 'ok',
    }));
    const previous = await readAlerts(trx);
    const changes = evaluateAlerts(targets, previous, nowMs);
    await writeAlertChanges(trx, changes, nowMs);
    for (const { alert, transition } of changes)
      if (transition === 'firing' || transition === 'resolved')
        this.deps.log.info(
          { slo: alert.sloId, rule: alert.rule, severity: alert.severity, burnRates: alert.burnRates },
          `alert ${alert.rule} of ${alert.sloId} ${transition === 'firing' ? 'is firing' : 'resolved'}`,
        );
  }
}
