/**
 * `shinrai validate --connect`: for each pulled SLI, run its per-minute queries against its source
 * for the last hour, the way the pull loop would, and say per SLI "ok, N minutes", "no data" or
 * why not — so a query that can never work is caught before the specs are deployed.
 */
import type { Catalog, SourceLocation } from '../model.js';
import { toBuckets } from './buckets.js';
import { type ConnectContext, connectSource } from './connect.js';
import { planPulls, queriesByRole } from './plan.js';
import { MINUTE_MS, type MinuteSeries, type SliSource, type SourceClient } from './port.js';

export interface SourceCheck {
  readonly sli: string;
  /** `<kind>:<DataSource>`, absent when the SLI could not be planned. */
  readonly source?: string | undefined;
  readonly location: SourceLocation;
  /** ok: minutes came back. no-data: the source answered with nothing. failed: planning or the source failed. */
  readonly outcome: 'ok' | 'no-data' | 'failed';
  /** Minutes with data in the window (per stored stream, the first). */
  readonly minutes: number;
  readonly message: string;
}

export interface CheckOptions {
  readonly sources: readonly SliSource[];
  readonly connect: ConnectContext;
  readonly nowMs: number;
  /** How old a minute must be to be read (prometheus.delaySeconds). */
  readonly delayMs: number;
  /** Minutes to read back from the head (default 60). */
  readonly windowMinutes?: number | undefined;
  /** Called after each SLI, for progress output. */
  readonly onChecked?: ((check: SourceCheck, done: number, total: number) => void) | undefined;
}

export async function checkPulledSlis(catalog: Catalog, options: CheckOptions): Promise<SourceCheck[]> {
  const plan = planPulls(catalog, options.sources, { defaultUrl: options.connect.defaultUrl !== undefined });
  const checks: SourceCheck[] = plan.problems.map((p) => ({
    sli: p.sli,
    location: p.location ?? { file: '?', line: 0, column: 0 },
    outcome: 'failed' as const,
    minutes: 0,
    message: p.message,
  }));
  const total = checks.length + plan.slis.length;
  for (const [i, check] of checks.entries()) options.onChecked?.(check, i + 1, total);
  const toMs = Math.floor((options.nowMs - options.delayMs) / MINUTE_MS) * MINUTE_MS;
  const fromMs = toMs - (options.windowMinutes ?? 60) * MINUTE_MS;
  const byKind = new Map(options.sources.map((s) => [s.kind, s]));
  const clients = new Map<string, Promise<SourceClient | Error>>();
  try {
    for (const item of plan.slis) {
      const planned = plan.sources.get(item.source)!;
      let client = clients.get(item.source);
      if (!client) {
        client = connectSource(byKind.get(item.kind)!, item.source, planned, options.connect).catch(
          (error: unknown) => error as Error,
        );
        clients.set(item.source, client);
      }
      const base = { sli: item.sli, source: `${item.kind}:${item.source}`, location: item.location };
      let check: SourceCheck;
      const ready = await client;
      if (ready instanceof Error)
        check = {
          ...base,
          outcome: 'failed',
          minutes: 0,
          message: `DataSource ${item.source}: ${ready.message}`,
        };
      else
        try {
          const results: Partial<Record<string, MinuteSeries[]>> = {};
          for (const [role, query] of queriesByRole(item.queries))
            results[role] = await ready.fetchMinutes(query, { fromMs, toMs });
          const buckets = toBuckets(item.queries, results, item.streams, fromMs, toMs);
          const first = item.streams[0]?.storageKey;
          const minutes = buckets.filter((b) => b.storageKey === first).length;
          check = minutes
            ? { ...base, outcome: 'ok', minutes, message: `ok, ${minutes} minute${minutes === 1 ? '' : 's'}` }
            : {
                ...base,
                outcome: 'no-data',
                minutes: 0,
                message: `no data in the last ${(toMs - fromMs) / MINUTE_MS} minutes`,
              };
        } catch (error) {
          check = { ...base, outcome: 'failed', minutes: 0, message: (error as Error).message };
        }
      checks.push(check);
      options.onChecked?.(check, checks.length, total);
    }
  } finally {
    for (const client of clients.values()) {
      const ready = await client;
      if (!(ready instanceof Error)) await ready.close();
    }
  }
  return checks;
}
