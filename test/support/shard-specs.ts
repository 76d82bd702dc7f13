/**
 * Specs and minutes for the sharded-evaluation suites: a few dozen SLOs over two streams (every
 * budgeting method, a multi-objective SLO, a composite), enough to fill every shard of a small
 * shard count, and the status the reference computes for any of them at any instant.
 */
import { expect } from 'vitest';
import type { Db } from '../../src/platform/db/database.js';
import { budgetReport } from '../../src/slo/budget-report.js';
import type { CountRow } from '../../src/slo/data-file.js';
import { upsertBuckets } from '../../src/slo/ingest/service.js';
import type { Catalog } from '../../src/slo/model.js';
import { loadSpecText } from '../../src/slo/spec/load.js';
import { expectClose } from './evaluator-specs.js';

const MIN = 60_000;

/** OpenSLO text of `count` SLOs (`s-00`…), a two-objective SLO and a composite, on SLIs `api` and `web`. */
export function shardSpecText(count = 30, skip: readonly string[] = []): string {
  const docs = [
    'apiVersion: openslo/v1\nkind: Service\nmetadata: {name: shop}\nspec: {}\n',
    ...['api', 'web'].map(
      (sli) => `apiVersion: openslo/v1
kind: SLI
metadata: {name: ${sli}}
spec:
  ratioMetric:
    good: {metricSource: {type: shinrai, spec: {}}}
    total: {metricSource: {type: shinrai, spec: {}}}
`,
    ),
  ];
  const slo = (name: string, body: string) =>
    `apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: ${name}}\nspec:\n  service: shop\n${body}`;
  for (let i = 0; i < count; i++) {
    const name = `s-${String(i).padStart(2, '0')}`;
    const sli = i % 2 ? 'web' : 'api';
    const method = i % 3 === 2 ? 'Timeslices' : 'Occurrences';
    const objective =
      method === 'Timeslices'
        ? `{target: ${0.9 + (i % 5) * 0.01}, timeSliceTarget: 0.9, timeSliceWindow: 5m}`
        : `{target: ${0.95 + (i % 4) * 0.01}}`;
    docs.push(
      slo(
        name,
        `  indicatorRef: ${sli}\n  timeWindow: [{duration: ${1 + (i % 3)}d, isRolling: true}]\n  budgetingMethod: ${method}\n  objectives: [${objective}]\n`,
      ),
    );
  }
  docs.push(
    slo(
      'two-objectives',
      '  indicatorRef: web\n  timeWindow: [{duration: 1d, isRolling: true}]\n  budgetingMethod: RatioTimeslices\n  objectives:\n    - {displayName: Most, target: 0.99, timeSliceWindow: 1m}\n    - {displayName: Nearly all, target: 0.999, timeSliceWindow: 1m}\n',
    ),
    slo(
      'composite',
      '  timeWindow: [{duration: 1d, isRolling: true}]\n  budgetingMethod: Occurrences\n  objectives:\n    - {displayName: API, target: 0.99, compositeWeight: 2, indicatorRef: api}\n    - {displayName: Web, target: 0.995, indicatorRef: web}\n',
    ),
  );
  return docs.filter((d) => !skip.some((name) => d.includes(`metadata: {name: ${name}}`))).join('---\n');
}

export function shardCatalog(count = 30, skip: readonly string[] = []): Catalog {
  const result = loadSpecText('shards.yaml', shardSpecText(count, skip));
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.catalog;
}

/** Deterministic minutes with failures for both streams, `hours` before `endMs`. */
export function shardTraffic(endMs: number, hours: number): CountRow[] {
  const rows: CountRow[] = [];
  const first = Math.floor(endMs / MIN) - hours * 60;
  for (let m = first; m < Math.floor(endMs / MIN); m++) {
    if (m % 7 === 3) continue;
    rows.push({
      sli: 'api',
      tsMs: m * MIN,
      good: 40 + (m % 13),
      total: 40 + (m % 13) + (m % 17 === 0 ? 5 : 0),
    });
    rows.push({
      sli: 'web',
      tsMs: m * MIN,
      good: 20 + (m % 3),
      total: 20 + (m % 3) + (m % 11 === 0 ? 3 : 0),
    });
  }
  return rows;
}

/** Stores the rows as ingestion does. */
export async function storeTraffic(db: Db, rows: readonly CountRow[], updatedAtMs: number): Promise<void> {
  await upsertBuckets(
    db.kysely,
    rows.map((r) => ({ storageKey: r.sli, minuteMs: r.tsMs, good: r.good, total: r.total })),
    updatedAtMs,
  );
}

/** Asserts each stored status equals the reference at its own `evaluatedAt`. */
export function expectReference(
  catalog: Catalog,
  rows: readonly CountRow[],
  stored: ReadonlyMap<string, { evaluatedAt: string }>,
): void {
  const byTime = new Map<number, string[]>();
  for (const [id, status] of stored) {
    const atMs = Date.parse(status.evaluatedAt);
    byTime.set(atMs, [...(byTime.get(atMs) ?? []), id]);
  }
  for (const [atMs, ids] of byTime) {
    const { report } = budgetReport(catalog, [...rows], atMs);
    for (const id of ids) {
      const expected = report.slos.find((s) => s.id === id);
      expect(expected, id).toBeDefined();
      const actual = stored.get(id)!;
      expectClose(actual, { ...JSON.parse(JSON.stringify(expected)), evaluatedAt: actual.evaluatedAt }, id);
    }
  }
}
