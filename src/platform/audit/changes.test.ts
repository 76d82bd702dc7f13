import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyChanges, auditChanges, diffFields, isSecretField, REDACTED, redact } from './changes.js';

// Top-level values never null: in a diff, null stands for "absent" (docs/audit.md).
const value = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 3 }),
);
const record = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'status', 'labels'), value, { maxKeys: 6 });

describe('diffFields', () => {
  it('keeps only the changed fields, null for added and removed ones', () => {
    expect(
      diffFields(
        { status: 'investigating', severity: 'SEV3', title: 'x', labels: { a: '1', b: '2' } },
        { status: 'resolved', severity: 'SEV3', title: 'x', labels: { b: '2', a: '1' }, rootCause: 'dns' },
      ),
    ).toEqual({
      before: { status: 'investigating', rootCause: null },
      after: { status: 'resolved', rootCause: 'dns' },
    });
    expect(diffFields(null, { a: 1 })).toEqual({ before: { a: null }, after: { a: 1 } });
    expect(diffFields({ a: 1 }, undefined)).toEqual({ before: { a: 1 }, after: { a: null } });
  });

  it('applying the after of the diff to the before gives the new object; unchanged fields are absent', () => {
    fc.assert(
      fc.property(record, record, (before, after) => {
        const changes = diffFields(before, after);
        expect(applyChanges(before, changes)).toEqual(after);
        for (const key of Object.keys(changes.after))
          expect(JSON.stringify(before[key]) === JSON.stringify(after[key])).toBe(false);
        for (const key of Object.keys(after))
          if (JSON.stringify(before[key]) === JSON.stringify(after[key])) {
            expect(changes.before).not.toHaveProperty(key);
            expect(changes.after).not.toHaveProperty(key);
          }
      }),
      { numRuns: 300 },
    );
  });
});

describe('redaction', () => {
  it('redacts every field named like a secret, in any case or separator', () => {
    const secretNames = [
      'token',
      'botToken',
      'appToken',
      'token_hash',
      'tokenHash',
      'hash',
      'secret',
      'signingSecret',
      'clientSecret',
      'password',
      'smtp_password',
      'authorization',
      'Authorization',
      'apiKey',
      'api_key',
      'x-api-key',
      'credential',
      'credentials',
      'signature',
      'webhookUrl',
      'webhook_url',
      'privateKey',
      'cookie',
    ];
    for (const name of secretNames) {
      expect([name, isSecretField(name)]).toEqual([name, true]);
      expect(redact({ [name]: 'value' })).toEqual({ [name]: REDACTED });
    }
    for (const name of ['tokenId', 'name', 'role', 'title', 'status', 'url', 'service'])
      expect([name, isSecretField(name)]).toEqual([name, false]);
  });

  it('redacts clear tokens, bearer values and URL queries and user-info inside texts, at any depth', () => {
    const token = `shr_abcdefghij12_${'x'.repeat(43)}`;
    expect(
      redact({
        summary: `curl -H 'Authorization: Bearer ${token}'`,
        runbooks: ['https://runbooks.example.com/db?signature=s3cr3t&x=1', 'https://user:pw@example.com/x'],
        nested: { deeper: [{ note: `token ${token} leaked` }] },
        plain: 'https://example.com/ok',
      }),
    ).toEqual({
      summary: `curl -H 'Authorization: Bearer ${REDACTED}'`,
      runbooks: ['https://runbooks.example.com/db?redacted', 'https://redacted@example.com/x'],
      nested: { deeper: [{ note: `token ${REDACTED} leaked` }] },
      plain: 'https://example.com/ok',
    });
  });

  it('redacts the stored changes on both sides', () => {
    expect(auditChanges({ secret: 'a', name: 'x' }, { secret: 'b', name: 'y' })).toEqual({
      before: { secret: REDACTED, name: 'x' },
      after: { secret: REDACTED, name: 'y' },
    });
  });
});
