import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AvailabilityResult,
  type CalcOutcome,
  calculateAvailability,
  kOfDifferentAvailability,
  kOfNAvailability,
  MINUTES_PER_YEAR,
  parallelAvailability,
  serialAvailability,
} from './availability.js';
import {
  calculateFromInput,
  type DependencyInput,
  parseAvailability,
  toModel,
} from './availability-input.js';

function ok(outcome: CalcOutcome): AvailabilityResult {
  if (!outcome.ok) throw new Error(`expected a result, got ${JSON.stringify(outcome.issues)}`);
  return outcome.result;
}

function issues(outcome: CalcOutcome): Array<{ field: string; message: string }> {
  if (outcome.ok) throw new Error('expected issues');
  return outcome.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
}

const calc = (value: unknown) => calculateFromInput(value);

describe('the canon: serial multiplies, n replicas give 1 − (1 − a)^n', () => {
  it.each([
    ['2 × 99.9% in series', { serial: ['a', 'b'] }, 0.998001],
    ['2 × 99.9% in parallel', { parallel: ['a', 'b'] }, 0.999999],
    ['a list is serial', ['a', 'b'], 0.998001],
    ['one component', 'a', 0.999],
  ])('%s = %s', (_name, service, expected) => {
    const result = ok(
      calc({ components: { a: { availability: '99.9%' }, b: { availability: 0.999 } }, service }),
    );
    expect(Math.abs(result.availability - expected)).toBeLessThan(1e-12);
    expect(Math.abs(result.unavailability - (1 - expected))).toBeLessThan(1e-12);
  });

  it('reproduces the canon numbers through the plain helpers', () => {
    expect(Math.abs(serialAvailability([0.999, 0.999]) - 0.998001)).toBeLessThan(1e-12);
    expect(Math.abs(parallelAvailability([0.999, 0.999]) - 0.999999)).toBeLessThan(1e-12);
    expect(Math.abs(kOfNAvailability(0.999, 2, 1) - 0.999999)).toBeLessThan(1e-12);
  });

  it('gives downtime per 30 days and per year (525,960 minutes)', () => {
    const result = ok(calc({ components: { a: { availability: '99.9%' } }, service: 'a' }));
    expect(result.downtimeMinutesPer30Days).toBeCloseTo(43.2, 9);
    expect(result.downtimeMinutesPerYear).toBeCloseTo(525.96, 9);
  });

  it('keeps the digits of tiny unavailabilities (5 × 99.9% in parallel: 1e-15 down)', () => {
    const result = ok(calc({ components: { a: { availability: '99.9%', replicas: 5 } }, service: 'a' }));
    expect(result.unavailability / 1e-15).toBeCloseTo(1, 9);
    expect(result.availability).toBeLessThan(1);
  });
});

describe('k of n', () => {
  it.each([
    [0.99, 3, 2, 0.999702],
    [0.99, 3, 1, 0.999999],
    [0.99, 3, 3, 0.970299],
    [0.999, 2, 2, 0.998001],
    [0.9, 5, 3, 0.99144],
    [0.95, 4, 2, 0.99951875],
    [0.9, 1, 1, 0.9],
    [0, 3, 1, 0],
    [1, 3, 3, 1],
  ])('%s with %s replicas, %s required = %s', (a, n, k, expected) => {
    expect(Math.abs(kOfNAvailability(a, n, k) - expected)).toBeLessThan(1e-12);
    const result = ok(
      calc({ components: { db: { availability: a, replicas: n, required: k } }, service: 'db' }),
    );
    expect(Math.abs(result.availability - expected)).toBeLessThan(1e-12);
  });

  it('agrees between the binomial tail (large n, log space) and the dynamic programme', () => {
    for (const [a, n, k] of [
      [0.99, 100, 95],
      [0.999, 1000, 990],
      [0.5, 200, 100],
      [0.9999, 300, 299],
    ] as const) {
      const binomial = kOfNAvailability(a, n, k);
      const dp = kOfDifferentAvailability(new Array<number>(n).fill(a), k);
      expect(Math.abs(binomial - dp)).toBeLessThan(1e-12);
    }
  });

  it('k of different components by the Poisson binomial (2 of 90%, 80%, 70% = 90.2%)', () => {
    expect(kOfDifferentAvailability([0.9, 0.8, 0.7], 2)).toBeCloseTo(0.902, 12);
    const result = ok(
      calc({
        components: { a: { availability: 0.9 }, b: { availability: 0.8 }, c: { availability: 0.7 } },
        service: { parallel: ['a', 'b', 'c'], required: 2 },
      }),
    );
    expect(result.availability).toBeCloseTo(0.902, 12);
  });

  it('is monotone: requiring more replicas never raises availability', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 12 }), (a, n) => {
        for (let k = 1; k < n; k++)
          expect(kOfNAvailability(a, n, k + 1)).toBeLessThanOrEqual(kOfNAvailability(a, n, k) + 1e-12);
      }),
    );
  });
});

describe('availability and unavailability agree (unavailability carries the digits)', () => {
  it('answers 1000 replicas of 99.9% with 500 required as available 1, unavailable 0 — not 0.9999999999999886 next to 0', () => {
    const result = ok(
      calc({ components: { db: { availability: '99.9%', replicas: 1000, required: 500 } }, service: 'db' }),
    );
    // The true unavailability is ~1e-1200: below the smallest double, so 0, and availability 1.
    expect(result.unavailability).toBe(0);
    expect(result.availability).toBe(1);
    expect(result.dependencyAvailability).toBe(1);
    expect(result.components[0]!.effectiveAvailability).toBe(1);
    expect(result.downtimeMinutesPerYear).toBe(0);
    expect(kOfNAvailability(0.999, 1000, 500)).toBe(1);
  });

  const fraction = fc.oneof(
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.constantFrom(0, 1, 0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999, 0.999999999, 1 - 1e-15),
    fc.integer({ min: 1, max: 15 }).map((nines) => 1 - 10 ** -nines),
  );
  const component = fc
    .record({
      availability: fraction,
      replicas: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constantFrom(1, 2, 3, 100, 500, 1000)),
      k: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.5, 0.9, 1)),
    })
    .map(({ availability, replicas, k }) => ({
      availability,
      replicas,
      required: Math.max(1, Math.min(replicas, Math.ceil(k * replicas))),
    }));

  it('sum to 1 within an ulp, and unavailability is > 0 whenever availability < 1 (any model)', () => {
    fc.assert(
      fc.property(
        fc.array(component, { minLength: 1, maxLength: 4 }),
        fraction,
        fc.constantFrom('serial', 'parallel', 'kof', 'shared'),
        (components, own, shape) => {
          const names = components.map((_, i) => `c${i}`);
          const service =
            shape === 'serial'
              ? { serial: names }
              : shape === 'parallel'
                ? { parallel: names }
                : shape === 'kof'
                  ? { parallel: names, required: Math.ceil(names.length / 2) }
                  : // c0 reached by two branches: computed exactly by factoring on it.
                    { parallel: [{ serial: names }, { serial: [names[0]!, names.at(-1)!] }] };
          const result = ok(
            calc({
              components: Object.fromEntries(components.map((c, i) => [names[i], c])),
              service,
              own,
            }),
          );
          const pairs = [
            [result.availability, result.unavailability],
            [result.dependencyAvailability, null],
            ...result.components.map((c) => [c.effectiveAvailability, null] as const),
          ] as const;
          for (const [a] of pairs) expect(a >= 0 && a <= 1, String(a)).toBe(true);
          const { availability: a, unavailability: u } = result;
          expect(Math.abs(a + u - 1)).toBeLessThanOrEqual(Number.EPSILON);
          if (a < 1) expect(u).toBeGreaterThan(0);
          expect(result.downtimeMinutesPerYear).toBe(u * MINUTES_PER_YEAR);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('nested graphs', () => {
  it('computes the checkout example of the issue', () => {
    const result = ok(
      calc({
        target: '99.99%',
        components: {
          lb: { availability: '99.99%' },
          app: { availability: '99.9%', replicas: 3 },
          db: { availability: '99.95%', replicas: 3, required: 2 },
          'cache-a': { availability: '99.9%' },
          'cache-b': { availability: '99.9%' },
        },
        service: { serial: ['lb', 'app', 'db', { parallel: ['cache-a', 'cache-b'] }] },
      }),
    );
    const app = 1 - 0.001 ** 3;
    const db = 0.9995 ** 3 + 3 * 0.9995 ** 2 * 0.0005;
    const expected = 0.9999 * app * db * (1 - 0.001 ** 2);
    expect(result.availability).toBeCloseTo(expected, 12);
    // The lone 99.99% load balancer alone uses the whole budget: 99.99% is out of reach.
    expect(result.target).toMatchObject({ achievable: false, requiredOwnAvailability: null });
    // The lone load balancer dominates: making it perfect saves the most.
    expect(result.components.map((c) => c.id)).toEqual(['lb', 'cache-a', 'cache-b', 'db', 'app']);
    expect(result.components[0]!.shareOfDowntime).toBeGreaterThan(0.9);
  });

  it('puts a component’s dependsOn in series with its replica set', () => {
    const result = ok(
      calc({
        components: {
          app: { availability: '99%', replicas: 2, dependsOn: ['db'] },
          db: { availability: '99.9%' },
        },
        service: 'app',
      }),
    );
    expect(result.availability).toBeCloseTo((1 - 0.01 ** 2) * 0.999, 12);
  });

  it('factors on a component shared by two branches instead of counting it twice', () => {
    const result = ok(
      calc({
        components: {
          'zone-a': { availability: 0.9, dependsOn: 'db' },
          'zone-b': { availability: 0.9, dependsOn: 'db' },
          db: { availability: 0.99 },
        },
        service: { parallel: ['zone-a', 'zone-b'] },
      }),
    );
    // db up: 1 − 0.1²; db down: nothing works.
    expect(result.availability).toBeCloseTo(0.99 * 0.99, 12);
    expect(result.sharedComponents).toEqual(['db']);
    // The independent formula would have overstated it.
    expect(result.availability).toBeLessThan(parallelAvailability([0.9 * 0.99, 0.9 * 0.99]));
  });

  it('lists components the service does not need', () => {
    const result = ok(
      calc({ components: { a: { availability: 1 }, spare: { availability: 0.5 } }, service: 'a' }),
    );
    expect(result.unusedComponents).toEqual(['spare']);
    expect(result.components.map((c) => c.id)).toEqual(['a']);
  });
});

describe('the target verdict', () => {
  const deps = { components: { a: { availability: '99.9%' }, b: { availability: '99.9%' } } };

  it('says 99.99% is out of reach on two 99.9% dependencies in series, whatever the service does', () => {
    const result = ok(calc({ ...deps, service: ['a', 'b'], target: '99.99%' }));
    expect(result.target).toEqual({
      target: 0.9999,
      achievable: false,
      margin: expect.closeTo(0.998001 - 0.9999, 12),
      requiredOwnAvailability: null,
    });
  });

  it('gives the own availability the service needs on redundant dependencies', () => {
    const result = ok(calc({ ...deps, service: { parallel: ['a', 'b'] }, target: '99.99%', own: '99.995%' }));
    expect(result.target!.achievable).toBe(true);
    expect(result.target!.requiredOwnAvailability).toBeCloseTo(0.9999 / 0.999999, 12);
    expect(result.availability).toBeCloseTo(0.99995 * 0.999999, 12);
    expect(result.dependencyAvailability).toBeCloseTo(0.999999, 12);
  });

  it('counts a target met exactly as reachable despite float noise', () => {
    const result = ok(calc({ ...deps, service: ['a', 'b'], target: '99.8001%' }));
    expect(result.target!.achievable).toBe(true);
    expect(result.target!.requiredOwnAvailability).toBeCloseTo(1, 12);
  });

  it('agrees with itself at the edges: a target of 0 on dependencies that are never up', () => {
    const result = ok(calc({ components: { a: { availability: 0 } }, service: 'a', target: 0 }));
    expect(result.target).toEqual({ target: 0, achievable: true, margin: 0, requiredOwnAvailability: 0 });
    const never = ok(calc({ components: { a: { availability: 0 } }, service: 'a', target: '1%' }));
    expect(never.target).toMatchObject({ achievable: false, requiredOwnAvailability: null });
  });

  it('says short when the own availability is what is missing', () => {
    const result = ok(calc({ ...deps, service: { parallel: ['a', 'b'] }, target: '99.99%', own: '99.9%' }));
    expect(result.target!.achievable).toBe(false);
    expect(result.target!.requiredOwnAvailability).toBeCloseTo(0.9999 / 0.999999, 12);
  });
});

describe('bad input', () => {
  it('reads percentages and fractions, and says how to write anything else', () => {
    expect(parseAvailability('99.9%')).toBe(0.999);
    expect(parseAvailability(' 99.95 % ')).toBe(0.9995);
    expect(parseAvailability('0.999')).toBe(0.999);
    expect(parseAvailability(1)).toBe(1);
    expect(parseAvailability(99.9)).toEqual({ error: expect.stringContaining('write 99.9% or 0.999') });
    expect(parseAvailability('150%')).toEqual({ error: expect.stringContaining('outside 0%–100%') });
    expect(parseAvailability(-0.1)).toEqual({ error: expect.stringContaining('not an availability') });
    expect(parseAvailability('high')).toEqual({ error: expect.stringContaining('not an availability') });
    expect(parseAvailability(null)).toEqual({ error: expect.any(String) });
  });

  it('names an unknown component and suggests the closest', () => {
    expect(
      issues(
        calc({
          components: { database: { availability: 1 } },
          service: ['database', { parallel: ['databse'] }],
        }),
      ),
    ).toEqual([
      {
        field: 'service.1.parallel.0',
        message: expect.stringMatching(/unknown component "databse".*"database"/),
      },
    ]);
  });

  it('names a dependency cycle in order', () => {
    const found = issues(
      calc({
        components: {
          a: { availability: 1, dependsOn: 'b' },
          b: { availability: 1, dependsOn: { serial: ['c'] } },
          c: { availability: 1, dependsOn: ['a'] },
        },
        service: 'a',
      }),
    );
    expect(found).toEqual([{ field: 'components.c.dependsOn', message: 'dependency cycle: a → b → c → a' }]);
  });

  it('refuses k greater than n, for replicas and for parallel groups', () => {
    expect(
      issues(calc({ components: { db: { availability: 1, replicas: 2, required: 3 } }, service: 'db' })),
    ).toEqual([
      { field: 'components.db.required', message: 'required (3) is more than replicas (2) of "db"' },
    ]);
    expect(
      issues(
        calc({ components: { a: { availability: 1 } }, service: { parallel: ['a', 'a'], required: 3 } }),
      ),
    ).toEqual([{ field: 'service.required', message: 'required (3) is more than the 2 items in parallel' }]);
  });

  it('names the field of every shape problem', () => {
    expect(
      issues(
        calc({
          target: 2,
          components: { a: { availability: '120%', replica: 2 }, 'bad name': { availability: 1 } },
          service: { serial: ['a', { parallel: [] }, 3], extra: true },
        }),
      ).map((i) => i.field),
    ).toEqual(
      expect.arrayContaining([
        'target',
        'components.a.availability',
        'components.a.replica',
        'components.bad name',
        'service.extra',
        'service.serial.1.parallel',
        'service.serial.2',
      ]),
    );
    expect(issues(calc({ components: {}, service: 'a' }))[0]!.message).toContain('unknown component "a"');
    expect(issues(calc(null))[0]!.field).toBe('');
  });

  it('refuses nesting deeper than 32 levels without overflowing the stack', () => {
    let service: DependencyInput = 'a';
    for (let i = 0; i < 100_000; i++) service = [service];
    expect(issues(calc({ components: { a: { availability: 1 } }, service }))[0]!.message).toContain('deeper');
  });

  it('refuses a model with too many shared components to compute exactly', () => {
    const components: Record<string, { availability: number }> = {};
    const branches: DependencyInput[] = [];
    for (let i = 0; i < 30; i++) {
      components[`c${i}`] = { availability: 0.9 };
      branches.push({ parallel: [`c${i}`, `c${(i + 1) % 30}`] });
    }
    const found = issues(calc({ components, service: { parallel: branches, required: 2 } }));
    expect(found[0]!.message).toMatch(
      /more than 3 million for one request \(30 components are shared.*split the model/,
    );
  });

  it('refuses k of n groups too large to compute in one request', () => {
    const components: Record<string, { availability: number }> = {};
    for (let i = 0; i < 500; i++) components[`c${i}`] = { availability: 0.99 };
    const found = issues(calc({ components, service: { parallel: Object.keys(components), required: 250 } }));
    expect(found[0]!.message).toMatch(/k of n groups of many items/);
  });

  it('never throws on arbitrary input: a result or located issues', () => {
    const name = fc.constantFrom('a', 'b', 'c', 'zz', '', 'a b');
    const dependency: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      dep: fc.oneof(
        { depthSize: 'small' },
        name,
        fc.array(tie('dep'), { maxLength: 3 }),
        fc.record({ serial: fc.array(tie('dep'), { maxLength: 3 }) }),
        fc.record(
          {
            parallel: fc.array(tie('dep'), { maxLength: 3 }),
            required: fc.oneof(fc.integer(), fc.anything()),
          },
          { requiredKeys: ['parallel'] },
        ),
        fc.anything(),
      ),
    })).dep;
    const availability = fc.oneof(fc.double(), fc.string(), fc.constantFrom('99.9%', '0.5', 0.9, '101%'));
    const body = fc.oneof(
      fc.anything(),
      fc.record(
        {
          target: availability,
          own: availability,
          components: fc.dictionary(
            name,
            fc.record(
              {
                availability,
                replicas: fc.oneof(fc.integer({ min: -1, max: 5 }), fc.anything()),
                required: fc.integer({ min: -1, max: 6 }),
                dependsOn: dependency,
              },
              { requiredKeys: ['availability'] },
            ),
          ),
          service: dependency,
        },
        { requiredKeys: ['components', 'service'] },
      ),
    );
    fc.assert(
      fc.property(body, (value) => {
        const outcome = calc(value);
        if (outcome.ok) {
          expect(outcome.result.availability).toBeGreaterThanOrEqual(0);
          expect(outcome.result.availability).toBeLessThanOrEqual(1);
        } else {
          expect(outcome.issues.length).toBeGreaterThan(0);
          for (const issue of outcome.issues) expect(issue.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });
});

/** Small random models: components c0…c(n−1), each may depend on later ones (no cycles). */
const modelArbitrary = (options: { shared: boolean }) =>
  fc.integer({ min: 1, max: 5 }).chain((n) => {
    const ids = Array.from({ length: n }, (_, i) => `c${i}`);
    const component = (i: number) =>
      fc.record({
        availability: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1, 0.999, 0.5)),
        replicas: fc.integer({ min: 1, max: 3 }),
        required: fc.integer({ min: 1, max: 3 }),
        dependsOn:
          options.shared && i < n - 1
            ? fc.option(fc.constantFrom(...ids.slice(i + 1)), { nil: undefined })
            : fc.constant(undefined),
      });
    const expr = (pool: readonly string[]): fc.Arbitrary<DependencyInput> =>
      fc.letrec<{ dep: DependencyInput }>((tie) => ({
        dep: fc.oneof(
          { depthSize: 'small', maxDepth: 3 },
          fc.constantFrom(...pool),
          fc.record({ serial: fc.array(tie('dep'), { minLength: 1, maxLength: 3 }) }),
          fc.array(tie('dep'), { minLength: 1, maxLength: 3 }).chain((items) =>
            fc.record({
              parallel: fc.constant(items),
              required: fc.integer({ min: 1, max: items.length }),
            }),
          ),
        ),
      })).dep;
    return fc
      .tuple(fc.tuple(...ids.map((_, i) => component(i))), options.shared ? expr(ids) : fc.constant(null))
      .map(([cs, service]) => ({
        components: Object.fromEntries(
          cs.map((c, i) => [
            ids[i]!,
            {
              ...c,
              required: Math.min(c.required, c.replicas),
              ...(c.dependsOn ? { dependsOn: c.dependsOn } : {}),
            },
          ]),
        ),
        service: service ?? { serial: ids },
      }));
  });

type Model = {
  components: Record<
    string,
    { availability: number; replicas: number; required: number; dependsOn?: string }
  >;
  service: DependencyInput;
};

/** The structure function: is the service up with these components up? */
function up(model: Model, state: ReadonlyMap<string, boolean>, d: DependencyInput = model.service): boolean {
  if (typeof d === 'string') {
    const dependsOn = model.components[d]!.dependsOn;
    return state.get(d)! && (dependsOn === undefined || up(model, state, dependsOn));
  }
  if (Array.isArray(d)) return d.every((x) => up(model, state, x));
  if ('serial' in d) return d.serial.every((x) => up(model, state, x));
  const p = d as { parallel: DependencyInput[]; required?: number };
  return p.parallel.filter((x) => up(model, state, x)).length >= (p.required ?? 1);
}

/** Exact availability by enumerating every up/down state of every component's replica set. */
function bruteForce(model: Model): number {
  const ids = Object.keys(model.components);
  let total = 0;
  for (let mask = 0; mask < 2 ** ids.length; mask++) {
    let weight = 1;
    const state = new Map<string, boolean>();
    ids.forEach((id, i) => {
      const c = model.components[id]!;
      const p = kOfNAvailability(c.availability, c.replicas, c.required);
      const isUp = (mask & (1 << i)) !== 0;
      state.set(id, isUp);
      weight *= isUp ? p : 1 - p;
    });
    if (weight > 0 && up(model, state)) total += weight;
  }
  return total;
}

/** The textbook formula, counting every occurrence as independent. */
function independent(model: Model, d: DependencyInput = model.service): number {
  if (typeof d === 'string') {
    const c = model.components[d]!;
    return kOfNAvailability(c.availability, c.replicas, c.required);
  }
  if (Array.isArray(d)) return serialAvailability(d.map((x) => independent(model, x)));
  if ('serial' in d) return serialAvailability(d.serial.map((x) => independent(model, x)));
  const p = d as { parallel: DependencyInput[]; required?: number };
  return kOfDifferentAvailability(
    p.parallel.map((x) => independent(model, x)),
    p.required ?? 1,
  );
}

describe('rounding at the edges', () => {
  it('keeps figures finite when a k-of-n sum rounds past 1 (a case fast-check found)', () => {
    // 2 of 3 replicas at 4.8e-16: P(fewer than 2 up) summed to 1 + 1 ulp, and log1p(−u) was NaN.
    const result = ok(
      calc({
        components: {
          c3: { availability: 0, dependsOn: 'c4' },
          c4: { availability: 4.81096644004235e-16, replicas: 3, required: 2 },
        },
        service: { parallel: ['c3'] },
      }),
    );
    expect(result.availability).toBe(0);
    expect(result.unavailability).toBe(1);
    expect(result.downtimeMinutesPerYear).toBe(MINUTES_PER_YEAR);
    for (const c of result.components) expect(Number.isFinite(c.downtimeMinutesPerYearSaved)).toBe(true);
  });
});

describe('properties', () => {
  it('factoring equals brute-force enumeration of all up/down states, shared components included', () => {
    fc.assert(
      fc.property(modelArbitrary({ shared: true }), (model) => {
        const result = ok(calc(model));
        expect(Math.abs(result.availability - bruteForce(model as Model))).toBeLessThan(1e-9);
      }),
      { numRuns: 300 },
    );
  });

  it('factoring equals the independent formula when nothing is shared', () => {
    const tree = fc.integer({ min: 1, max: 6 }).chain((n) => {
      const ids = Array.from({ length: n }, (_, i) => `c${i}`);
      // Split the ids into a random tree where each appears once.
      const build = (pool: string[]): fc.Arbitrary<DependencyInput> =>
        pool.length === 1
          ? fc.constant(pool[0]!)
          : fc
              .tuple(fc.integer({ min: 1, max: pool.length - 1 }), fc.boolean(), fc.nat())
              .chain(([cut, serial, k]) =>
                fc
                  .tuple(build(pool.slice(0, cut)), build(pool.slice(cut)))
                  .map(([left, right]) =>
                    serial ? { serial: [left, right] } : { parallel: [left, right], required: (k % 2) + 1 },
                  ),
              );
      return fc
        .tuple(
          build(ids),
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
          fc.array(fc.integer({ min: 1, max: 3 }), { minLength: n, maxLength: n }),
        )
        .map(([service, as, ns]) => ({
          components: Object.fromEntries(
            ids.map((id, i) => [id, { availability: as[i]!, replicas: ns[i]!, required: 1 }]),
          ),
          service,
        }));
    });
    fc.assert(
      fc.property(tree, (model) => {
        const result = ok(calc(model));
        expect(result.sharedComponents).toEqual([]);
        expect(Math.abs(result.availability - independent(model as Model))).toBeLessThan(1e-12);
      }),
    );
  });

  const availabilities = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 });
  const one = fc.double({ min: 0, max: 1, noNaN: true });

  it('serial ≤ the least part, parallel ≥ the best part', () => {
    fc.assert(
      fc.property(availabilities, (as) => {
        expect(serialAvailability(as)).toBeLessThanOrEqual(Math.min(...as) + 1e-15);
        expect(parallelAvailability(as)).toBeGreaterThanOrEqual(Math.max(...as) - 1e-15);
      }),
    );
  });

  it('adding a parallel replica never lowers availability; adding a serial dependency never raises it', () => {
    fc.assert(
      fc.property(availabilities, one, (as, extra) => {
        expect(parallelAvailability([...as, extra])).toBeGreaterThanOrEqual(parallelAvailability(as) - 1e-15);
        expect(serialAvailability([...as, extra])).toBeLessThanOrEqual(serialAvailability(as) + 1e-15);
      }),
    );
  });

  it('adding a replica to a component of a model never lowers the service’s availability', () => {
    fc.assert(
      fc.property(modelArbitrary({ shared: true }), fc.nat(), (model, pick) => {
        const ids = Object.keys(model.components);
        const id = ids[pick % ids.length]!;
        const more = {
          ...model,
          components: {
            ...model.components,
            [id]: { ...model.components[id]!, replicas: model.components[id]!.replicas + 1 },
          },
        };
        expect(ok(calc(more)).availability).toBeGreaterThanOrEqual(ok(calc(model)).availability - 1e-12);
      }),
      { numRuns: 200 },
    );
  });

  it('“if perfect” never lowers the result, and the list is sorted by downtime saved', () => {
    fc.assert(
      fc.property(modelArbitrary({ shared: true }), (model) => {
        const result = ok(calc(model));
        const saved = result.components.map((c) => c.downtimeMinutesPerYearSaved);
        expect(saved).toEqual([...saved].sort((a, b) => b - a));
        for (const c of result.components) {
          expect(c.availabilityIfPerfect).toBeGreaterThanOrEqual(result.availability - 1e-12);
          expect(c.downtimeMinutesPerYearSaved).toBeLessThanOrEqual(result.downtimeMinutesPerYear + 1e-6);
        }
        expect(result.downtimeMinutesPerYear).toBeCloseTo(result.unavailability * MINUTES_PER_YEAR, 6);
      }),
      { numRuns: 200 },
    );
  });

  it('computes the model the core receives, not a re-parse (toModel keeps paths)', () => {
    const model = toModel({ components: { a: { availability: 0.5 } }, service: { parallel: ['a', 'b'] } });
    expect(calculateAvailability(model)).toEqual({
      ok: false,
      issues: [
        { path: ['service', 'parallel', 1], message: expect.stringContaining('unknown component "b"') },
      ],
    });
  });
});
