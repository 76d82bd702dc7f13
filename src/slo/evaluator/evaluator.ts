/**
 * The evaluator service: keeps every SLO's status current on a tick with the incremental engine,
 * on the one replica that is the leader or, sharded (PostgreSQL), for the SLOs of the shards this
 * replica holds a lease on, each write fenced by those leases. Each tick: pick up spec changes, backfill new parts,
 * read the change feed of `sli_minutes`, advance, and write `slo_status` (and, once per history
 * step, `slo_history`) in one transaction; then, with the time left, fill history steps that
 * have stored minutes but no point (the history backfill). See docs/evaluation.md.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import type { Database, Db, SloHistoryTable, SloStatusTable } from '../../platform/db/index.js';
import type { ReadinessCheck } from '../../platform/http/index.js';
import type { ShinraiMetrics } from '../../platform/metrics.js';
import { yieldToEventLoop } from '../../platform/periodic.js';
import type { BudgetStatus } from '../budget/types.js';
import { type BudgetReportEntry, entryFigures, entryHead, reportEntry } from '../budget-report.js';
import { type DataState, worstState } from '../data-state.js';
import { type EvaluationTarget, evaluationTargets } from '../evaluation.js';
import {
  type FeedPosition,
  latestUpdateMs,
  readChanges,
  readMinutes,
  readMinutesOfKeys,
} from '../minutes.js';
import type { Catalog } from '../model.js';
import { CHECKPOINT_EVERY_TICKS, loadCheckpoints, pruneCheckpoints, saveCheckpoints } from './checkpoints.js';
import { HistoryBackfill, type HistoryRunSummary } from './history.js';
import { type LeaderElection, SingleNodeLeadership } from './leader.js';
import { getStatus, isStale, newestEvaluationMs, STALE_AFTER_TICKS, type StoredStatus } from './read.js';
import { DEFAULT_HISTORY_BACKFILL_DAYS } from './replay.js';
import type { ShardOwnership } from './shard-leases.js';
import { shardOf } from './shards.js';
import { EvaluationState, type MinuteRow, partKey, type TargetStatus } from './state.js';
import { historyRow, writeTick } from './store.js';

export interface EvaluatorConfig {
  readonly tickSeconds: number;
  /** Spacing of the stored history points. */
  readonly historyStepSeconds: number;
  /**
   * How far before its cursor the change feed re-reads (default 120): a batch whose `updated_at`
   * was taken before a later batch's, but that committed after the feed read, is still seen.
   */
  readonly feedMarginSeconds?: number | undefined;
  /** Time a tick may spend on backfills before it writes what is ready (default: tickSeconds, at least 1). */
  readonly backfillSecondsPerTick?: number | undefined;
  /** Change-feed rows read per query (default 20,000). */
  readonly feedPageRows?: number | undefined;
  /**
   * How far back the history backfill fills missing steps: this many days (default 35), or a
   * target's period when that is longer. 0 turns the history backfill off.
   */
  readonly historyBackfillDays?: number | undefined;
  /**
   * Minutes of per-minute counts each SLO keeps in memory behind the clock (default 120); longer
   * windows read the minutes leaving them from `sli_minutes` (docs/evaluation.md#memory). 0 keeps
   * every window's minutes in memory (the engine before tiering; for comparison benches).
   */
  readonly hotMinutes?: number | undefined;
}

/** Default of `EvaluatorConfig.hotMinutes`: covers the short burn windows and late data of a pull cycle. */
export const DEFAULT_HOT_MINUTES = 120;

export interface EvaluatorDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: ShinraiMetrics;
  /** The loaded specs; a new `version` makes the next tick rebuild its targets. */
  readonly specs: () => { readonly catalog: Catalog; readonly version: number };
  readonly config: EvaluatorConfig;
  /**
   * Who may evaluate. Default on SQLite: this process. Required on PostgreSQL, where replicas
   * must agree: pass `createLeaderElection({ db, url, retrySeconds, log, metrics })`.
   */
  readonly leader?: LeaderElection | undefined;
  /**
   * Sharded evaluation (PostgreSQL): this replica evaluates the SLOs of the shards it holds a
   * lease on, and every write is fenced by those leases. Absent: the leader evaluates every SLO.
   * Leader-only work (checkpoint pruning here; pulls, deliveries, retention… in the app) stays
   * with `leader` either way. See docs/evaluation.md#sharding.
   */
  readonly shards?: ShardOwnership | undefined;
  /**
   * Data state of pulled streams by storage key (absent: pushed data, always current). A target
   * whose data is not current keeps its last current status, marked with the state, and gets no
   * history points until its data is back: a gap is never evaluated as if it were the truth.
   */
  readonly dataStates?: (() => Promise<ReadonlyMap<string, DataState>>) | undefined;
  /**
   * Runs in the transaction that stores a tick's statuses (live path only), so what it writes —
   * alert transitions — commits together with the statuses that caused it, or not at all. May
   * answer the SLOs it could not handle on their own (counted as per-SLO evaluation errors).
   */
  readonly withStatuses?:
    | ((
        trx: Kysely<Database>,
        statuses: readonly DatedStatus[],
        nowMs: number,
      ) => Promise<ReadonlyArray<{ readonly id: string; readonly error: string }> | undefined>)
    | undefined;
}

/** What one leadership keeps between ticks; dropped when the lead is lost, rebuilt from the database when gained. */
interface Session {
  readonly state: EvaluationState;
  specVersion: number | null;
  /** Newest `updated_at` the feed has seen; null when it has seen nothing (an empty table). */
  cursorMs: number | null;
  cursorRead: boolean;
  lastHistoryStepMs: number;
  /** Delete statuses of SLOs that left the specs on the next write. */
  prune: boolean;
  /** Sharded: the shards (and lease epochs) the targets were picked for, as a key; '' otherwise. */
  shardsKey: string;
  /** Fills history steps that have stored minutes but no point; null when turned off. */
  readonly history: HistoryBackfill | null;
  /** Each target's last status computed while its data was current. */
  readonly lastCurrent: Map<string, BudgetStatus>;
  /** Parts whose checkpoint was looked for (restored or not). */
  readonly restoreTried: Set<string>;
  checkpointsPruned: boolean;
  /** Ticks written, to pick each tick's slice of checkpoints. */
  ticks: number;
  /** Targets whose objective the engine refused (spec problems), with the reason; set on spec changes. */
  refused: ReadonlyMap<string, string>;
  /** Targets failing now: why, and since when (ms); cleared when one evaluates again. */
  readonly failing: Map<string, { reason: string; sinceMs: number }>;
  /**
   * Each target's last stored status without an error: kept, marked, while the target fails. A
   * status this lead wrote is kept as its figures and time, and built only if it is needed.
   */
  readonly lastGood: Map<string, StoredStatus | WrittenStatus>;
}

/**
 * How evaluation is doing on this replica, for /readyz. A leader is healthy while a tick has
 * succeeded within the last `STALE_AFTER_TICKS` intervals (counted from when it took the lead);
 * a follower does not evaluate, so its health is not its own (see docs/evaluation.md).
 */
export interface EvaluationHealth {
  readonly role: 'leader' | 'follower';
  /** True while this replica evaluates: the leader, or (sharded) a replica holding shards. */
  readonly evaluating: boolean;
  /** Sharded evaluation: the shards this replica holds. */
  readonly shards?: readonly number[] | undefined;
  readonly healthy: boolean;
  /** Why not healthy (leader only). */
  readonly reason?: string | undefined;
  readonly lastSuccessAt: string | null;
  readonly consecutiveFailures: number;
  /** SLOs whose last evaluation failed on their own (the tick itself succeeded). */
  readonly failingSlos: number;
}

export class Evaluator {
  private readonly leader: LeaderElection;
  private readonly shards: ShardOwnership | undefined;
  private readonly tickMs: number;
  private readonly historyStepMs: number;
  private readonly marginMs: number;
  private readonly pageRows: number;
  private readonly backfillBudgetMs: number;
  private readonly historyBackfillDays: number;
  private readonly hotMinutes: number | undefined;
  private session: Session | null = null;
  private running: Promise<void> | undefined;
  /** The one tick queued behind the running one. */
  private next: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  /** stop() was called: a tick in flight ends its backfills early. */
  private stopping = false;
  /** Backfills are still waiting: run the next tick at once. */
  private catchingUp = false;
  /** Clock time of the last tick that wrote, and since when this replica leads (for health). */
  private lastSuccessMs: number | null = null;
  private leadingSinceMs: number | null = null;
  private consecutiveFailures = 0;
  private lastFailure: string | undefined;
  private failingSlos = 0;

  constructor(private readonly deps: EvaluatorDeps) {
    const { config } = deps;
    if (!(config.tickSeconds > 0)) throw new RangeError('tickSeconds must be > 0');
    if (!(config.historyStepSeconds > 0)) throw new RangeError('historyStepSeconds must be > 0');
    this.tickMs = config.tickSeconds * 1000;
    this.historyStepMs = config.historyStepSeconds * 1000;
    this.marginMs = (config.feedMarginSeconds ?? 120) * 1000;
    this.pageRows = config.feedPageRows ?? 20_000;
    this.backfillBudgetMs = (config.backfillSecondsPerTick ?? Math.max(1, config.tickSeconds)) * 1000;
    this.historyBackfillDays = config.historyBackfillDays ?? DEFAULT_HISTORY_BACKFILL_DAYS;
    if (!(this.historyBackfillDays >= 0)) throw new RangeError('historyBackfillDays must be ≥ 0');
    const hot = config.hotMinutes ?? DEFAULT_HOT_MINUTES;
    if (!Number.isSafeInteger(hot) || hot < 0) throw new RangeError('hotMinutes must be a whole number ≥ 0');
    this.hotMinutes = hot === 0 ? undefined : hot;
    if (deps.leader) this.leader = deps.leader;
    else if (deps.db.dialect === 'sqlite') this.leader = new SingleNodeLeadership(deps.metrics);
    else
      throw new Error(
        'the evaluator on PostgreSQL needs a leader election (createLeaderElection), or every replica would evaluate',
      );
    this.shards = deps.shards;
    if (this.shards) {
      // Sharded: the leases decide what this replica evaluates; the leader only runs leader work.
      let evaluating = false;
      this.shards.onChange(() => {
        const now = this.shards!.owned().size > 0;
        if (now !== evaluating) this.resetHealth(now);
        evaluating = now;
        // Taken shards are evaluated at once (a checkpoint restore), not a tick later.
        if (now) this.schedule(0);
      });
    } else
      this.leader.onChange((leader) => {
        this.resetHealth(leader);
        if (leader) this.schedule(0);
      });
  }

  /** A new lead (or first shard) starts from the database: memory from an earlier lead may have missed rows. */
  private resetHealth(evaluating: boolean): void {
    this.session = null;
    this.leadingSinceMs = evaluating ? this.deps.clock.now() : null;
    this.lastSuccessMs = null;
    this.consecutiveFailures = 0;
    this.lastFailure = undefined;
    this.failingSlos = 0;
    this.deps.metrics.slosFailing.set(0);
  }

  /** True while this replica evaluates SLOs: the leader, or (sharded) a holder of shards. */
  private evaluating(): boolean {
    return this.shards ? this.shards.owned().size > 0 : this.leader.isLeader();
  }

  /** Sharded evaluation: the shards this replica holds now, ascending; undefined when not sharded. */
  ownedShards(): number[] | undefined {
    return this.shards && [...this.shards.owned().keys()].sort((a, b) => a - b);
  }

  /** The configured tick interval in seconds. */
  get tickSeconds(): number {
    return this.tickMs / 1000;
  }

  /** True while this replica evaluates. */
  isLeader(): boolean {
    return this.leader.isLeader();
  }

  /**
   * Evaluation health at `nowMs` (default: the clock). A leader with no tick written for
   * `STALE_AFTER_TICKS` intervals — since its last success, or since it took the lead — is not
   * healthy, and says why. SLOs failing one by one do not make it unhealthy: they are marked on
   * their statuses and counted in /metrics.
   */
  health(nowMs = this.deps.clock.now()): EvaluationHealth {
    const role = this.leader.isLeader() ? ('leader' as const) : ('follower' as const);
    const shards = this.ownedShards();
    const common = {
      role,
      ...(shards ? { shards } : {}),
      lastSuccessAt: this.lastSuccessMs === null ? null : new Date(this.lastSuccessMs).toISOString(),
      consecutiveFailures: this.consecutiveFailures,
      failingSlos: this.failingSlos,
    };
    if (!this.evaluating()) return { evaluating: false, healthy: true, ...common };
    const sinceMs = this.lastSuccessMs ?? this.leadingSinceMs ?? nowMs;
    const limitMs = STALE_AFTER_TICKS * this.tickMs;
    if (nowMs - sinceMs <= limitMs) return { evaluating: true, healthy: true, ...common };
    const what =
      this.lastSuccessMs === null
        ? `no evaluation tick has succeeded since this replica took the lead ${seconds(nowMs - sinceMs)} ago`
        : `no evaluation tick has succeeded for ${seconds(nowMs - sinceMs)}`;
    return {
      evaluating: true,
      healthy: false,
      reason: `${what} (more than ${STALE_AFTER_TICKS} intervals of ${seconds(this.tickMs)})${
        this.lastFailure ? `; last error: ${this.lastFailure}` : ''
      }`,
      ...common,
    };
  }

  /** Starts the leader election and the tick loop (the first tick runs at once, in the background). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    await this.leader.start();
    await this.shards?.start();
    this.schedule(0);
  }

  /** Stops the loop, waits for a tick in flight and gives up the lead. */
  async stop(): Promise<void> {
    this.started = false;
    this.stopping = true;
    clearTimeout(this.timer);
    await (this.next ?? this.running);
    await this.shards?.stop();
    await this.leader.stop();
    this.session = null;
  }

  /**
   * One evaluation cycle, when this replica is the leader. Never rejects: a failed tick is logged
   * and counted, and the stored statuses stay as they were (their `evaluatedAt` shows their age).
   * A call while a tick runs waits for it and then runs one more — shared by every call made
   * meanwhile — so what was stored before the call is always evaluated by the time it resolves.
   */
  tick(): Promise<void> {
    if (!this.running) {
      this.running = this.runTick().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.next ??= this.running.then(() => {
      this.next = undefined;
      return this.tick();
    });
    return this.next;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (!this.started) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule(this.catchingUp ? 0 : this.tickMs));
    }, delayMs);
    this.timer.unref();
  }

  private async runTick(): Promise<void> {
    this.catchingUp = false;
    const leader = await this.leader.confirm();
    if (this.shards ? this.shards.owned().size === 0 : !leader) {
      this.session = null;
      return;
    }
    const { metrics, log } = this.deps;
    const startedMs = performance.now();
    try {
      const summary = await this.evaluate();
      if (!summary) return;
      this.lastSuccessMs = this.deps.clock.now();
      this.consecutiveFailures = 0;
      this.lastFailure = undefined;
      const tookMs = performance.now() - startedMs;
      metrics.evaluationSeconds.observe(tookMs / 1000);
      metrics.evaluations.inc({ outcome: 'ok' });
      log.debug({ ...summary, tookMs: round(tookMs) }, 'evaluation tick');
    } catch (error) {
      this.catchingUp = false;
      this.consecutiveFailures++;
      this.lastFailure = oneLine(error);
      metrics.evaluations.inc({ outcome: 'error' });
      log.error(
        { err: error },
        'evaluation tick failed; stored statuses are kept and age until a tick succeeds',
      );
    }
  }

  private async evaluate() {
    const { db, log } = this.deps;
    this.session ??= {
      state: new EvaluationState({ hotMinutes: this.hotMinutes }),
      specVersion: null,
      cursorMs: null,
      cursorRead: false,
      lastHistoryStepMs: Number.NEGATIVE_INFINITY,
      prune: true,
      shardsKey: '',
      history:
        this.historyBackfillDays > 0
          ? new HistoryBackfill({ db, log }, { stepMs: this.historyStepMs, days: this.historyBackfillDays })
          : null,
      lastCurrent: new Map(),
      restoreTried: new Set(),
      checkpointsPruned: false,
      ticks: 0,
      refused: new Map(),
      failing: new Map(),
      lastGood: new Map(),
    };
    const session = this.session;
    const { state } = session;
    // Read before any backfill, so the feed covers every row changed after the backfill's reads.
    if (!session.cursorRead) {
      session.cursorMs = await latestUpdateMs(db);
      session.cursorRead = true;
    }
    const nowMs = Math.max(this.deps.clock.now(), Number.isNaN(state.nowMs) ? 0 : state.nowMs);
    const backfillUntilMs = performance.now() + this.backfillBudgetMs;
    state.setClock(nowMs);
    const specs = this.deps.specs();
    // Sharded: the leases held as this tick starts; the write is fenced by exactly these.
    const owned = this.shards ? new Map(this.shards.owned()) : undefined;
    const shardsKey = owned ? [...owned].sort((a, b) => a[0] - b[0]).join(' ') : '';
    if (specs.version !== session.specVersion || shardsKey !== session.shardsKey) {
      const all = evaluationTargets(specs.catalog);
      const mine = owned ? all.filter((t) => owned.has(shardOf(t.id, this.shards!.count))) : all;
      const change = state.setTargets(mine);
      if (owned) this.forgetOthers(session, all);
      session.specVersion = specs.version;
      session.shardsKey = shardsKey;
      session.prune = true;
      log.info(
        {
          version: specs.version,
          added: change.added,
          kept: change.kept,
          removed: change.removed,
          ...(owned ? { shards: [...owned.keys()].sort((a, b) => a - b), targets: mine.length } : {}),
        },
        'evaluation targets updated',
      );
      // Logged once, by errorRows, when each starts failing.
      session.refused = new Map(change.failed.map(({ id, error }) => [id, error]));
    }

    // A new lead takes the saved engines (checkpoints) of its parts; they move on from their clock.
    const restored = await this.restoreCheckpoints(session);
    // The minutes leaving the engines' cold windows (and rebuilds, while the budget lasts).
    let coldRows = await this.loadCold(state, backfillUntilMs);
    state.advance(this.reflectedBefore(session, nowMs));

    // A large backfill (start-up, a new leader) is spread over back-to-back ticks, so statuses
    // appear SLO by SLO and the change feed keeps flowing meanwhile.
    let backfilledRows = 0;
    const pending = state.pending();
    while (pending.length) {
      const { storageKey, fromMs } = pending.shift()!;
      const rows = await readMinutes(db, storageKey, fromMs);
      state.backfill(storageKey, rows);
      backfilledRows += rows.length;
      if (performance.now() >= backfillUntilMs || this.stopping) break;
      await yieldToEventLoop();
    }
    this.catchingUp = pending.length > 0;
    const feedStartMs = performance.now();
    const { read: changedRows, oldestChanges } = await this.readFeed(session);
    const feedMs = performance.now() - feedStartMs;
    // New parts, and parts a change of a cold minute reached, rebuild their cold windows.
    const reflectedBeforeMs = this.reflectedBefore(session, nowMs);
    coldRows += await this.loadCold(state, backfillUntilMs);
    state.advance(reflectedBeforeMs);
    const waitingParts = state.waitingParts();
    if (waitingParts > 0) this.catchingUp = true;

    const computed = state.statuses();
    const dataStates = this.deps.dataStates ? await this.deps.dataStates() : undefined;
    const stepMs = Math.floor(nowMs / this.historyStepMs) * this.historyStepMs;
    const writeHistory = stepMs > session.lastHistoryStepMs;
    // Each SLO in isolation: whatever fails for one (its figures, their shaping into a stored
    // row) marks that SLO `error` and leaves the others to be written and alerted on.
    const errors = new Map<string, string>(session.refused);
    for (const { id, error } of computed.errors) errors.set(id, error);
    const statuses: DatedStatus[] = [];
    const rows: SloStatusTable[] = [];
    const historyRows: SloHistoryTable[] = [];
    for (const computedStatus of computed.statuses) {
      try {
        const dated = withDataState(computedStatus, session.lastCurrent, dataStates);
        const row = statusRow(dated, nowMs);
        const point =
          writeHistory && isCurrent(dated.data)
            ? historyRow(dated.target.id, stepMs, dated.status)
            : undefined;
        statuses.push(dated);
        rows.push(row);
        if (point) historyRows.push(point);
        session.lastGood.set(dated.target.id, { dated, nowMs });
      } catch (error) {
        errors.set(computedStatus.target.id, oneLine(error));
      }
    }
    rows.push(...(await this.errorRows(session, errors, nowMs)));
    // Lost the lead while computing: the new leader writes from now on.
    if (!this.evaluating() || this.session !== session) {
      log.debug('lost the lead during a tick; not writing');
      return null;
    }

    const writeStartMs = performance.now();
    let alertFailures: ReadonlyArray<{ readonly id: string }> = [];
    const shards = this.shards;
    let lostShards: number[] = [];
    if (owned && shards)
      for (const row of rows) {
        row.evaluated_by = shards.replica;
        row.shard_epoch = owned.get(shardOf(row.slo_id, shards.count)) ?? null;
      }
    await writeTick(db, {
      statuses: rows,
      history: historyRows,
      keepOnly: session.prune ? new Set(state.targetIds()) : undefined,
      fence:
        owned && shards
          ? async (trx) => {
              const held = await shards.fence(trx, owned);
              lostShards = [...owned.keys()].filter((s) => !held.has(s));
              return (id) => held.has(shardOf(id, shards.count));
            }
          : undefined,
      also: this.deps.withStatuses
        ? async (trx, writable) => {
            const mine = owned ? statuses.filter((s) => writable(s.target.id)) : statuses;
            alertFailures = (await this.deps.withStatuses!(trx, mine, nowMs)) ?? [];
          }
        : undefined,
    });
    const writeMs = performance.now() - writeStartMs;
    // Taken over since the tick began: their statuses were left out; the next tick drops them.
    if (lostShards.length) shards?.lost(lostShards);
    session.prune = false;
    await this.saveCheckpoints(session, nowMs);
    if (writeHistory) session.lastHistoryStepMs = stepMs;
    // SLOs whose alerts failed on their own (logged by the alert step) count as failing too.
    const failing = new Set(errors.keys());
    for (const { id } of alertFailures) {
      this.deps.metrics.sloEvaluationErrors.inc({ slo: id });
      failing.add(id);
    }
    this.failingSlos = failing.size;
    this.deps.metrics.slosFailing.set(failing.size);

    // History backfill: after the live write, with the backfill time left, and only once every
    // live status is in (live statuses first).
    let historyRun: HistoryRunSummary | undefined;
    const historyStartMs = performance.now();
    const { history } = session;
    if (history) {
      history.update(statuses, state.currentTargets(), stepMs, oldestChanges);
      if (pending.length === 0) {
        historyRun = await history.run(
          stepMs,
          () => performance.now() < backfillUntilMs && !this.stopping,
          () => this.evaluating() && this.session === session,
        );
        this.catchingUp = history.runnable;
      }
    }
    const stats = state.stats();
    return {
      at: new Date(nowMs).toISOString(),
      slos: statuses.length,
      failingSlos: failing.size,
      changedRows,
      feedMs: round(feedMs),
      writeMs: round(writeMs),
      backfilledRows,
      waitingBackfills: pending.length,
      coldRows,
      waitingRebuilds: waitingParts,
      restoredEngines: restored || undefined,
      historyStep: writeHistory ? new Date(stepMs).toISOString() : undefined,
      historyChecked: historyRun?.checked,
      historyPoints: historyRun?.points,
      historyRows: historyRun?.rows,
      historyMs: historyRun ? round(performance.now() - historyStartMs) : undefined,
      historyWaiting: history?.waiting,
      deferredRows: stats.deferredRows,
      stateBytes: stats.stateBytes,
    };
  }

  /**
   * Status rows of the targets that failed this tick: the last good status (from this lead, else
   * the one stored) marked with `error` — its `evaluatedAt` stays, so it ages into stale like any
   * old status — or, for a target never evaluated, an entry without figures (`sli: null`). Logs a
   * target when it starts failing (or fails differently) and when it recovers; counts each failure.
   */
  /**
   * The last good status this lead kept for `id`, shaped now if it was kept as figures; undefined
   * if there is none or it cannot be shaped (what fails may be the target itself, which shaping
   * reads again): the row stored last then holds those figures as they were written.
   */
  private lastGoodStatus(session: Session, id: string): StoredStatus | undefined {
    const good = session.lastGood.get(id);
    if (!good || !('dated' in good)) return good;
    try {
      return storedStatus(good.dated, good.nowMs);
    } catch {
      session.lastGood.delete(id);
      return undefined;
    }
  }

  private async errorRows(
    session: Session,
    errors: ReadonlyMap<string, string>,
    nowMs: number,
  ): Promise<SloStatusTable[]> {
    const { log, metrics, db } = this.deps;
    for (const id of session.failing.keys())
      if (!errors.has(id)) {
        session.failing.delete(id);
        log.info({ slo: id }, 'evaluates again; the error is cleared');
      }
    const rows: SloStatusTable[] = [];
    if (!errors.size) return rows;
    const targets = new Map(session.state.currentTargets().map((t) => [t.id, t]));
    for (const [id, reason] of errors) {
      const target = targets.get(id);
      if (!target) continue;
      metrics.sloEvaluationErrors.inc({ slo: id });
      const before = session.failing.get(id);
      if (before?.reason !== reason) log.warn({ slo: id }, `not evaluated: ${reason}`);
      let previous = this.lastGoodStatus(session, id);
      if (!previous) {
        const stored = await getStatus(db, id);
        previous = stored && { ...stored, error: undefined };
        if (previous) session.lastGood.set(id, previous);
        if (!before && stored?.error) {
          const sinceMs = Date.parse(stored.error.since);
          if (Number.isFinite(sinceMs)) session.failing.set(id, { reason: stored.error.reason, sinceMs });
        }
      }
      const sinceMs = session.failing.get(id)?.sinceMs ?? nowMs;
      session.failing.set(id, { reason, sinceMs });
      const error = { reason, since: new Date(sinceMs).toISOString() };
      try {
        const stored: StoredStatus = previous
          ? { ...previous, error }
          : { ...emptyEntry(target, nowMs), evaluatedAt: new Date(sinceMs).toISOString(), error };
        rows.push({
          slo_id: id,
          evaluated_at: Date.parse(stored.evaluatedAt),
          status: JSON.stringify(stored),
        });
      } catch (failure) {
        // Not even an entry without figures: its stored status (if any) stays and ages into stale.
        log.warn({ slo: id }, `error not stored: ${oneLine(failure)}`);
      }
    }
    return rows;
  }

  /**
   * Sharded: after the shards changed, forgets what the session kept about targets no longer
   * evaluated here, so a shard taken again later starts from the database (checkpoints, stored
   * statuses), not from what this replica knew before another one moved it on.
   */
  private forgetOthers(session: Session, all: readonly EvaluationTarget[]): void {
    const kept = new Set(session.state.targetIds());
    const parts = new Set(session.state.partKeys());
    for (const key of session.restoreTried) if (!parts.has(key)) session.restoreTried.delete(key);
    for (const t of all)
      if (!kept.has(t.id)) {
        session.lastCurrent.delete(t.id);
        session.lastGood.delete(t.id);
        session.failing.delete(t.id);
      }
  }

  /**
   * Restores the saved engines of parts that have none yet and were not tried before (a new lead;
   * SLOs added back). The change feed then reads from the oldest restored cursor, so the rows
   * changed since each engine was saved reach it. Returns how many were restored.
   */
  private async restoreCheckpoints(session: Session): Promise<number> {
    if (this.hotMinutes === undefined) return 0;
    const { db, log } = this.deps;
    // Sharded, this replica's parts are not all parts: the leader prunes against the whole catalog.
    if (!session.checkpointsPruned && (!this.shards || this.leader.isLeader())) {
      session.checkpointsPruned = true;
      const keys = this.shards
        ? evaluationTargets(this.deps.specs().catalog).flatMap((t) => t.parts.map(partKey))
        : session.state.partKeys();
      await pruneCheckpoints(db, keys);
    }
    const untried = session.state.partsWithoutEngine().filter((p) => !session.restoreTried.has(p.key));
    if (!untried.length) return 0;
    for (const p of untried) session.restoreTried.add(p.key);
    let restored = 0;
    for (const saved of await loadCheckpoints(
      db,
      untried.map((p) => p.key),
    )) {
      if (!session.state.restore(saved.key, saved.state, saved.clockMs, saved.reflectedBeforeMs)) continue;
      restored++;
      if (session.cursorMs !== null)
        session.cursorMs = saved.cursorMs === null ? null : Math.min(session.cursorMs, saved.cursorMs);
    }
    if (restored) log.info({ restored, of: untried.length }, 'engines restored from checkpoints');
    return restored;
  }

  /** Saves this tick's slice of the ready tiered engines (each part every CHECKPOINT_EVERY_TICKS ticks). */
  private async saveCheckpoints(session: Session, nowMs: number): Promise<void> {
    if (this.hotMinutes === undefined) return;
    const slice = session.ticks++ % CHECKPOINT_EVERY_TICKS;
    const engines = session.state.checkpoints(
      (phase) => Math.floor(phase * CHECKPOINT_EVERY_TICKS) === slice,
    );
    if (!engines.length) return;
    try {
      await saveCheckpoints(this.deps.db, engines, session.cursorMs, nowMs);
    } catch (error) {
      // Evaluation goes on; a new lead then rebuilds the parts whose checkpoint is missing or old.
      this.deps.log.warn({ err: error }, 'engine checkpoints not saved');
    }
  }

  /**
   * Rows stamped before this were committed before reads made now, by the change feed's own
   * assumption (a write commits within the margin of its stamp): those stamped more than the
   * margin before the newest stamp seen — or, when that newest stamp is itself older than the
   * margin (nothing is being written), every row up to it. Without the second case a quiet
   * system would re-read its last rows, and rebuild their engines, on every tick.
   */
  private reflectedBefore(session: Session, nowMs: number): number {
    const cursorMs = session.cursorMs;
    if (cursorMs === null) return Number.NEGATIVE_INFINITY;
    return cursorMs <= nowMs - this.marginMs ? cursorMs + 1 : cursorMs - this.marginMs;
  }

  /**
   * Reads what the tiered engines need from `sli_minutes`: every range a ready engine needs to
   * move, then rebuild ranges until `untilMs` (performance.now; at least one query's worth, so a
   * busy tick still makes progress) — the rest waits for the next tick, its engines without a
   * status meanwhile. Ranges with the same bounds share queries. Returns the rows read.
   */
  private async loadCold(state: EvaluationState, untilMs: number): Promise<number> {
    const required = new Map<string, { fromMs: number; toMs: number; keys: string[] }>();
    const rebuilds = new Map<string, Array<{ fromMs: number; toMs: number }>>();
    for (const read of state.coldReads()) {
      if (read.required) {
        const id = `${read.fromMs}:${read.toMs}`;
        const group = required.get(id);
        if (group) group.keys.push(read.storageKey);
        else required.set(id, { fromMs: read.fromMs, toMs: read.toMs, keys: [read.storageKey] });
      } else {
        const ranges = rebuilds.get(read.storageKey) ?? [];
        ranges.push(read);
        rebuilds.set(read.storageKey, ranges);
      }
    }
    let rows = 0;
    const put = (storageKey: string, fromMs: number, toMs: number, keyRows: MinuteRow[]) => {
      state.putCold({ storageKey, fromMs, toMs, required: true }, keyRows);
      rows += keyRows.length;
    };
    // The edges of every window share queries: one per distinct range (and 500 keys).
    for (const { fromMs, toMs, keys } of required.values()) {
      const byKey = new Map<string, MinuteRow[]>(keys.map((k) => [k, []]));
      for (const row of await readMinutesOfKeys(this.deps.db, keys, fromMs, toMs))
        byKey.get(row.storageKey)?.push(row);
      for (const [storageKey, keyRows] of byKey) put(storageKey, fromMs, toMs, keyRows);
    }
    // Rebuilds key by key (a key's engines become ready together), at least one per call.
    let first = true;
    for (const [storageKey, ranges] of rebuilds) {
      if (!first && (performance.now() >= untilMs || this.stopping)) break;
      first = false;
      for (const { fromMs, toMs } of ranges)
        put(storageKey, fromMs, toMs, await readMinutes(this.deps.db, storageKey, fromMs, toMs));
      await yieldToEventLoop();
    }
    return rows;
  }

  /**
   * Applies every row changed since the cursor (minus the margin). Returns how many were read and,
   * per storage key, the oldest minute among rows stamped after the previous cursor (new changes,
   * not re-reads), for the history backfill.
   */
  private async readFeed(session: Session): Promise<{ read: number; oldestChanges: Map<string, number> }> {
    const previousMs = session.cursorMs;
    const sinceMs = previousMs === null ? null : previousMs - this.marginMs;
    let after: FeedPosition | null = null;
    let newest = previousMs;
    let read = 0;
    const oldestChanges = new Map<string, number>();
    for (;;) {
      const page = await readChanges(this.deps.db, sinceMs, after, this.pageRows);
      session.state.apply(page);
      read += page.length;
      for (const row of page) {
        if (newest === null || row.updatedAtMs > newest) newest = row.updatedAtMs;
        if (previousMs !== null && row.updatedAtMs <= previousMs) continue;
        const oldest = oldestChanges.get(row.storageKey);
        if (oldest === undefined || row.minuteMs < oldest) oldestChanges.set(row.storageKey, row.minuteMs);
      }
      const last = page.at(-1);
      if (!last || page.length < this.pageRows) break;
      after = [last.updatedAtMs, last.storageKey, last.minuteMs];
    }
    session.cursorMs = newest;
    return { read, oldestChanges };
  }
}

/**
 * /readyz's `evaluation` check. The leader is ready while its ticks succeed (`Evaluator.health`).
 * A follower evaluates nothing, so it stays ready while its own reads work (taking it out of a
 * load balancer would not help a sick leader): it shows when the leader last wrote a status and
 * whether that is stale, so one look at any replica tells whether evaluation is behind.
 */
export async function evaluationReadiness(
  evaluator: Evaluator,
  db: Db,
  nowMs: number,
): Promise<ReadinessCheck> {
  const health = evaluator.health(nowMs);
  const { healthy, reason, evaluating, ...facts } = health;
  if (health.role === 'leader' && evaluating)
    return { ready: healthy, ...(reason ? { reason } : {}), ...facts };
  if (health.role === 'leader') return { ready: true, ...facts };
  const newestMs = await newestEvaluationMs(db);
  const follower = {
    leaderLastWroteAt: newestMs === null ? null : new Date(newestMs).toISOString(),
    leaderStale: newestMs !== null && isStale(newestMs, nowMs, evaluator.tickSeconds),
  };
  // Sharded, a follower evaluates its own shards: it is ready while its ticks succeed.
  if (evaluating) return { ready: healthy, ...(reason ? { reason } : {}), ...facts, ...follower };
  return { ready: true, role: 'follower', ...(facts.shards ? { shards: facts.shards } : {}), ...follower };
}

/** Milliseconds to one decimal, for the log. */
function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** `90s`, for readiness reasons. */
function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

/** An error as one short line (never a stack), for statuses, logs and /readyz. */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const line = text.split('\n')[0]!;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** A report entry without figures (nothing counted: `sli` null), for a target that has never evaluated. */
function emptyEntry(target: EvaluationTarget, nowMs: number): BudgetReportEntry {
  const method = target.parts[0]?.spec.method;
  const empty: BudgetStatus = {
    at: nowMs,
    period: { startMs: nowMs, endMs: nowMs },
    sli: null,
    budget: { unit: method === 'Occurrences' ? 'events' : 'minutes', total: 0, consumed: 0, remaining: 1 },
    burnRates: {},
    windowEvents: {},
    currentBurnRate: null,
    exhaustionAt: null,
    dataSufficient: false,
    coverage: 0,
  };
  return reportEntry(target, empty);
}

/** A target's status with the state of its data (pulled data only). */
export type DatedStatus = TargetStatus & { readonly data?: DataState | undefined };

function isCurrent(data: DataState | undefined): boolean {
  return data === undefined || data.state === 'ok';
}

/** A target's status with its data state: the computed one while current, else the last current one. */
function withDataState(
  s: TargetStatus,
  lastCurrent: Map<string, BudgetStatus>,
  dataStates: ReadonlyMap<string, DataState> | undefined,
): DatedStatus {
  const data = dataStates
    ? worstState(s.target.parts.flatMap((p) => dataStates.get(p.storageKey) ?? []))
    : undefined;
  if (isCurrent(data)) {
    lastCurrent.set(s.target.id, s.status);
    return data ? { ...s, data } : s;
  }
  return { target: s.target, status: lastCurrent.get(s.target.id) ?? s.status, data };
}

/** A status this lead wrote: its figures and when (see `storedStatus`). */
interface WrittenStatus {
  readonly dated: DatedStatus;
  readonly nowMs: number;
}

/** The status stored for a target's figures at `nowMs`. */
export function storedStatus({ target, status, data }: DatedStatus, nowMs: number): StoredStatus {
  return {
    ...reportEntry(target, status),
    evaluatedAt: new Date(nowMs).toISOString(),
    ...(data ? { data } : {}),
  };
}

/**
 * The `slo_status` row of a target's figures at `nowMs`: `storedStatus` as JSON, the same text,
 * built from the target's head (serialised once per target) and the figures, without the object.
 */
export function statusRow({ target, status, data }: DatedStatus, nowMs: number): SloStatusTable {
  const figures = JSON.stringify({
    ...entryFigures(target, status),
    evaluatedAt: tickIso(nowMs),
    ...(data ? { data } : {}),
  });
  return { slo_id: target.id, evaluated_at: nowMs, status: `${headJson(target)},${figures.slice(1)}` };
}

/** ISO text of a tick's time: the same for every row of the tick, formatted once. */
function tickIso(nowMs: number): string {
  if (lastTick.ms !== nowMs) lastTick = { ms: nowMs, text: new Date(nowMs).toISOString() };
  return lastTick.text;
}

let lastTick = { ms: Number.NaN, text: '' };

/** A target's entry head as JSON without its closing brace (never empty: it has an id). */
function headJson(target: EvaluationTarget): string {
  let json = headsJson.get(target);
  if (json === undefined) {
    json = JSON.stringify(entryHead(target)).slice(0, -1);
    headsJson.set(target, json);
  }
  return json;
}

/** Targets are immutable (a spec change builds new ones): their heads are serialised once. */
const headsJson = new WeakMap<EvaluationTarget, string>();
