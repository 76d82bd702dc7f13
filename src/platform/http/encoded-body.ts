/**
 * A JSON answer serialised once and compressed at most once per encoding, served with a strong
 * ETag per representation and `304 Not Modified` on a matching `If-None-Match` (docs/api.md#caching).
 * For answers that change rarely and are read often (the SLO list changes once per tick).
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

export type BodyEncoding = 'br' | 'gzip' | 'identity';

/** Below this size compression costs the client more than it saves (as @fastify/compress's threshold). */
const COMPRESS_FROM_BYTES = 1024;

/**
 * Brotli quality 5 for most answers; 4 from a megabyte on: for the SLO page's 30-day history
 * (2.5 MB of JSON) it costs 40 % less CPU (110 against 182 ms) for a body no larger (683 against
 * 705 KB), and the first reader of a new answer waits for it (bench/README.md, soak.bench.ts).
 */
function brotliQuality(bytes: number): number {
  return bytes >= 2 ** 20 ? 4 : 5;
}

export class EncodedBody {
  /** The uncompressed bytes (UTF-8 JSON). */
  readonly identity: Buffer;
  /** Hash of the uncompressed bytes: equal on every replica that built the same answer. */
  readonly hash: string;
  private readonly compressed = new Map<'br' | 'gzip', Promise<Buffer>>();
  private compressedBytes = 0;

  /** `json` as text, or as its UTF-8 bytes when assembled from parts (`src/slo/history-cache.ts`). */
  constructor(json: string | Buffer) {
    this.identity = typeof json === 'string' ? Buffer.from(json, 'utf8') : json;
    this.hash = createHash('sha256').update(this.identity).digest('base64url').slice(0, 32);
  }

  /**
   * Strong ETag of one representation. gzip and br bodies are other byte sequences than the JSON,
   * so each gets its own tag (RFC 9110 §8.8.3); all share the content hash.
   */
  etag(encoding: BodyEncoding): string {
    return encoding === 'identity' ? `"${this.hash}"` : `"${this.hash}-${encoding}"`;
  }

  /** The bytes of one representation; each compressed form is made once, off the event loop. */
  bytes(encoding: BodyEncoding): Promise<Buffer> {
    if (encoding === 'identity') return Promise.resolve(this.identity);
    let pending = this.compressed.get(encoding);
    if (!pending) {
      pending =
        encoding === 'gzip'
          ? gzipAsync(this.identity, { level: 6 })
          : brotliAsync(this.identity, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: brotliQuality(this.identity.length),
                [constants.BROTLI_PARAM_SIZE_HINT]: this.identity.length,
                [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
              },
            });
      // A failure is not kept: the next request tries again.
      pending.then(
        (bytes) => {
          this.compressedBytes += bytes.length;
        },
        () => this.compressed.delete(encoding),
      );
      this.compressed.set(encoding, pending);
    }
    return pending;
  }

  /** Bytes held: the JSON and the compressed forms made so far (for caches bounded by size). */
  get storedBytes(): number {
    return this.identity.length + this.compressedBytes;
  }

  /** True when `If-None-Match` names this content in any of its encodings (or is `*`). */
  matches(ifNoneMatch: string | undefined): boolean {
    if (!ifNoneMatch) return false;
    // Weak comparison, as RFC 9110 §13.1.2 asks for If-None-Match: W/ is ignored.
    return ifNoneMatch.split(',').some((raw) => {
      const tag = raw.trim().replace(/^W\//, '');
      if (tag === '*') return true;
      return tag === `"${this.hash}"` || tag === `"${this.hash}-gzip"` || tag === `"${this.hash}-br"`;
    });
  }
}

/**
 * The encoding to answer with for an `Accept-Encoding` header: the acceptable one with the
 * highest q; on a tie br (the smallest), then gzip. Identity unless the body is large enough.
 */
export function chooseEncoding(acceptEncoding: string | undefined, sizeBytes: number): BodyEncoding {
  if (!acceptEncoding || sizeBytes < COMPRESS_FROM_BYTES) return 'identity';
  const q = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    if (!name) continue;
    let weight = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(param);
      if (match) weight = Number(match[1]);
    }
    q.set(name === 'x-gzip' ? 'gzip' : name, Number.isFinite(weight) ? weight : 0);
  }
  const weight = (name: string) => q.get(name) ?? q.get('*') ?? 0;
  const br = weight('br');
  const gz = weight('gzip');
  if (br > 0 && br >= gz) return 'br';
  if (gz > 0) return 'gzip';
  return 'identity';
}

/**
 * Answers with `body`: 304 when the client's `If-None-Match` names it, else the representation
 * its `Accept-Encoding` prefers, with the headers a cache needs. The route must set
 * `compress: false` (the bytes are compressed here, once).
 */
export async function sendEncoded(
  request: FastifyRequest,
  reply: FastifyReply,
  body: EncodedBody,
): Promise<FastifyReply> {
  const encoding = chooseEncoding(request.headers['accept-encoding'], body.identity.length);
  // Every answer depends on Accept-Encoding, and on the credential (no shared caches); clients
  // revalidate each time, which costs a 304 when nothing changed.
  reply.header('vary', 'accept-encoding, authorization');
  reply.header('cache-control', 'private, no-cache');
  reply.header('etag', body.etag(encoding));
  if (body.matches(request.headers['if-none-match'])) return reply.status(304).send();
  const bytes = await body.bytes(encoding);
  reply.header('content-type', 'application/json; charset=utf-8');
  if (encoding !== 'identity') reply.header('content-encoding', encoding);
  reply.header('content-length', bytes.length);
  return reply.send(bytes);
}
