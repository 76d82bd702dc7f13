/**
 * A parse of spec texts remembered by file name and content hash (pure apart from its memory):
 * reloading unchanged files, or loading an upload right after its size check, parses nothing again.
 */
import { createHash } from 'node:crypto';
import { type ParseSpecText, parseSpecText } from './documents.js';

/** A `parseSpecText` that keeps up to `maxBytes` of parsed text, least recently used evicted first. */
export function createParseCache(maxBytes = 64 * 1024 * 1024): ParseSpecText {
  const cache = new Map<string, { parsed: ReturnType<ParseSpecText>; bytes: number }>();
  let cachedBytes = 0;
  return (file, text) => {
    const key = `${file}\u0000${createHash('sha256').update(text).digest('base64')}`;
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      return hit.parsed;
    }
    const parsed = parseSpecText(file, text);
    const bytes = Buffer.byteLength(text);
    cache.set(key, { parsed, bytes });
    cachedBytes += bytes;
    for (const [oldKey, old] of cache) {
      if (cachedBytes <= maxBytes) break;
      cache.delete(oldKey);
      cachedBytes -= old.bytes;
    }
    return parsed;
  };
}
