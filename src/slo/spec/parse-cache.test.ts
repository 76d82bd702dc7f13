import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSpecTree } from './documents.js';
import { loadSpecSources } from './load.js';
import { createParseCache } from './parse-cache.js';

const SHOP = fileURLToPath(new URL('../../../examples/shop', import.meta.url));

describe('parse cache', () => {
  it('gives the same load as a fresh parse, however often a parse is reused', async () => {
    const parse = createParseCache();
    const fresh = await loadSpecSources(SHOP, [], undefined, { rootRelative: true });
    for (let i = 0; i < 3; i++)
      expect(await loadSpecSources(SHOP, [], undefined, { rootRelative: true, parse })).toEqual(fresh);
  });

  it('parses a file again only when its name or content changes', () => {
    const parse = createParseCache();
    const a = parse('a.yaml', 'x: 1');
    expect(parse('a.yaml', 'x: 1')).toBe(a);
    expect(parse('b.yaml', 'x: 1')).not.toBe(a);
    expect(parse('a.yaml', 'x: 2')).not.toBe(a);
  });

  it('keeps at most its byte budget, dropping the least recently used', () => {
    const parse = createParseCache(10);
    const a = parse('a.yaml', 'x: 1'); // 4 bytes
    const b = parse('b.yaml', 'y: 1');
    expect(parse('a.yaml', 'x: 1')).toBe(a); // a is now the most recent
    parse('c.yaml', 'z: 1'); // 12 bytes: b goes
    expect(parse('a.yaml', 'x: 1')).toBe(a);
    expect(parse('b.yaml', 'y: 1')).not.toBe(b);
  });
});

describe('spec file names on a server', () => {
  it('are relative to the spec root, never absolute, for a directory and for a single file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shinrai-root-'));
    writeFileSync(join(dir, 'a.yaml'), 'apiVersion: nope\n');
    const tree = await readSpecTree(dir, '/', { rootRelative: true });
    expect(tree.files).toEqual(['a.yaml']);
    expect(tree.diagnostics).toEqual([]);
    const single = await loadSpecSources(join(dir, 'a.yaml'), [], '/', { rootRelative: true });
    expect(single.files).toEqual(['a.yaml']);
    expect(single.diagnostics.map((d) => d.file)).toEqual(['a.yaml']);
    const missing = await loadSpecSources(join(dir, 'gone'), [], '/', { rootRelative: true });
    expect(missing.diagnostics.map((d) => [d.file, d.rule])).toEqual([['gone', 'spec/not-found']]);
    // The CLI keeps naming files from where it runs.
    expect((await readSpecTree(dir, '/')).files).toEqual([join(dir, 'a.yaml').slice(1)]);
  });
});
