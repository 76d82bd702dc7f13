/**
 * Retention on both databases with a hand-moved clock: seeded old rows go and recent ones stay in
 * every table it owns, `slo_history` keeps exactly the points the downsampling core says (and the
 * hourly chart reads the same before and after), ingestion running during a pass keeps every
 * acknowledged batch, and an idempotency key older than 7 days is forgotten (a replay is new).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/platform/config.js';
import { type Db, openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { createMetrics, type ShinraiMetrics } from '../src/platform/metrics.js';
import {
  DAY_MS,
  HOUR_MS,
  historyPlan,
  keptHistory,
  MINUTE_MS,
  RetentionTask,
} from '../src/platform/retention.js';
import { platformRetentionRules } from '../src/platform/retention-rules.js';
import { evaluationTargets } from '../src/slo/evaluation.js';
import { history } from '../src/slo/evaluator/read.js';
import { DEFAULT_HISTORY_BACKFILL_DAYS, historySpanMs } from '../src/slo/evaluator/replay.js';
import { type IngestContext, ingestBatch } from '../src/slo/ingest/service.js';
import type { Catalog } from '../src/slo/model.js';
import { SloRetention } from '../src/slo/retention.js';
import { loadSpecText } from '../src/slo/spec/load.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import { ManualClock, startTestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

/** 12:34:56Z on 2026-12-07: off every bucket boundary. */
const NOW = Date.UTC(2026, 11, 7, 12, 34, 56);
const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

function catalog(): Catalog {
  // A 28-day SLO on SLI `requests`: minutes are kept 28 + 35 days, at least the status page's 90 + 1.
  const loaded = loadSpecText(
    'retention.yaml',
    ratioSloYaml('availability', { window: '28d', sli: 'requests' }),
  );
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return loaded.catalog;
}

describe.each(DIALECTS)('retention on %s', (dialect) => {
  let testDb: TestDatabase;
  let db: Db;
  let clock: ManualClock;
  let metrics: ShinraiMetrics;
  const specs = catalog();

  beforeEach(async () => {
    testDb = await createTestDatabase(dialect);
    db = openDatabase(testDb.url);
    await migrateToLatest(db.kysely);
    clock = new ManualClock(NOW);
    metrics = createMetrics();
  });

  afterEach(async () => {
    await db.close();
    await testDb.drop();
  });

  function retention(flags: Record<string, unknown> = {}): RetentionTask {
    const settings = loadConfig({
      flags: Object.fromEntries(Object.entries(flags).map(([k, v]) => [`retention.${k}`, v])),
    }).retention;
    const slo = new SloRetention({ db, settings, catalog: () => specs, statusPageDays: 90 });
    return new RetentionTask({
      db,
      clock,
      log: pino({ level: 'silent' }),
      metrics,
      settings,
      isLeader: () => true,
      rules: (nowMs) => [...slo.rules(nowMs), ...platformRetentionRules(settings, nowMs)],
      // Yield to whatever else runs (ingestion) instead of waiting.
      sleep: () => new Promise((resolve) => setImmediate(resolve)),
    });
  }

  async function insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    const kysely = db.kysely as unknown as import('kysely').Kysely<Record<string, Record<string, unknown>>>;
    for (let i = 0; i < rows.length; i += 500)
      await kysely
        .insertInto(table)
        .values(rows.slice(i, i + 500))
        .execute();
  }

  const minute = (sli: string, ageMs: number) => ({
    sli,
    minute_ts: minuteOf(NOW - ageMs),
    good: 1,
    total: 2,
    updated_at: NOW - ageMs,
  });

  async function column(table: string, name: string, where?: [string, unknown]): Promise<number[]> {
    const kysely = db.kysely as unknown as import('kysely').Kysely<Record<string, Record<string, unknown>>>;
    let query = kysely.selectFrom(table).select(name).orderBy(name);
    if (where) query = query.where(where[0], '=', where[1]);
    return (await query.execute()).map((r) => Number(r[name]));
  }

  const ingestCtx = (): IngestContext => ({ db, clock, metrics, catalog: () => specs });

  it('deletes what every rule says is old and keeps the rest', async () => {
    await insert('sli_minutes', [
      minute('requests', 120 * DAY_MS),
      minute('requests', 92 * DAY_MS),
      minute('requests', 90 * DAY_MS),
      minute('requests', DAY_MS),
      // An SLI no longer in the catalog follows the same cutoff.
      minute('retired', 100 * DAY_MS),
      minute('retired', 10 * DAY_MS),
    ]);
    await insert('otlp_minutes', [
      { sli: 'otel', minute_ts: minuteOf(NOW - 95 * DAY_MS), good: 1, bad: 0, total: 1 },
      { sli: 'otel', minute_ts: minuteOf(NOW - 5 * DAY_MS), good: 1, bad: 0, total: 1 },
    ]);
    await insert(
      'ingest_batches',
      [8, 7.5, 6.9, 0].map((days) => ({
        idempotency_key: `k${days}`,
        sli: 'requests',
        received_at: NOW - days * DAY_MS,
        response: '{}',
      })),
    );
    const outbox = (id: string, doneDays: number | null, gaveUpDays: number | null) => ({
      id,
      target: 't',
      fingerprint: 'f',
      transition: 'firing',
      payload: '{}',
      created_at: NOW - 200 * DAY_MS,
      attempts: 1,
      next_attempt_at: NOW - 200 * DAY_MS,
      delivered_at: doneDays === null ? null : NOW - doneDays * DAY_MS,
      gave_up_at: gaveUpDays === null ? null : NOW - gaveUpDays * DAY_MS,
      last_error: null,
    });
    await insert('notification_outbox', [
      outbox('delivered-old', 91, null),
      outbox('delivered-recent', 89, null),
      outbox('gave-up-old', null, 91),
      outbox('gave-up-recent', null, 30),
      outbox('pending-old', null, null),
    ]);
    await insert('slack_outbox', [
      { ...slackJob('done-old'), done_at: NOW - 100 * DAY_MS },
      { ...slackJob('gave-up-old'), gave_up_at: NOW - 100 * DAY_MS },
      { ...slackJob('done-recent'), done_at: NOW - 10 * DAY_MS },
      slackJob('pending-old'),
    ]);
    await insert('mail_outbox', [
      { ...mail('sent-old'), sent_at: NOW - 100 * DAY_MS },
      { ...mail('gave-up-old'), gave_up_at: NOW - 100 * DAY_MS },
      { ...mail('sent-recent'), sent_at: NOW - 10 * DAY_MS },
      // Claimed, outcome unknown: never touched.
      { ...mail('sending-old'), sending_at: NOW - 100 * DAY_MS },
    ]);
    await insert('alerts', [
      alert('resolved-long-ago', 'inactive', 100),
      alert('resolved-lately', 'inactive', 10),
      alert('firing-long', 'firing', 100),
    ]);
    await insert('alert_events', [
      event('resolved-long-ago', 120, 'firing'),
      event('resolved-long-ago', 100, 'resolved'),
      event('resolved-lately', 100, 'firing'),
      event('resolved-lately', 10, 'resolved'),
      event('firing-long', 100, 'firing'),
    ]);
    await insert('alert_feedback', [
      {
        fingerprint: 'resolved-long-ago',
        fired_at: NOW - 120 * DAY_MS,
        verdict: 'noise',
        note: '',
        given_by: 'a',
        given_at: NOW,
      },
      {
        fingerprint: 'firing-long',
        fired_at: NOW - 100 * DAY_MS,
        verdict: 'actionable',
        note: '',
        given_by: 'a',
        given_at: NOW,
      },
    ]);

    const summary = await retention().runNow();
    expect(summary).toMatchObject({ failed: [], stopped: false });

    const ago = (values: number[]) => values.map((ms) => Math.round((NOW - ms) / DAY_MS));
    expect(ago(await column('sli_minutes', 'minute_ts', ['sli', 'requests']))).toEqual([90, 1]);
    expect(ago(await column('sli_minutes', 'minute_ts', ['sli', 'retired']))).toEqual([10]);
    expect(ago(await column('otlp_minutes', 'minute_ts'))).toEqual([5]);
    expect((await column('ingest_batches', 'received_at')).map((ms) => (NOW - ms) / DAY_MS)).toEqual([
      6.9, 0,
    ]);
    const ids = async (table: string) =>
      (
        await db.kysely
          .selectFrom(table as 'notification_outbox')
          .select('id')
          .orderBy('id')
          .execute()
      ).map((r) => r.id);
    expect(await ids('notification_outbox')).toEqual(['delivered-recent', 'gave-up-recent', 'pending-old']);
    expect(await ids('slack_outbox')).toEqual(['done-recent', 'pending-old']);
    expect(await ids('mail_outbox')).toEqual(['sending-old', 'sent-recent']);
    const fingerprints = async (table: 'alerts' | 'alert_events' | 'alert_feedback') =>
      (await db.kysely.selectFrom(table).select('fingerprint').orderBy('fingerprint').execute()).map(
        (r) => r.fingerprint,
      );
    expect(await fingerprints('alerts')).toEqual(['firing-long', 'resolved-lately']);
    expect(await fingerprints('alert_events')).toEqual(['firing-long', 'resolved-lately']);
    expect(await fingerprints('alert_feedback')).toEqual(['firing-long']);

    expect(summary!.deleted).toEqual({
      sli_minutes: 3,
      otlp_minutes: 1,
      ingest_batches: 2,
      notification_outbox: 2,
      slack_outbox: 2,
      mail_outbox: 2,
      alert_events: 3,
      alert_feedback: 1,
      alerts: 1,
    });
    const exposition = await metrics.registry.getSingleMetricAsString('shinrai_retention_deleted_total');
    expect(exposition).toContain('shinrai_retention_deleted_total{table="sli_minutes"} 3');
    expect(exposition).toContain('shinrai_retention_deleted_total{table="ingest_batches"} 2');

    // A second pass finds nothing more.
    expect((await retention().runNow())!.deleted).toEqual({});
  });

  it('deletes nothing a switched-off rule owns', async () => {
    await insert('ingest_batches', [
      { idempotency_key: 'old', sli: 'requests', received_at: NOW - 300 * DAY_MS, response: '{}' },
    ]);
    await insert('sli_minutes', [minute('requests', 300 * DAY_MS)]);
    const summary = await retention({ ingestKeysDays: 'off', sliMinutesMarginDays: 0 }).runNow();
    expect(summary!.deleted).toEqual({});
    expect(await column('ingest_batches', 'received_at')).toHaveLength(1);
    expect(await column('sli_minutes', 'minute_ts')).toHaveLength(1);
  });

  it('downsamples slo_history to exactly the points of the plan, and hourly charts read the same', async () => {
    const points = new Map<string, number[]>();
    const add = (id: string, fromAgeMs: number, toAgeMs: number, stepMs: number) => {
      const list = points.get(id) ?? [];
      const endMs = Math.floor((NOW - toAgeMs) / stepMs) * stepMs;
      for (let ts = Math.ceil((NOW - fromAgeMs) / stepMs) * stepMs; ts <= endMs; ts += stepMs) list.push(ts);
      points.set(id, list);
    };
    // `availability` (28 days; the backfill fills 35): 5-minute points from 40 to 30 days, some past 400.
    add('availability', 40 * DAY_MS, 30 * DAY_MS, 5 * MINUTE_MS);
    add('availability', 402 * DAY_MS, 399 * DAY_MS, 6 * HOUR_MS);
    // `retired`, no longer in the catalog: every minute from 3 days to 1 day, 5-minute points from 37 to 33 days.
    add('retired', 3 * DAY_MS, DAY_MS, MINUTE_MS);
    add('retired', 37 * DAY_MS, 33 * DAY_MS, 5 * MINUTE_MS);
    for (const [id, list] of points)
      await insert(
        'slo_history',
        list.map((ts) => ({
          slo_id: id,
          ts,
          sli: (ts % 997) / 997,
          remaining: 0.5,
          burn_rates: `{"1h":${ts % 13}}`,
        })),
      );
    const hourlyFromMs = Math.floor((NOW - 45 * DAY_MS) / HOUR_MS) * HOUR_MS;
    const chart = (id: string) => history(db, id, { fromMs: hourlyFromMs, toMs: NOW, stepMs: HOUR_MS });
    const before = { availability: await chart('availability'), retired: await chart('retired') };

    const summary = await retention({ batchRows: 300 }).runNow();
    expect(summary).toMatchObject({ failed: [], stopped: false });

    const settings = loadConfig().retention;
    const target = evaluationTargets(specs).find((t) => t.id === 'availability')!;
    const plans = {
      availability: historyPlan(settings, historySpanMs(target, DEFAULT_HISTORY_BACKFILL_DAYS)),
      retired: historyPlan(settings, 0),
    };
    let thinned = 0;
    for (const [id, list] of points) {
      const expected = keptHistory(list, plans[id as keyof typeof plans], NOW).sort((a, b) => a - b);
      expect(await column('slo_history', 'ts', ['slo_id', id])).toEqual(expected);
      thinned += list.length - expected.length;
      expect(expected.length).toBeLessThan(list.length);
    }
    expect(summary!.deleted).toEqual({ slo_history: thinned });
    // The backfill's span of `availability` is untouched: every 5-minute point younger than 35 days stays.
    const kept = await column('slo_history', 'ts', ['slo_id', 'availability']);
    expect(kept.filter((ts) => ts >= NOW - 35 * DAY_MS)).toEqual(
      points.get('availability')!.filter((ts) => ts >= NOW - 35 * DAY_MS),
    );
    expect(kept.every((ts) => ts >= NOW - 400 * DAY_MS)).toBe(true);
    // Charts at an hourly step, from a whole hour, answer exactly as before.
    expect(await chart('availability')).toEqual(before.availability);
    expect(await chart('retired')).toEqual(before.retired);

    // Time passes: the next pass thins only what aged meanwhile, and nothing twice.
    clock.advance(3 * DAY_MS);
    const later = await retention({ batchRows: 300 }).runNow();
    const afterAvailability = await column('slo_history', 'ts', ['slo_id', 'availability']);
    expect(afterAvailability).toEqual(keptHistory(kept, plans.availability, NOW + 3 * DAY_MS));
    expect(later!.failed).toEqual([]);
  });

  it('keeps every acknowledged batch of ingestion that runs during a pass', async () => {
    // Plenty of old rows, deleted 200 at a time, while 60 batches arrive.
    const old: Record<string, unknown>[] = [];
    for (let s = 0; s < 8; s++)
      for (let m = 0; m < 1500; m++) old.push(minute(`retired-${s}`, 200 * DAY_MS + m * MINUTE_MS));
    await insert('sli_minutes', old);
    const ctx = ingestCtx();
    const pass = retention({ batchRows: 200 }).runNow();
    const batches = Array.from({ length: 60 }, (_, i) =>
      ingestBatch({
        ctx,
        input: {
          name: 'requests',
          contentType: 'application/x-ndjson',
          idempotencyKey: `batch-${i}`,
          body: JSON.stringify({ ts: NOW - (i % 30) * MINUTE_MS, good: 3, total: 4 }),
        },
      }),
    );
    const [summary, ...results] = await Promise.all([pass, ...batches]);
    expect(results.every((r) => r.status === 'accepted')).toBe(true);
    expect(summary).toMatchObject({ failed: [], stopped: false, deleted: { sli_minutes: old.length } });
    const stored = await db.kysely
      .selectFrom('sli_minutes')
      .select((eb) => [
        eb.fn.sum<number>('good').as('good'),
        eb.fn.sum<number>('total').as('total'),
        eb.fn.countAll<number>().as('n'),
      ])
      .where('sli', '=', 'requests')
      .executeTakeFirstOrThrow();
    expect({ good: Number(stored.good), total: Number(stored.total), n: Number(stored.n) }).toEqual({
      good: 180,
      total: 240,
      n: 30,
    });
    expect(await column('ingest_batches', 'received_at')).toHaveLength(60);
    expect(await column('sli_minutes', 'minute_ts')).toHaveLength(30);
  });

  it('forgets an idempotency key after 7 days: a replay then counts as a new batch', async () => {
    const ctx = ingestCtx();
    const input = {
      name: 'requests',
      contentType: 'application/x-ndjson',
      idempotencyKey: 'nightly-export',
      body: JSON.stringify({ ts: NOW - HOUR_MS, good: 9, total: 10 }),
    };
    expect((await ingestBatch({ ctx, input })).status).toBe('accepted');
    clock.advance(6 * DAY_MS);
    await retention().runNow();
    expect((await ingestBatch({ ctx, input })).status).toBe('duplicate');
    clock.advance(DAY_MS + MINUTE_MS);
    expect((await retention().runNow())!.deleted).toEqual({ ingest_batches: 1 });
    expect((await ingestBatch({ ctx, input })).status).toBe('accepted');
    const row = await db.kysely
      .selectFrom('sli_minutes')
      .select(['good', 'total'])
      .where('sli', '=', 'requests')
      .executeTakeFirstOrThrow();
    expect([Number(row.good), Number(row.total)]).toEqual([18, 20]);
  });

  it('runs in the server on the leader and counts what it deleted in /metrics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shinrai-retention-'));
    writeFileSync(join(dir, 'slo.yaml'), ratioSloYaml('availability', { window: '28d', sli: 'requests' }));
    const server = await startTestServer(dialect, {
      clock,
      specs: dir,
      config: { 'retention.ingestKeysDays': 1 },
    });
    try {
      const token = await server.token('editor');
      const post = () =>
        server.request('POST', '/api/v1/sli/requests/events', {
          token,
          body: JSON.stringify({ ts: NOW - MINUTE_MS, good: 1, total: 1 }),
          headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': 'once' },
        });
      expect((await post()).status).toBeLessThan(300);
      clock.advance(2 * DAY_MS);
      expect((await server.shinrai.retention.runNow())!.deleted).toEqual({ ingest_batches: 1 });
      const exposition = await (await server.request('GET', '/metrics')).text();
      expect(exposition).toContain('shinrai_retention_deleted_total{table="ingest_batches"} 1');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does nothing on a follower', async () => {
    await insert('ingest_batches', [
      { idempotency_key: 'old', sli: 'requests', received_at: NOW - 30 * DAY_MS, response: '{}' },
    ]);
    const settings = loadConfig().retention;
    const task = new RetentionTask({
      db,
      clock,
      log: pino({ level: 'silent' }),
      metrics,
      settings,
      isLeader: () => false,
      rules: (nowMs) => platformRetentionRules(settings, nowMs),
    });
    expect(await task.runNow()).toBeNull();
    expect(await column('ingest_batches', 'received_at')).toHaveLength(1);
  });
});

function slackJob(id: string) {
  return {
    id,
    incident_id: 'inc',
    kind: 'card',
    version: 1,
    state: '{}',
    created_at: NOW - 200 * DAY_MS,
    attempts: 0,
    next_attempt_at: NOW - 200 * DAY_MS,
    done_at: null,
    gave_up_at: null,
    last_error: null,
  };
}

function mail(id: string) {
  return {
    id,
    kind: 'status-notice',
    recipient: 'a@example.com',
    message: '{}',
    created_at: NOW - 200 * DAY_MS,
    attempts: 1,
    next_attempt_at: NOW - 200 * DAY_MS,
    sending_at: null,
    sent_at: null,
    gave_up_at: null,
    last_error: null,
  };
}

function alert(fingerprint: string, phase: string, updatedDays: number) {
  return {
    fingerprint,
    slo_id: 'availability',
    rule: 'page',
    phase,
    pending_since: null,
    fired_at: null,
    resolved_at: phase === 'inactive' ? NOW - updatedDays * DAY_MS : null,
    alert: '{}',
    updated_at: NOW - updatedDays * DAY_MS,
  };
}

function event(fingerprint: string, days: number, transition: string) {
  return { fingerprint, at: NOW - days * DAY_MS, transition, details: '{}' };
}
