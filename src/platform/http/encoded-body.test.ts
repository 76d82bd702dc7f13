import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { chooseEncoding, EncodedBody } from './encoded-body.js';

describe('chooseEncoding', () => {
  const big = 10_000;
  it('prefers br on a tie, then gzip, and honours q values', () => {
    expect(chooseEncoding('gzip, deflate, br', big)).toBe('br');
    expect(chooseEncoding('gzip', big)).toBe('gzip');
    expect(chooseEncoding('x-gzip', big)).toBe('gzip');
    expect(chooseEncoding('br;q=0.5, gzip', big)).toBe('gzip');
    expect(chooseEncoding('br;q=0, gzip;q=0', big)).toBe('identity');
    expect(chooseEncoding('*', big)).toBe('br');
    expect(chooseEncoding('*;q=0, gzip', big)).toBe('gzip');
    expect(chooseEncoding('deflate', big)).toBe('identity');
    expect(chooseEncoding('identity', big)).toBe('identity');
  });
  it('answers identity without the header or for a small body', () => {
    expect(chooseEncoding(undefined, big)).toBe('identity');
    expect(chooseEncoding('', big)).toBe('identity');
    expect(chooseEncoding('gzip, br', 100)).toBe('identity');
  });
});

describe('EncodedBody', () => {
  const json = JSON.stringify({ a: 'x'.repeat(5000), b: [1, 2, 3] });
  it('tags each representation and matches any of them, W/ or not, or *', () => {
    const body = new EncodedBody(json);
    const tags = (['identity', 'gzip', 'br'] as const).map((e) => body.etag(e));
    expect(new Set(tags).size).toBe(3);
    for (const tag of tags) {
      expect(body.matches(tag)).toBe(true);
      expect(body.matches(`W/${tag}`)).toBe(true);
      expect(body.matches(`"nope", ${tag}`)).toBe(true);
    }
    expect(body.matches('*')).toBe(true);
    expect(body.matches('"nope"')).toBe(false);
    expect(body.matches(undefined)).toBe(false);
    expect(new EncodedBody(json).etag('gzip')).toBe(body.etag('gzip'));
    expect(new EncodedBody(`${json} `).etag('identity')).not.toBe(body.etag('identity'));
  });
  it('compresses once per encoding, to bytes that decode to the JSON', async () => {
    const body = new EncodedBody(json);
    const first = body.bytes('gzip');
    expect(body.bytes('gzip')).toBe(first);
    expect(gunzipSync(await first).toString('utf8')).toBe(json);
    expect((await body.bytes('identity')).toString('utf8')).toBe(json);
  });
  it('counts the bytes it holds: the JSON, then each compressed form once made', async () => {
    const body = new EncodedBody(json);
    expect(body.storedBytes).toBe(Buffer.byteLength(json));
    const gzip = await body.bytes('gzip');
    expect(body.storedBytes).toBe(Buffer.byteLength(json) + gzip.length);
    const br = await body.bytes('br');
    await body.bytes('br');
    expect(body.storedBytes).toBe(Buffer.byteLength(json) + gzip.length + br.length);
  });
});
