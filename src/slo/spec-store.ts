/**
 * The SLO definitions a running server evaluates: the spec directory plus files uploaded through
 * PUT /api/v1/specs (kept in the database, so every replica sees them). Reloaded when the
 * directory changes or an upload lands; an invalid object is reported and skipped, never hiding
 * the valid ones.
 */

import { createHash } from 'node:crypto';
import { type FSWatcher, statSync, watch } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { type AuditScope, recordAudit } from '../platform/audit/index.js';
import type { Clock } from '../platform/clock.js';
import type { Database, Db } from '../platform/db/index.js';
import { AppError, invalid } from '../platform/errors.js';
import type { ShinraiMetrics } from '../platform/metrics.js';
import type { ConfiguredTargetName } from '../platform/notification-targets.js';
import { type Catalog, EMPTY_CATALOG } from './model.js';
import type { Diagnostic } from './spec/diagnostics.js';
import { UPLOAD_PREFIX } from './spec/origin.js';
import { SpecLoader } from './spec/spec-loader.js';

export interface LoadedSpecs {
  readonly catalog: Catalog;
  readonly diagnostics: readonly Diagnostic[];
  readonly files: readonly string[];
  readonly loadedAt: number;
  /** Increases on every reload that changed something. */
  readonly version: number;
}

export interface SpecStoreDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: ShinraiMetrics;
  /** The spec directory or file; optional when all specs come through the API. */
  readonly path?: string | undefined;
  /** Bounds of one PUT /api/v1/specs (`specs.uploadMaxBytes`, `specs.uploadMaxDocuments`). */
  readonly uploadLimits?: UploadLimits | undefined;
  /** Targets configured on the server (`notificationTargets.<name>`), which specs may name. */
  readonly configuredTargets?: readonly ConfiguredTargetName[] | undefined;
}

export interface UploadLimits {
  /** All files' contents together, in UTF-8 bytes. */
  readonly maxBytes: number;
  /** Spec objects (YAML documents, or items of a top-level list) in all files together. */
  readonly maxDocuments: number;
}

/**
 * PUT /api/v1/specs replaces every uploaded file at once, so the bounds must fit a whole
 * organisation's specs (parsing runs on the loader's worker, never on the event loop).
 */
export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxBytes: 8 * 1024 * 1024, maxDocuments: 10_000 };

export { UPLOAD_PREFIX } from './spec/origin.js';

/** Uploaded paths kept for files an API writes one by one (risks); PUT /api/v1/specs leaves them. */
export const MANAGED_PREFIX = 'managed/';

/**
 * Why an uploaded file's path is refused, or undefined: it must be a relative path of plain
 * segments, so no name can point outside the upload (`/etc/passwd`, `../x`, `a\\b`, `a//b`).
 */
export function uploadPathProblem(path: string): string | undefined {
  if (path.length < 1 || path.length > 200) return 'must be 1–200 characters';
  if (path.startsWith('/')) return 'must be relative (no leading "/")';
  if (path.includes('\\')) return 'must use "/" between folders, not "\\"';
  const segments = path.split('/');
  if (segments.some((s) => s === '')) return 'must not have empty segments ("//" or a trailing "/")';
  if (segments.some((s) => s === '.' || s === '..')) return 'must not have "." or ".." segments';
  if (!/^[A-Za-z0-9._/-]+$/.test(path)) return 'may hold only letters, digits, ".", "_", "-" and "/"';
  return undefined;
}

function checkUploadPath(path: string): void {
  const problem = uploadPathProblem(path);
  if (problem)
    throw invalid(`spec path ${JSON.stringify(path)} ${problem}`, [{ field: 'path', message: problem }]);
}

function checkManagedPath(path: string): void {
  checkUploadPath(path);
  if (!path.startsWith(MANAGED_PREFIX))
    throw new Error(`managed spec path must start with ${MANAGED_PREFIX}`);
}

function untrustedUpload(found: readonly Diagnostic[]) {
  const first = found[0]!;
  return invalid(
    `${first.file}:${first.line}:${first.column}: ${first.message}${found.length > 1 ? ` (and ${found.length - 1} more)` : ''}; ${first.hint}. Nothing was stored.`,
    found.map((d) => ({ field: `${d.file}:${d.line}:${d.column}`, message: `${d.rule}: ${d.message}` })),
  );
}

function uploadTexts(files: readonly { path: string; content: string }[]) {
  return files.map((f) => ({ file: `${UPLOAD_PREFIX}${f.path}`, text: f.content }));
}

/**
 * Records a managed file's write in the audit log, on the write's transaction: `previous` is the
 * file's text before it (undefined: there was none).
 */
export type ManagedFileAudit = (
  trx: Kysely<Database>,
  previous: string | undefined,
  atMs: number,
) => Promise<void>;

async function managedContent(trx: Kysely<Database>, path: string): Promise<string | undefined> {
  const row = await trx
    .selectFrom('spec_files')
    .select('content')
    .where('path', '=', path)
    .executeTakeFirst();
  return row?.content;
}

/** Uploaded files as the audit log keeps them: a digest and size per path, not the whole text. */
function fileDigests(files: readonly { path: string; content: string }[]): Record<string, string> {
  return Object.fromEntries(
    files.map((f) => [
      f.path,
      `sha256:${createHash('sha256').update(f.content).digest('hex').slice(0, 16)} (${Buffer.byteLength(f.content)} bytes)`,
    ]),
  );
}

export class SpecStore {
  private loaded: LoadedSpecs;
  private fingerprint = '';
  private readonly listeners = new Set<(specs: LoadedSpecs) => void>();
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private reloading: Promise<LoadedSpecs> | undefined;
  private pendingReload = false;
  /** Parses and resolves on a worker thread: a large upload or reload never blocks the server. */
  private readonly loader = SpecLoader.shared();

  constructor(private readonly deps: SpecStoreDeps) {
    this.loaded = { catalog: EMPTY_CATALOG, diagnostics: [], files: [], loadedAt: 0, version: 0 };
  }

  get current(): LoadedSpecs {
    return this.loaded;
  }

  /** True once the first load finished (for /readyz). */
  get ready(): boolean {
    return this.loaded.loadedAt > 0;
  }

  subscribe(listener: (specs: LoadedSpecs) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reloads now; concurrent calls share one load, and a call during a load triggers one more. */
  async reload(): Promise<LoadedSpecs> {
    if (this.reloading) {
      this.pendingReload = true;
      return this.reloading;
    }
    this.reloading = this.load().finally(() => {
      this.reloading = undefined;
    });
    const result = await this.reloading;
    if (this.pendingReload) {
      this.pendingReload = false;
      return this.reload();
    }
    return result;
  }

  private async load(): Promise<LoadedSpecs> {
    const result = await this.loader.load(
      this.deps.path,
      uploadTexts(await this.uploadedFiles()),
      this.deps.configuredTargets,
    );
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    this.deps.metrics.specReloads.inc({ outcome: errors.length ? 'with-errors' : 'ok' });
    for (const d of errors.slice(0, 20))
      this.deps.log.warn(
        { file: d.file, line: d.line, column: d.column, rule: d.rule },
        `spec skipped: ${d.message}`,
      );
    const fingerprint = result.fingerprint;
    const changed = fingerprint !== this.fingerprint;
    this.fingerprint = fingerprint;
    this.loaded = {
      catalog: result.catalog,
      diagnostics: result.diagnostics,
      files: result.files,
      loadedAt: this.deps.clock.now(),
      version: this.loaded.version + (changed ? 1 : 0),
    };
    this.deps.metrics.slos.set(result.catalog.slos.length);
    if (changed) {
      this.deps.log.info(
        { slos: result.catalog.slos.length, errors: errors.length, version: this.loaded.version },
        'specs loaded',
      );
      for (const listener of this.listeners) listener(this.loaded);
    }
    return this.loaded;
  }

  /**
   * Replaces the uploaded spec files. Files are validated together with the directory; the ones
   * that fail to parse at all are refused, objects with errors are stored but skipped on load
   * (and reported), so one bad object never blocks the others. Files managed one by one through
   * their own API (under MANAGED_PREFIX, e.g. risks) are kept: a CI job uploading its specs must
   * not wipe what people wrote in the UI or the CLI.
   */
  async putFiles(
    files: readonly { path: string; content: string }[],
    audit?: AuditScope,
  ): Promise<LoadedSpecs> {
    const paths = new Set<string>();
    for (const file of files) {
      checkUploadPath(file.path);
      if (file.path.startsWith(MANAGED_PREFIX))
        throw invalid(
          `spec path "${file.path}": ${MANAGED_PREFIX} is kept for files the API manages one by one`,
        );
      if (paths.has(file.path)) throw invalid(`spec path "${file.path}" appears twice`);
      paths.add(file.path);
    }
    await this.checkUpload(files);
    const now = this.deps.clock.now();
    await this.deps.db.kysely.transaction().execute(async (trx) => {
      const previous = audit
        ? await trx
            .selectFrom('spec_files')
            .select(['path', 'content'])
            .where('path', 'not like', `${MANAGED_PREFIX}%`)
            .execute()
        : [];
      await trx.deleteFrom('spec_files').where('path', 'not like', `${MANAGED_PREFIX}%`).execute();
      if (files.length)
        await trx
          .insertInto('spec_files')
          .values(files.map((f) => ({ path: f.path, content: f.content, updated_at: now })))
          .execute();
      await recordAudit(trx, audit, {
        action: 'spec.upload',
        targetType: 'specs',
        targetId: 'uploaded',
        before: fileDigests(previous),
        after: fileDigests(files),
        atMs: now,
      });
    });
    return this.reload();
  }

  /**
   * Writes one managed file (`MANAGED_PREFIX…`, insert or replace) if, loaded with everything
   * else, it has no error; otherwise stores nothing and answers its errors. It loads the specs
   * twice (to check, then to reload as every replica does): writes of single risks are rare.
   */
  async putManagedFile(
    path: string,
    content: string,
    audit?: ManagedFileAudit,
  ): Promise<{ ok: true; created: boolean } | { ok: false; errors: Diagnostic[] }> {
    checkManagedPath(path);
    const uploaded = await this.uploadedFiles();
    const others = uploaded.filter((f) => f.path !== path);
    const result = await this.loader.load(
      this.deps.path,
      uploadTexts([...others, { path, content }]),
      this.deps.configuredTargets,
    );
    const errors = result.diagnostics.filter(
      (d) => d.severity === 'error' && d.file === `${UPLOAD_PREFIX}${path}`,
    );
    if (errors.length) return { ok: false, errors };
    const now = this.deps.clock.now();
    await this.deps.db.kysely.transaction().execute(async (trx) => {
      const previous = audit ? await managedContent(trx, path) : undefined;
      await trx
        .insertInto('spec_files')
        .values({ path, content, updated_at: now })
        .onConflict((oc) => oc.column('path').doUpdateSet({ content, updated_at: now }))
        .execute();
      await audit?.(trx, previous, now);
    });
    await this.reload();
    return { ok: true, created: others.length === uploaded.length };
  }

  /** The text of one managed file, or undefined when there is none. */
  async readManagedFile(path: string): Promise<string | undefined> {
    checkManagedPath(path);
    const row = await this.deps.db.kysely
      .selectFrom('spec_files')
      .select('content')
      .where('path', '=', path)
      .executeTakeFirst();
    return row?.content;
  }

  /** Removes one managed file; false when there was none. */
  async deleteManagedFile(path: string, audit?: ManagedFileAudit): Promise<boolean> {
    checkManagedPath(path);
    const deleted = await this.deps.db.kysely.transaction().execute(async (trx) => {
      const previous = audit ? await managedContent(trx, path) : undefined;
      const result = await trx.deleteFrom('spec_files').where('path', '=', path).executeTakeFirst();
      const gone = Number(result.numDeletedRows) > 0;
      if (gone) await audit?.(trx, previous, this.deps.clock.now());
      return gone;
    });
    if (!deleted) return false;
    await this.reload();
    return true;
  }

  /**
   * Refuses an upload over `specs.uploadMaxBytes` or `specs.uploadMaxDocuments` (413), or one
   * that defines connections or secrets (400): connections and secrets are never taken over the
   * network. The texts are parsed on the loader's worker (which keeps the parse for the load).
   */
  private async checkUpload(files: readonly { path: string; content: string }[]): Promise<void> {
    const limits = this.deps.uploadLimits ?? DEFAULT_UPLOAD_LIMITS;
    const bytes = files.reduce((sum, f) => sum + Buffer.byteLength(f.content), 0);
    if (bytes > limits.maxBytes)
      throw new AppError(
        'PayloadTooLarge',
        `the upload holds ${bytes} bytes of specs; at most ${limits.maxBytes} (specs.uploadMaxBytes) are accepted — raise it in the server's configuration, or keep the specs in the spec directory (specs.path)`,
      );
    const { documents, untrusted } = await this.loader.checkUpload(uploadTexts(files));
    if (documents > limits.maxDocuments)
      throw new AppError(
        'PayloadTooLarge',
        `the upload holds ${documents} spec documents; at most ${limits.maxDocuments} (specs.uploadMaxDocuments) are accepted — raise it in the server's configuration, or keep the specs in the spec directory (specs.path)`,
      );
    if (untrusted.length) throw untrustedUpload(untrusted);
  }

  /**
   * The file on disk behind a file name in diagnostics and locations (relative to the spec root),
   * or undefined for an uploaded file or a name that would leave the root.
   */
  diskFile(file: string): string | undefined {
    if (!this.deps.path || file.startsWith(UPLOAD_PREFIX)) return undefined;
    let base: string;
    try {
      base = statSync(this.deps.path).isDirectory()
        ? resolve(this.deps.path)
        : dirname(resolve(this.deps.path));
    } catch {
      return undefined;
    }
    const path = resolve(base, file);
    return path.startsWith(base + sep) ? path : undefined;
  }

  private uploadedFiles(): Promise<Array<{ path: string; content: string }>> {
    return this.deps.db.kysely.selectFrom('spec_files').select(['path', 'content']).orderBy('path').execute();
  }

  /**
   * Watches the spec directory (debounced) and polls the database for uploads by other replicas.
   * Returns a function that stops both.
   */
  watch(options: { pollMs?: number; debounceMs?: number } = {}): () => void {
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => void this.reload().catch((e) => this.deps.log.error({ err: e }, 'spec reload failed')),
        options.debounceMs ?? 300,
      );
    };
    if (this.deps.path) {
      try {
        this.watcher = watch(this.deps.path, { recursive: true }, schedule);
        this.watcher.on('error', (err) =>
          this.deps.log.warn({ err }, 'spec watch failed; changes need a restart or PUT /api/v1/specs'),
        );
      } catch (err) {
        this.deps.log.warn({ err }, 'cannot watch the spec directory');
      }
    }
    let lastUploadStamp = '';
    this.poller = setInterval(async () => {
      try {
        const row = await this.deps.db.kysely
          .selectFrom('spec_files')
          .select((eb) => [eb.fn.max('updated_at').as('latest'), eb.fn.countAll().as('count')])
          .executeTakeFirst();
        const stamp = `${row?.latest ?? ''}/${row?.count ?? 0}`;
        if (lastUploadStamp && stamp !== lastUploadStamp) schedule();
        lastUploadStamp = stamp;
      } catch {
        // Database hiccup: the next poll retries; the loaded specs stay as they are.
      }
    }, options.pollMs ?? 10_000);
    this.poller.unref();
    return () => {
      clearTimeout(timer);
      clearInterval(this.poller);
      this.watcher?.close();
    };
  }
}
