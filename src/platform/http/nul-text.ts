/**
 * The NUL character (U+0000) in request text (pure): PostgreSQL cannot store it in text, so a name
 * or value holding it would be a 500 there and stored on SQLite. It is refused at the edge instead,
 * the same on both databases: `%00` in the URL, `\u0000` in a JSON body.
 */

/** `%00` anywhere in a raw URL: the only way a NUL reaches a path parameter or a query value. */
export function urlHasNul(url: string): boolean {
  return /%00/.test(url);
}

/**
 * Where in a parsed JSON value a string (or key) holds NUL, as `items[3].name`; undefined when none.
 * `rawText` lets the common case (no `\u0000` escape in the text) skip the walk.
 */
export function nulPath(value: unknown, rawText: string): string | undefined {
  if (!rawText.includes('\\u0000')) return undefined;
  const walk = (v: unknown, path: string): string | undefined => {
    if (typeof v === 'string') return v.includes('\u0000') ? path || 'body' : undefined;
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) {
        const found = walk(item, `${path}[${i}]`);
        if (found) return found;
      }
      return undefined;
    }
    if (v === null || typeof v !== 'object') return undefined;
    for (const [key, item] of Object.entries(v)) {
      const at = path ? `${path}.${key}` : key;
      if (key.includes('\u0000')) return at;
      const found = walk(item, at);
      if (found) return found;
    }
    return undefined;
  };
  return walk(value, '');
}
