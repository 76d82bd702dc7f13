/**
 * package.json's `engines.node` and the locked dependencies agree: every package in
 * package-lock.json runs on the oldest Node Shinrai supports and on the one running the tests, so
 * `npm install` prints no EBADENGINE warning (cookie@2 once wanted Node >= 22; `overrides` pins 1.1).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// npm's own version-range library (a dependency of several tools here), as npm reads `engines`.
const semver = createRequire(import.meta.url)('semver') as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
};

const root = new URL('../../', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  engines: { node: string };
};
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } }>;
};

describe('Node versions', () => {
  const oldest = semver.minVersion(manifest.engines.node)!.version;

  it.each([
    ['the oldest supported', oldest],
    ['the running', process.versions.node],
  ])('%s Node (%s) satisfies every locked package’s engines', (_, version) => {
    expect(semver.satisfies(version, manifest.engines.node)).toBe(true);
    const refusing = Object.entries(lock.packages)
      .filter(
        ([path, entry]) =>
          path !== '' && entry.engines?.node && !semver.satisfies(version, entry.engines.node),
      )
      .map(([path, entry]) => `${path} wants node ${entry.engines!.node}`);
    expect(refusing).toEqual([]);
  });
});
