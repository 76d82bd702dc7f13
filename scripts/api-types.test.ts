/** The committed web/src/api-schema.d.ts is what `npm run api:types` makes from the server as it is now. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_SCHEMA_FILE, generateApiTypes, openApiDocument, staleness } from './api-types.js';

describe('the web UI’s generated API types', () => {
  it('are current: a server schema change fails here until `npm run api:types` is run', async () => {
    const problem = staleness(readFileSync(API_SCHEMA_FILE, 'utf8'), await generateApiTypes());
    if (problem) expect.fail(problem);
  }, 60_000);

  it('come from the document /api/openapi.json serves, every route the UI reads included', async () => {
    const document = await openApiDocument();
    expect(document.openapi).toMatch(/^3\./);
    for (const path of ['/api/v1/slos', '/api/v1/incidents/{ref}', '/api/v1/backlog', '/api/v1/gate'])
      expect(Object.keys(document.paths ?? {})).toContain(path);
  }, 60_000);

  it('say which command brings them up to date', () => {
    expect(staleness('old', 'new')).toMatch(/does not match .*: run npm run api:types/);
    expect(staleness(undefined, 'new')).toMatch(/missing: run npm run api:types/);
    expect(staleness('same', 'same')).toBeUndefined();
  });
});
