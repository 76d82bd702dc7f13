import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { sharedFixture } from '../../../test/support/fixtures.js';
import { loadSpecText } from './load.js';

/** Every fixture file as text: the seeds the fuzzer mutates. */
function seeds(): Array<{ name: string; text: string }> {
  const out: Array<{ name: string; text: string }> = [];
  for (const dir of ['openslo/v1', 'openslo/v1-upstream', 'sloth/in']) {
    const path = sharedFixture(dir);
    for (const file of readdirSync(path))
      out.push({ name: file, text: readFileSync(join(path, file), 'utf8') });
  }
  out.push({
    name: 'shop.yaml',
    text: readFileSync(new URL('../../../examples/shop/checkout.yaml', import.meta.url), 'utf8'),
  });
  return out;
}

/** A located diagnostic points inside the text (line 1 … last line + 1, column ≥ 1). */
function expectLocated(text: string, result: ReturnType<typeof loadSpecText>): void {
  const lines = text.split('\n').length;
  for (const d of result.diagnostics) {
    expect(d.line).toBeGreaterThanOrEqual(1);
    expect(d.line).toBeLessThanOrEqual(lines + 1);
    expect(d.column).toBeGreaterThanOrEqual(1);
    expect(d.rule).toMatch(/^[a-z0-9-]+\/[a-z0-9-]+$/);
    expect(d.message.length).toBeGreaterThan(0);
  }
}

type Mutation =
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'line'; at: number; drop: boolean };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Delete a span of characters.
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  // Insert noise: YAML punctuation, numbers, odd unicode, a stray key.
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(
      fc.constantFrom(
        ':',
        '- ',
        '[',
        ']',
        '{',
        '}',
        '"',
        "'",
        '\t',
        '\n',
        '  ',
        '#',
        '&a',
        '*a',
        '!!int ',
        '---\n',
        '0',
        '-1',
        '1e309',
        'null',
        '~',
        '99.999',
        '1M',
        'op: gt',
        '\u0000',
        '😀',
      ),
      fc.string({ maxLength: 12 }),
    ),
  }),
  // Duplicate or drop a whole line.
  fc.record({ kind: fc.constant('line' as const), at: fc.nat(), drop: fc.boolean() }),
);

function mutate(text: string, steps: readonly Mutation[]): string {
  let out = text;
  for (const step of steps) {
    const at = out.length ? step.at % out.length : 0;
    if (step.kind === 'delete') out = out.slice(0, at) + out.slice(at + step.length);
    else if (step.kind === 'insert') out = out.slice(0, at) + step.text + out.slice(at);
    else {
      const lines = out.split('\n');
      const i = lines.length ? step.at % lines.length : 0;
      if (step.drop) lines.splice(i, 1);
      else lines.splice(i, 0, lines[i] ?? '');
      out = lines.join('\n');
    }
  }
  return out;
}

describe('spec loader fuzzing', () => {
  const corpus = seeds();

  it('never throws on mutated fixture text, and every problem is located', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: corpus.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (index, steps) => {
          const seed = corpus[index]!;
          const text = mutate(seed.text, steps);
          const result = loadSpecText(seed.name, text);
          expectLocated(text, result);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('never throws on arbitrary values in place of a valid SLO’s fields', () => {
    const base = {
      apiVersion: 'openslo/v1',
      kind: 'SLO',
      metadata: { name: 'x' },
      spec: {
        service: 'svc',
        indicator: { metadata: { name: 'i' }, spec: { ratioMetric: { good: {}, total: {} } } },
        timeWindow: [{ duration: '28d', isRolling: true }],
        budgetingMethod: 'Timeslices',
        objectives: [{ target: 0.99 }],
      },
    };
    const paths = [
      ['metadata'],
      ['metadata', 'name'],
      ['metadata', 'labels'],
      ['metadata', 'annotations'],
      ['spec', 'timeWindow'],
      ['spec', 'timeWindow', 0],
      ['spec', 'objectives', 0],
      ['spec', 'objectives', 0, 'timeSliceWindow'],
      ['spec', 'indicator', 'spec'],
      ['spec', 'alertPolicies'],
      ['spec'],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.jsonValue(), (path, value) => {
        const doc = structuredClone(base) as Record<string, unknown>;
        let target = doc as Record<string | number, unknown>;
        for (const key of path.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
        target[path[path.length - 1]!] = value;
        const text = stringify(doc);
        expectLocated(text, loadSpecText('fuzz.yaml', text));
      }),
      { numRuns: 400 },
    );
  });
});
