/**
 * Declaring incidents by policy: on the leader, after the alerts step, every firing burn-rate
 * alert of a tier named in `incidents.autoDeclare` (page, ticket) that is not silenced gets an
 * incident — once per firing. It runs from the stored alerts, so after a crash or a leader change
 * the next run declares what the last one missed, and never twice (the firing is on the incident).
 */
import type { Logger } from 'pino';
import type { StoredAlert } from '../alerting/index.js';
import { AppError } from '../platform/errors.js';
import { PeriodicTask } from '../platform/periodic.js';
import { incidentFromAlert } from './intake.js';
import type { IncidentDeps } from './service.js';

export type AutoDeclareTier = 'page' | 'ticket';

export interface AutoDeclarerDeps {
  readonly incidents: IncidentDeps;
  readonly log: Logger;
  /** Alert tiers that declare incidents; empty: off. */
  readonly tiers: readonly AutoDeclareTier[];
  readonly intervalMs: number;
  readonly isLeader: () => boolean;
  /** Firing, unsilenced burn-rate alerts. */
  readonly firing: () => Promise<readonly StoredAlert[]>;
}

export class AutoDeclarer {
  private readonly task: PeriodicTask<string[]>;

  constructor(private readonly deps: AutoDeclarerDeps) {
    this.task = new PeriodicTask(() => this.declare(), {
      intervalMs: deps.intervalMs,
      log: deps.log,
      failure: 'auto-declare: run failed; the next run retries',
    });
  }

  start(): void {
    if (this.deps.tiers.length) this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One run now: the references of incidents it declared (null when the run failed). */
  runNow(): Promise<string[] | null> {
    return this.task.runNow();
  }

  private async declare(): Promise<string[]> {
    if (!this.deps.tiers.length || !this.deps.isLeader()) return [];
    const declared: string[] = [];
    for (const alert of await this.deps.firing()) {
      if (!this.deps.tiers.includes(alert.tier as AutoDeclareTier)) continue;
      let result: { incident: string; declared: boolean };
      try {
        result = await incidentFromAlert(
          this.deps.incidents,
          alert.fingerprint,
          { name: 'shinrai', source: 'auto' },
          { oncePerFiring: true },
        );
      } catch (error) {
        // Resolved since it was read: nothing to declare. Anything else waits for the next run.
        if (error instanceof AppError && error.code === 'Conflict') continue;
        throw error;
      }
      if (!result.declared) continue;
      declared.push(result.incident);
      this.deps.log.info(
        { incident: result.incident, slo: alert.sloId, rule: alert.rule },
        `auto-declare: ${result.incident} from alert ${alert.rule} of ${alert.sloId}`,
      );
    }
    return declared;
  }
}
