/** The `source_cursors` table: per pulled SLI, what is stored and how the last pulls went. */
import type { Kysely } from 'kysely';
import type { Database, Db, SourceCursorTable } from '../../platform/db/index.js';

export interface Cursor {
  readonly sli: string;
  readonly source: string;
  readonly planHash: string;
  readonly fromMs: number;
  readonly syncedUntilMs: number;
  readonly lastSuccessAt: number | null;
  readonly failures: number;
  readonly lastError: string | null;
  readonly lastErrorAt: number | null;
}

export async function readCursors(db: Kysely<Database>): Promise<Map<string, Cursor>> {
  const rows = await db.selectFrom('source_cursors').selectAll().execute();
  return new Map(rows.map((r) => [r.sli, fromRow(r)]));
}

function fromRow(r: SourceCursorTable): Cursor {
  return {
    sli: r.sli,
    source: r.source,
    planHash: r.plan_hash,
    fromMs: Number(r.from_ms),
    syncedUntilMs: Number(r.synced_until_ms),
    lastSuccessAt: r.last_success_at === null ? null : Number(r.last_success_at),
    failures: Number(r.failures),
    lastError: r.last_error,
    lastErrorAt: r.last_error_at === null ? null : Number(r.last_error_at),
  };
}

/** Stores a cursor after a successful pull (in the transaction that stored its minutes). */
export async function saveCursor(trx: Kysely<Database>, cursor: Cursor, nowMs: number): Promise<void> {
  const row: SourceCursorTable = {
    sli: cursor.sli,
    source: cursor.source,
    plan_hash: cursor.planHash,
    from_ms: cursor.fromMs,
    synced_until_ms: cursor.syncedUntilMs,
    last_success_at: cursor.lastSuccessAt,
    failures: cursor.failures,
    last_error: cursor.lastError,
    last_error_at: cursor.lastErrorAt,
    updated_at: nowMs,
  };
  const { sli: _, ...update } = row;
  await trx
    .insertInto('source_cursors')
    .values(row)
    .onConflict((oc) => oc.column('sli').doUpdateSet(update))
    .execute();
}

/** Records a failed pull; an SLI never pulled gets a cursor that holds nothing yet. */
export async function recordFailure(
  db: Db,
  failed: ReadonlyArray<{ sli: string; source: string; error: string }>,
  nowMs: number,
): Promise<void> {
  if (!failed.length) return;
  await db.kysely.transaction().execute(async (trx) => {
    for (const f of failed) {
      const error = f.error.slice(0, 500);
      await trx
        .insertInto('source_cursors')
        .values({
          sli: f.sli,
          source: f.source,
          plan_hash: '',
          from_ms: 0,
          synced_until_ms: 0,
          last_success_at: null,
          failures: 1,
          last_error: error,
          last_error_at: nowMs,
          updated_at: nowMs,
        })
        .onConflict((oc) =>
          oc.column('sli').doUpdateSet((eb) => ({
            failures: eb('source_cursors.failures', '+', 1),
            last_error: error,
            last_error_at: nowMs,
            updated_at: nowMs,
          })),
        )
        .execute();
    }
  });
}

/** Drops the cursors of SLIs no longer pulled. */
export async function pruneCursors(db: Db, keep: ReadonlySet<string>): Promise<number> {
  const all = await db.kysely.selectFrom('source_cursors').select('sli').execute();
  const gone = all.map((r) => r.sli).filter((sli) => !keep.has(sli));
  if (gone.length) await db.kysely.deleteFrom('source_cursors').where('sli', 'in', gone).execute();
  return gone.length;
}
