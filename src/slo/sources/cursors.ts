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

/** Cursor rows per statement: 10 bound values a row, well under both databases' limits. */
const CURSOR_CHUNK_ROWS = 500;

/** Stores cursors after successful pulls (in the transaction that stored their minutes). */
export async function saveCursors(
  trx: Kysely<Database>,
  cursors: readonly Cursor[],
  nowMs: number,
): Promise<void> {
  for (let i = 0; i < cursors.length; i += CURSOR_CHUNK_ROWS) {
    const rows: SourceCursorTable[] = cursors.slice(i, i + CURSOR_CHUNK_ROWS).map((cursor) => ({
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
    }));
    await trx
      .insertInto('source_cursors')
      .values(rows)
      .onConflict((oc) =>
        oc.column('sli').doUpdateSet((eb) => ({
          source: eb.ref('excluded.source'),
          plan_hash: eb.ref('excluded.plan_hash'),
          from_ms: eb.ref('excluded.from_ms'),
          synced_until_ms: eb.ref('excluded.synced_until_ms'),
          last_success_at: eb.ref('excluded.last_success_at'),
          failures: eb.ref('excluded.failures'),
          last_error: eb.ref('excluded.last_error'),
          last_error_at: eb.ref('excluded.last_error_at'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
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

/** Drops the cursors of SLIs no longer pulled, given the SLIs that have one. */
export async function pruneCursors(
  db: Db,
  stored: Iterable<string>,
  keep: ReadonlySet<string>,
): Promise<string[]> {
  const gone = [...stored].filter((sli) => !keep.has(sli));
  for (let i = 0; i < gone.length; i += CURSOR_CHUNK_ROWS)
    await db.kysely
      .deleteFrom('source_cursors')
      .where('sli', 'in', gone.slice(i, i + CURSOR_CHUNK_ROWS))
      .execute();
  return gone;
}
