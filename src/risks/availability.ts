/**
 * Availability composition: what a service can reach on top of its dependencies. Pure (no I/O):
 * a model of components and a dependency expression in, the achievable availability, the verdict
 * on a target and what to improve first out.
 *
 * Assumptions (docs/calculator.md): failures are independent, availabilities are steady-state
 * fractions of time up. Serial availability multiplies; k of n independent items are up with the
 * Poisson-binomial (binomial for identical replicas) probability, so 1 of n identical replicas
 * gives 1 − (1 − a)^n. A component referenced from two branches is one component: the result is
 * exact (factoring on it), not the independent formula.
 */
import { closest, distance } from 'fastest-levenshtein';

/** Where in the input a value sits (`['components', 'db', 'required']`), for located errors. */
export type CalcPath = readonly (string | number)[];

export interface CalcIssue {
  readonly path: CalcPath;
  readonly message: string;
}

/** A component: one instance's availability, optionally k of n identical independent replicas. */
export interface Component {
  readonly id: string;
  /** Availability of one instance, a fraction in [0, 1]. */
  readonly availability: number;
  /** Identical independent replicas (default 1). */
  readonly replicas: number;
  /** Replicas that must be up (default 1: any one suffices). */
  readonly required: number;
  /** What every replica needs in series (shared by the replicas, not replicated). */
  readonly dependsOn?: Dependency | undefined;
}

/** A dependency expression: a component, all of some (serial), or k of n (parallel, k = 1 by default). */
export type Dependency =
  | { readonly kind: 'component'; readonly id: string; readonly path: CalcPath }
  | { readonly kind: 'serial'; readonly items: readonly Dependency[]; readonly path: CalcPath }
  | {
      readonly kind: 'parallel';
      readonly items: readonly Dependency[];
      readonly required: number;
      readonly path: CalcPath;
    };

export interface AvailabilityModel {
  readonly components: ReadonlyMap<string, Component>;
  /** What the service needs to be up. */
  readonly service: Dependency;
  /** The service's own availability (its code, its deploys), in series; 1 gives the ceiling. */
  readonly own: number;
  readonly target?: number | undefined;
}

export interface TargetVerdict {
  readonly target: number;
  readonly achievable: boolean;
  /** availability − target: negative when short. */
  readonly margin: number;
  /** The own availability the service would need on these dependencies; null when even 100% is not enough. */
  readonly requiredOwnAvailability: number | null;
}

/** One component's part in the result; the list is sorted by what improving it would buy. */
export interface ComponentContribution {
  readonly id: string;
  readonly availability: number;
  readonly replicas: number;
  readonly required: number;
  /** Availability of the component's replica set (k of n), without its dependencies. */
  readonly effectiveAvailability: number;
  /** The service's availability if this component (its replica set) never failed. */
  readonly availabilityIfPerfect: number;
  /** Downtime per year that would go away with it. */
  readonly downtimeMinutesPerYearSaved: number;
  /** Share of the service's unavailability that would go away, in [0, 1]. */
  readonly shareOfDowntime: number;
}

export interface AvailabilityResult {
  /** own × dependencies. */
  readonly availability: number;
  /** Computed without cancellation; `availability` is 1 − this, so the two always agree. */
  readonly unavailability: number;
  /** What the dependencies allow: the best availability achievable (own = 100%). */
  readonly dependencyAvailability: number;
  readonly own: number;
  readonly downtimeMinutesPer30Days: number;
  readonly downtimeMinutesPerYear: number;
  readonly target: TargetVerdict | null;
  readonly components: readonly ComponentContribution[];
  /** Components reached by more than one path, computed exactly by factoring on their state. */
  readonly sharedComponents: readonly string[];
  /** Components defined but not needed by the service. */
  readonly unusedComponents: readonly string[];
}

export type CalcOutcome =
  | { readonly ok: true; readonly result: AvailabilityResult }
  | { readonly ok: false; readonly issues: readonly CalcIssue[] };

/** Minutes in 30 days and in a year of 365.25 days (the canon's 525,960). */
export const MINUTES_PER_30_DAYS = 43_200;
export const MINUTES_PER_YEAR = 525_960;

/** Limits that keep one request's work bounded (exact factoring is exponential in shared components). */
export const CALC_LIMITS = {
  components: 500,
  replicas: 1000,
  expandedNodes: 10_000,
  /**
   * Steps in total: (components + 1) × (2^shared × the steps of one evaluation once the parts
   * without a shared component are folded into constants + the steps of folding them): about a
   * third of a second.
   */
  work: 3_000_000,
} as const;

/** Comparisons with a target tolerate float noise: 2 × 99.9% in series reaches 99.8001%. */
const TOLERANCE = 1e-12;

/** An availability kept with its unavailability so neither loses digits near 0 or 1. */
interface Prob {
  readonly a: number;
  readonly u: number;
}

const UP: Prob = { a: 1, u: 0 };
const DOWN: Prob = { a: 0, u: 1 };

const prob = (a: number): Prob => ({ a, u: 1 - a });

/** Sums of rounded terms can stray past 1 by an ulp; results stay fractions (and −0 becomes 0). */
const clamp01 = (x: number) => Math.min(1, Math.max(0, x)) + 0;

/**
 * The availability a result reports: 1 − its unavailability. The unavailability carries the
 * digits (every path computes it without cancellation: products and sums of down-probabilities,
 * log1p/expm1), so deriving the availability from it keeps the two consistent — they sum to 1
 * within an ulp, and an availability below 1 always comes with an unavailability above 0. (The
 * availability side can be off in its last digits: 1000 replicas of 99.9% with 500 required
 * summed to 0.9999999999999886 while the true unavailability, ~1e-1200, is 0 in doubles.)
 */
const availabilityOf = (p: Prob): number => 1 - clamp01(p.u);

function allOf(items: readonly Prob[]): Prob {
  let a = 1;
  let logUp = 0;
  for (const p of items) {
    a *= p.a;
    logUp += Math.log1p(-p.u);
  }
  return { a, u: -Math.expm1(logUp) };
}

function anyOf(items: readonly Prob[]): Prob {
  let u = 1;
  let logDown = 0;
  for (const p of items) {
    u *= p.u;
    logDown += Math.log1p(-p.a);
  }
  return { a: -Math.expm1(logDown), u };
}

/** P(at least k of the items up), by dynamic programming over the count up (Poisson binomial). */
function kOf(items: readonly Prob[], k: number): Prob {
  if (k <= 0) return UP;
  if (k > items.length) return DOWN;
  if (k === 1) return anyOf(items);
  if (k === items.length) return allOf(items);
  // count[c] = P(exactly c up so far) for c < k, count[k] = P(at least k up so far): O(n·k), in
  // place. Every term is non-negative, so neither side of the result loses digits to cancellation.
  const count = new Float64Array(k + 1);
  count[0] = 1;
  for (const p of items) {
    count[k] = count[k]! + count[k - 1]! * p.a;
    for (let c = k - 1; c >= 1; c--) count[c] = count[c]! * p.u + count[c - 1]! * p.a;
    count[0] = count[0]! * p.u;
  }
  let u = 0;
  for (let c = 0; c < k; c++) u += count[c]!;
  // A sum of rounded terms can pass 1 by an ulp; log1p(−u) of that would be NaN downstream.
  return { a: clamp01(count[k]!), u: clamp01(u) };
}

/** k of n identical independent replicas: the binomial tail, O(n) in log space for large n. */
function kOfIdentical(p: Prob, n: number, k: number): Prob {
  if (k <= 0) return UP;
  if (k > n) return DOWN;
  if (n * k <= 4096 || p.a === 0 || p.u === 0 || k === 1 || k === n)
    return kOf(new Array<Prob>(n).fill(p), k);
  const logA = Math.log(p.a);
  const logU = Math.log(p.u);
  let logChoose = 0;
  let a = 0;
  let u = 0;
  for (let i = 0; i <= n; i++) {
    if (i > 0) logChoose += Math.log((n - i + 1) / i);
    const term = Math.exp(logChoose + i * logA + (n - i) * logU);
    if (i >= k) a += term;
    else u += term;
  }
  return { a: clamp01(a), u: clamp01(u) };
}

/** Availability of components in series (all needed): the product. */
export function serialAvailability(availabilities: readonly number[]): number {
  return availabilityOf(allOf(availabilities.map(prob)));
}

/** Availability of redundant components (any one suffices): 1 − Π(1 − a). */
export function parallelAvailability(availabilities: readonly number[]): number {
  return availabilityOf(anyOf(availabilities.map(prob)));
}

/** Availability of k of n identical independent replicas: Σ_{i=k..n} C(n,i) a^i (1−a)^(n−i). */
export function kOfNAvailability(availability: number, replicas: number, required: number): number {
  return availabilityOf(kOfIdentical(prob(availability), replicas, required));
}

/** Availability when at least k of different components must be up. */
export function kOfDifferentAvailability(availabilities: readonly number[], required: number): number {
  return availabilityOf(kOf(availabilities.map(prob), required));
}

/** The dependency expression expanded into a tree over component states (shared ones repeat). */
type Tree =
  | { readonly t: 'leaf'; readonly v: number }
  | { readonly t: 'all'; readonly items: readonly Tree[] }
  | { readonly t: 'kof'; readonly k: number; readonly items: readonly Tree[] };

/** Computes what the model's service can reach; problems in the model come back as located issues. */
export function calculateAvailability(model: AvailabilityModel): CalcOutcome {
  const issues = checkModel(model);
  if (issues.length) return { ok: false, issues };

  const ids: string[] = [];
  const varOf = new Map<string, number>();
  let nodes = 0;
  let tooLarge = false;
  const expandComponent = (id: string): Tree => {
    let v = varOf.get(id);
    if (v === undefined) {
      v = ids.length;
      ids.push(id);
      varOf.set(id, v);
    }
    nodes++;
    const dependsOn = model.components.get(id)?.dependsOn;
    if (!dependsOn) return { t: 'leaf', v };
    nodes++;
    return { t: 'all', items: [{ t: 'leaf', v }, expand(dependsOn)] };
  };
  const expand = (d: Dependency): Tree => {
    if (nodes > CALC_LIMITS.expandedNodes) {
      tooLarge = true;
      return { t: 'all', items: [] };
    }
    if (d.kind === 'component') return expandComponent(d.id);
    nodes++;
    const items = d.items.map(expand);
    return d.kind === 'serial' ? { t: 'all', items } : { t: 'kof', k: d.required, items };
  };
  const tree = expand(model.service);
  if (tooLarge)
    return {
      ok: false,
      issues: [
        {
          path: ['service'],
          message: `the dependency graph expands to more than ${CALC_LIMITS.expandedNodes} nodes; split it into smaller models`,
        },
      ],
    };

  const occurrences = new Array<number>(ids.length).fill(0);
  const countLeaves = (t: Tree): void => {
    if (t.t === 'leaf') occurrences[t.v]!++;
    else t.items.forEach(countLeaves);
  };
  countLeaves(tree);
  const shared = occurrences.flatMap((n, v) => (n > 1 ? [v] : []));
  const perState = evaluationCost(compile(tree, new Array<Prob>(ids.length).fill(UP), new Set(shared)));
  const folding = evaluationCost(compile(tree, new Array<Prob>(ids.length).fill(UP), new Set(ids.keys())));
  const work = (ids.length + 1) * (2 ** shared.length * perState + folding);
  if (work > CALC_LIMITS.work)
    return {
      ok: false,
      issues: [
        {
          path: ['service'],
          message:
            `computing this exactly takes about ${(work / 1e6).toFixed(1)} million steps, more than ${CALC_LIMITS.work / 1e6} million for one request` +
            (shared.length
              ? ` (${shared.length} components are shared between branches: ${shared.map((v) => ids[v]).join(', ')})`
              : ' (k of n groups of many items)') +
            '; split the model',
        },
      ],
    };

  const base: Prob[] = ids.map((id) => {
    const c = model.components.get(id)!;
    return kOfIdentical(prob(c.availability), c.replicas, c.required);
  });
  // Unavailabilities clamped to [0, 1] (and −0 to 0) once, so every figure derives from the same one.
  const withOwn = (p: Prob): Prob => {
    const r = allOf([prob(model.own), p]);
    return { a: r.a, u: clamp01(r.u) };
  };
  const exact = (leaves: readonly Prob[]): Prob => {
    const p = solve(tree, leaves, shared);
    return { a: clamp01(p.a), u: clamp01(p.u) };
  };
  const dependencies = exact(base);
  const total = withOwn(dependencies);

  const contributions = ids.map((id, v): ComponentContribution => {
    const c = model.components.get(id)!;
    const perfect = withOwn(exact(base.map((p, i) => (i === v ? UP : p))));
    const savedU = Math.max(0, total.u - perfect.u);
    return {
      id,
      availability: c.availability,
      replicas: c.replicas,
      required: c.required,
      effectiveAvailability: availabilityOf(base[v]!),
      availabilityIfPerfect: availabilityOf(perfect),
      downtimeMinutesPerYearSaved: savedU * MINUTES_PER_YEAR,
      shareOfDowntime: total.u > 0 ? Math.min(1, savedU / total.u) : 0,
    };
  });
  contributions.sort(
    (x, y) => y.downtimeMinutesPerYearSaved - x.downtimeMinutesPerYearSaved || x.id.localeCompare(y.id),
  );

  return {
    ok: true,
    result: {
      availability: availabilityOf(total),
      unavailability: total.u,
      dependencyAvailability: availabilityOf(dependencies),
      own: model.own,
      downtimeMinutesPer30Days: total.u * MINUTES_PER_30_DAYS,
      downtimeMinutesPerYear: total.u * MINUTES_PER_YEAR,
      target:
        model.target === undefined
          ? null
          : verdict(model.target, availabilityOf(total), availabilityOf(dependencies)),
      components: contributions,
      sharedComponents: shared.map((v) => ids[v]!).sort(),
      unusedComponents: [...model.components.keys()].filter((id) => !varOf.has(id)).sort(),
    },
  };
}

function verdict(target: number, availability: number, dependencies: number): TargetVerdict {
  const reachable = dependencies >= target - TOLERANCE;
  return {
    target,
    achievable: availability >= target - TOLERANCE,
    margin: availability - target,
    // Dependencies that are never up leave only a target of 0, which any own availability meets.
    requiredOwnAvailability: !reachable ? null : dependencies > 0 ? Math.min(1, target / dependencies) : 0,
  };
}

/** The tree as `solve` evaluates it per state: parts without a shared component folded into constants. */
type Compiled =
  | { readonly t: 'const'; readonly p: Prob }
  | { readonly t: 'leaf'; readonly v: number }
  | { readonly t: 'all' | 'kof'; readonly k: number; readonly items: readonly Compiled[] };

function compile(tree: Tree, base: readonly Prob[], shared: ReadonlySet<number>): Compiled {
  const fold = (t: Tree): Compiled => {
    if (t.t === 'leaf') return shared.has(t.v) ? t : { t: 'const', p: base[t.v]! };
    const items = t.items.map(fold);
    const constants = items.flatMap((i) => (i.t === 'const' ? [i.p] : []));
    if (constants.length === items.length)
      return { t: 'const', p: t.t === 'all' ? allOf(constants) : kOf(constants, t.k) };
    if (t.t === 'kof') return { t: 'kof', k: t.k, items };
    // In series the constant items multiply into one.
    const rest = items.filter((i) => i.t !== 'const');
    return {
      t: 'all',
      k: 0,
      items: constants.length ? [...rest, { t: 'const', p: allOf(constants) }] : rest,
    };
  };
  return fold(tree);
}

/** Work of one evaluation of a compiled tree (k of n costs n·k by dynamic programming). */
function evaluationCost(c: Compiled): number {
  if (c.t === 'const' || c.t === 'leaf') return 1;
  const n = c.items.length;
  const own = c.t === 'kof' && c.k > 1 && c.k < n ? n * c.k : n;
  return own + c.items.reduce((sum, item) => sum + evaluationCost(item), 0);
}

/**
 * Exact probability of the tree: conditions on every shared component's state (up with its
 * probability, down otherwise) so that, given those, every remaining leaf occurs once and the
 * items of each node are independent.
 */
function solve(tree: Tree, base: readonly Prob[], shared: readonly number[]): Prob {
  const compiled = compile(tree, base, new Set(shared));
  const state = new Array<Prob>(base.length).fill(UP);
  const evaluate = (c: Compiled): Prob => {
    if (c.t === 'const') return c.p;
    if (c.t === 'leaf') return state[c.v]!;
    const items = c.items.map(evaluate);
    return c.t === 'all' ? allOf(items) : kOf(items, c.k);
  };
  const factor = (i: number): Prob => {
    const v = shared[i];
    if (v === undefined) return evaluate(compiled);
    const p = base[v]!;
    let a = 0;
    let u = 0;
    for (const [weight, fixed] of [
      [p.a, UP],
      [p.u, DOWN],
    ] as const) {
      if (weight === 0) continue;
      state[v] = fixed;
      const r = factor(i + 1);
      a += weight * r.a;
      u += weight * r.u;
    }
    return { a, u };
  };
  return factor(0);
}

/** Every problem the model has: unknown components, k greater than n, values out of range, cycles. */
export function checkModel(model: AvailabilityModel): CalcIssue[] {
  const issues: CalcIssue[] = [];
  const fraction = (value: number, path: CalcPath, what: string) => {
    if (!(Number.isFinite(value) && value >= 0 && value <= 1))
      issues.push({ path, message: `${what} must be a fraction in [0, 1] (or a percentage like 99.9%)` });
  };
  fraction(model.own, ['own'], 'own availability');
  if (model.target !== undefined) fraction(model.target, ['target'], 'the target');
  if (model.components.size > CALC_LIMITS.components)
    issues.push({
      path: ['components'],
      message: `at most ${CALC_LIMITS.components} components per model (got ${model.components.size})`,
    });
  const names = [...model.components.keys()];
  const walk = (d: Dependency): void => {
    if (d.kind === 'component') {
      if (!model.components.has(d.id)) {
        const near = names.length ? closest(d.id, names) : undefined;
        // Only a likely typo is worth suggesting.
        const guess = near && distance(near, d.id) <= Math.max(2, d.id.length / 3) ? near : undefined;
        issues.push({
          path: d.path,
          message: `unknown component "${d.id}"${guess ? ` (did you mean "${guess}"?)` : ''}; define it under components`,
        });
      }
      return;
    }
    if (d.items.length === 0) issues.push({ path: d.path, message: `${d.kind} needs at least one item` });
    if (d.kind === 'parallel' && !(Number.isInteger(d.required) && d.required >= 1))
      issues.push({ path: [...d.path, 'required'], message: 'required must be a whole number ≥ 1' });
    else if (d.kind === 'parallel' && d.required > d.items.length)
      issues.push({
        path: [...d.path, 'required'],
        message: `required (${d.required}) is more than the ${d.items.length} items in parallel`,
      });
    d.items.forEach(walk);
  };
  for (const c of model.components.values()) {
    const at = ['components', c.id];
    fraction(c.availability, [...at, 'availability'], `availability of "${c.id}"`);
    if (!(Number.isInteger(c.replicas) && c.replicas >= 1 && c.replicas <= CALC_LIMITS.replicas))
      issues.push({
        path: [...at, 'replicas'],
        message: `replicas must be a whole number from 1 to ${CALC_LIMITS.replicas}`,
      });
    else if (!(Number.isInteger(c.required) && c.required >= 1))
      issues.push({ path: [...at, 'required'], message: 'required must be a whole number ≥ 1' });
    else if (c.required > c.replicas)
      issues.push({
        path: [...at, 'required'],
        message: `required (${c.required}) is more than replicas (${c.replicas}) of "${c.id}"`,
      });
    if (c.dependsOn) walk(c.dependsOn);
  }
  walk(model.service);
  if (issues.length === 0) issues.push(...findCycles(model));
  return issues;
}

/** Each dependency cycle once, named in order (`a → b → a`), at the dependsOn that closes it. */
function findCycles(model: AvailabilityModel): CalcIssue[] {
  const issues: CalcIssue[] = [];
  const refs = (d: Dependency | undefined): string[] =>
    !d ? [] : d.kind === 'component' ? [d.id] : d.items.flatMap(refs);
  const done = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (id: string): void => {
    if (done.has(id)) return;
    stack.push(id);
    onStack.add(id);
    for (const next of new Set(refs(model.components.get(id)?.dependsOn))) {
      if (onStack.has(next)) {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        issues.push({
          path: ['components', id, 'dependsOn'],
          message: `dependency cycle: ${cycle.join(' → ')}`,
        });
      } else visit(next);
    }
    stack.pop();
    onStack.delete(id);
    done.add(id);
  };
  for (const id of model.components.keys()) visit(id);
  return issues;
}
