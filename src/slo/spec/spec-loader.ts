/**
 * Loads specs on a worker thread (load-worker.ts), so parsing and resolving thousands of objects
 * never blocks the server's event loop: /healthz, ingestion and the API keep answering during an
 * upload or a reload. One worker per process (loading depends only on its inputs, so every spec
 * store can share it), started on first use, requests answered in order; a worker that dies fails
 * its pending requests and is started again on the next one.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ConfiguredTargetName } from '../../platform/notification-targets.js';
import type { Diagnostic } from './diagnostics.js';
import type { LoadResult } from './load.js';

export type LoaderRequest =
  | {
      readonly id: number;
      readonly kind: 'load';
      readonly path: string | undefined;
      readonly texts: readonly { file: string; text: string }[];
      /** Notification targets configured on the server: names and kinds only, never url or secret. */
      readonly configuredTargets?: readonly ConfiguredTargetName[] | undefined;
    }
  | {
      readonly id: number;
      readonly kind: 'check-upload';
      readonly texts: readonly { file: string; text: string }[];
    };

/** What an upload holds before it is stored: its spec objects, and what it may not define. */
export interface UploadCheck {
  readonly documents: number;
  /** Connections and secrets (origin.ts): an upload with any is refused whole. */
  readonly untrusted: readonly Diagnostic[];
}

/** A load as the worker answers it, with a hash of its catalog and diagnostics (what changed). */
export type WorkerLoadResult = LoadResult & { readonly fingerprint: string };

export type LoaderResponse =
  | { readonly id: number; readonly ok: true; readonly result: WorkerLoadResult }
  | { readonly id: number; readonly ok: true; readonly check: UploadCheck }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** The main thread took a part and had a turn of its event loop: the worker may send the next. */
export interface LoaderAck {
  readonly id: number;
  readonly kind: 'ack';
}

/** Some items of one list of a load, sent ahead of the load itself. */
export interface LoaderPart {
  readonly id: number;
  readonly part: { readonly path: readonly string[]; readonly items: readonly unknown[] };
}

/**
 * Items per message when a load crosses to the main thread. Each message is deserialised in a
 * turn of its own, so 2,000 SLOs arrive as forty short pauses of the event loop instead of one
 * long one; the worker sends a part only after the previous one was acknowledged, else queued
 * parts would all be delivered in one turn.
 */
export const ITEMS_PER_PART = 50;

type Lists = Record<string, unknown>;

function listAt(root: Lists, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Lists | undefined)?.[key], root);
}

/** The worker's side: every list longer than a part goes in parts, then the load without them. */
export function loadMessages(id: number, result: WorkerLoadResult): Array<LoaderPart | LoaderResponse> {
  const rest = { ...result, catalog: { ...result.catalog } } as unknown as Lists;
  const paths = [
    ['files'],
    ['alertWindows'],
    ['diagnostics'],
    ...Object.keys(result.catalog).map((key) => ['catalog', key]),
  ];
  const parts: LoaderPart[] = [];
  for (const path of paths) {
    const list = listAt(rest, path);
    if (!Array.isArray(list) || list.length <= ITEMS_PER_PART) continue;
    for (let at = 0; at < list.length; at += ITEMS_PER_PART)
      parts.push({ id, part: { path, items: list.slice(at, at + ITEMS_PER_PART) } });
    const parent = listAt(rest, path.slice(0, -1)) as Lists;
    parent[path[path.length - 1]!] = [];
  }
  return [...parts, { id, ok: true, result: rest as unknown as WorkerLoadResult }];
}

/** The main thread's side: puts the parts back into the lists they came from, in order. */
function assemble(result: WorkerLoadResult, parts: readonly LoaderPart['part'][]): WorkerLoadResult {
  for (const { path, items } of parts) (listAt(result as unknown as Lists, path) as unknown[]).push(...items);
  return result;
}

type Pending = {
  resolve: (response: LoaderResponse) => void;
  reject: (error: Error) => void;
  parts: LoaderPart['part'][];
};

/**
 * How to start the worker. Built (dist/…/spec-loader.js), it is the compiled load-worker.js beside
 * this file. Run from sources (vitest, tsx), this file is a .ts and so is the worker, which needs
 * tsx's loader — and Node 20 applies neither the parent's loader nor `--import` in execArgv to a
 * worker's entry — so a two-line bootstrap registers tsx in the worker, then imports the entry.
 */
function workerEntry(): { code: URL | string; eval: boolean } {
  if (!import.meta.url.endsWith('.ts'))
    return { code: new URL('./load-worker.js', import.meta.url), eval: false };
  const require = createRequire(import.meta.url);
  const tsxRoot = dirname(require.resolve('tsx/package.json'));
  const manifest = require('tsx/package.json') as {
    exports: Record<string, { import: { default: string } }>;
  };
  const api = pathToFileURL(join(tsxRoot, manifest.exports['./esm/api']!.import.default)).href;
  const entry = new URL('./load-worker.ts', import.meta.url).href;
  return {
    eval: true,
    code: `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`,
  };
}

export class SpecLoader {
  private static sharedLoader: SpecLoader | undefined;

  /** The process's loader. */
  static shared(): SpecLoader {
    SpecLoader.sharedLoader ??= new SpecLoader();
    return SpecLoader.sharedLoader;
  }

  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /**
   * Loads the spec tree at `path` (named relative to it) and the given texts; `targetRef`s may
   * name `configuredTargets` (notificationTargets.<name> of the configuration).
   */
  async load(
    path: string | undefined,
    texts: readonly { file: string; text: string }[],
    configuredTargets?: readonly ConfiguredTargetName[],
  ): Promise<WorkerLoadResult> {
    const response = await this.request({ id: this.nextId++, kind: 'load', path, texts, configuredTargets });
    if (!('result' in response)) throw new Error('spec loader answered a load without a result');
    return response.result;
  }

  /** Checks uploaded texts before they are stored (their parse is kept for the load that follows). */
  async checkUpload(texts: readonly { file: string; text: string }[]): Promise<UploadCheck> {
    const response = await this.request({ id: this.nextId++, kind: 'check-upload', texts });
    if (!('check' in response)) throw new Error('spec loader answered a check without one');
    return response.check;
  }

  /** Stops the worker; a later request starts a new one. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private request(request: LoaderRequest): Promise<LoaderResponse> {
    const worker = this.started();
    // Referenced while it works (a CLI or a starting server waits for it), unreferenced when idle.
    worker.ref();
    return new Promise<LoaderResponse>((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject, parts: [] });
      worker.postMessage(request);
    }).then((response) => {
      if (!this.pending.size) worker.unref();
      if (!response.ok) throw new Error(`loading specs failed: ${response.error}`);
      return response;
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const entry = workerEntry();
    const worker = new Worker(entry.code, { eval: entry.eval, name: 'shinrai-spec-loader' });
    // An idle loader must not keep a stopping process alive.
    worker.unref();
    worker.on('message', (message: LoaderResponse | LoaderPart) => {
      const waiting = this.pending.get(message.id);
      if ('part' in message) {
        waiting?.parts.push(message.part);
        const ack: LoaderAck = { id: message.id, kind: 'ack' };
        setImmediate(() => worker.postMessage(ack));
        return;
      }
      this.pending.delete(message.id);
      if (waiting && 'result' in message)
        waiting.resolve({ ...message, result: assemble(message.result, waiting.parts) });
      else waiting?.resolve(message);
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', (error) => fail(new Error(`the spec loader failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new Error(`the spec loader stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }
}
