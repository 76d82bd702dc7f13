import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { AvailabilityResult, CalcIssue } from '../../risks/index.js';
import { calculateFromInput, parseAvailability } from '../../risks/index.js';
import { parseSpecText } from '../../slo/index.js';
import { table } from '../format.js';
import { CliError, type CliIo } from '../io.js';

interface CalcOptions {
  target?: string;
  own?: string;
  serial?: string[];
  parallel?: string[];
  required?: string;
  json?: boolean;
  top?: string;
}

/** Exit statuses: 1 is kept for "target not reachable" so CI can gate on it; input problems are 2. */
const EXIT_UNREACHABLE = 1;
const EXIT_BAD_INPUT = 2;

export function registerCalc(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('calc')
    .description(
      'availability calculator: what a service can reach on its dependencies (serial, parallel, k of n)',
    )
    .argument('[file]', 'a YAML or JSON model of components and dependencies (- reads stdin)')
    .option(
      '--target <availability>',
      'answer whether the service can reach this (overrides the file), e.g. 99.99%',
    )
    .option(
      '--own <availability>',
      "the service's own availability in series (overrides the file; default 100%)",
    )
    .option('--serial <availability...>', 'one-liner: these dependencies all needed')
    .option('--parallel <availability...>', 'one-liner: redundant dependencies, any one suffices')
    .option('--required <k>', 'with --parallel: k of them must be up')
    .option('--top <n>', 'components listed under "what to improve first"', '10')
    .option('--json', 'print the JSON result (the API’s answer)')
    .addHelpText(
      'after',
      `
Example model (examples/calc/checkout.yaml):
  target: 99.99%
  components:
    lb:      { availability: 99.99% }
    app:     { availability: 99.9%, replicas: 3 }              # 1 of 3 by default
    db:      { availability: 99.95%, replicas: 3, required: 2 }
    cache-a: { availability: 99.9% }
    cache-b: { availability: 99.9% }
  service:
    serial: [lb, app, db, { parallel: [cache-a, cache-b] }]

A dependency is a component name, a list (all needed), {serial: [...]} or
{parallel: [...], required: k}; a component may have dependsOn: (what every replica needs).
One-liners:
  shinrai calc --serial 99.9% 99.9%       # 99.8001%
  shinrai calc --parallel 99.9% 99.9%     # 99.9999%
  shinrai calc --parallel 99% 99% 99% --required 2 --target 99.95%

Exit status: 0 when the target is reachable (or none is given), 1 when it is not, 2 on bad input.
Assumes independent failures and steady-state availabilities (docs/calculator.md).`,
    )
    .action(async (file: string | undefined, options: CalcOptions) => {
      const inline = options.serial ?? options.parallel;
      if ((file === undefined) === (inline === undefined) || (options.serial && options.parallel))
        throw new CliError(
          'give a model file, or --serial or --parallel with availabilities',
          EXIT_BAD_INPUT,
        );
      if (options.required !== undefined && !options.parallel)
        throw new CliError('--required goes with --parallel', EXIT_BAD_INPUT);
      const top = Number(options.top);
      if (!(Number.isInteger(top) && top >= 0))
        throw new CliError('--top must be a whole number', EXIT_BAD_INPUT);
      const overrides = {
        ...(options.target === undefined ? {} : { target: flagAvailability('--target', options.target) }),
        ...(options.own === undefined ? {} : { own: flagAvailability('--own', options.own) }),
      };

      let outcome: ReturnType<typeof calculateFromInput>;
      if (inline) {
        outcome = calculateFromInput({ ...inlineModel(inline, options), ...overrides });
        if (!outcome.ok) throw new CliError(outcome.issues.map((i) => i.message).join('; '), EXIT_BAD_INPUT);
      } else {
        const read = await readModel(file!, io);
        if (!read.ok) {
          for (const line of read.problems) io.err(line);
          setExit(EXIT_BAD_INPUT);
          return;
        }
        outcome = calculateFromInput({ ...(read.value as object), ...overrides });
        if (!outcome.ok) {
          for (const issue of outcome.issues) io.err(read.locate(issue));
          setExit(EXIT_BAD_INPUT);
          return;
        }
      }
      const result = outcome.result;
      io.out(options.json ? JSON.stringify(result, null, 2) : formatResult(result, top));
      setExit(result.target && !result.target.achievable ? EXIT_UNREACHABLE : 0);
    });
}

function flagAvailability(flag: string, value: string): number {
  const parsed = parseAvailability(value);
  if (typeof parsed !== 'number') throw new CliError(`${flag}: ${parsed.error}`, EXIT_BAD_INPUT);
  return parsed;
}

/** `--serial 99.9% 99.9%` as a model: components dep1…depN, all needed or k of them. */
function inlineModel(values: readonly string[], options: CalcOptions): Record<string, unknown> {
  const ids = values.map((_, i) => `dep${i + 1}`);
  const components = Object.fromEntries(
    values.map((v, i) => [
      ids[i],
      { availability: flagAvailability(options.serial ? '--serial' : '--parallel', v) },
    ]),
  );
  if (options.serial) return { components, service: { serial: ids } };
  const required = options.required === undefined ? 1 : Number(options.required);
  if (!(Number.isInteger(required) && required >= 1 && required <= ids.length))
    throw new CliError(`--required must be a whole number from 1 to ${ids.length}`, EXIT_BAD_INPUT);
  return { components, service: { parallel: ids, required } };
}

type ReadModel =
  | { ok: true; value: unknown; locate: (issue: CalcIssue) => string }
  | { ok: false; problems: string[] };

/** Reads the YAML/JSON model keeping node positions, so every problem is reported as file:line:column. */
async function readModel(file: string, io: CliIo): Promise<ReadModel> {
  const display = file === '-' ? '<stdin>' : displayPath(resolve(io.cwd, file), io.cwd);
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(resolve(io.cwd, file), 'utf8');
  } catch (error) {
    return {
      ok: false,
      problems: [
        `${display}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      ],
    };
  }
  const { objects, diagnostics } = parseSpecText(display, text);
  const syntax = diagnostics.filter((d) => d.severity === 'error' && d.rule === 'yaml/syntax');
  if (syntax.length)
    return {
      ok: false,
      problems: syntax.map(
        (d) => `${d.file}:${d.line}:${d.column}  ${d.message}${d.hint ? ` (${d.hint})` : ''}`,
      ),
    };
  const [object] = objects;
  if (objects.length !== 1 || !object)
    return {
      ok: false,
      problems: [`${display}:1:1  expected one object with components and service (see shinrai calc --help)`],
    };
  return {
    ok: true,
    value: object.value,
    locate: (issue) => {
      const where = issue.message.startsWith('unknown key')
        ? object.keyAt(issue.path)
        : object.at(issue.path);
      return `${where.file}:${where.line}:${where.column}  ${issue.message}`;
    },
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** A percentage with enough decimals to show four significant digits of the unavailability. */
export function formatAvailability(fraction: number): string {
  const downPercent = (1 - fraction) * 100;
  const digits = downPercent <= 0 ? 2 : Math.min(12, Math.max(2, Math.ceil(-Math.log10(downPercent)) + 3));
  return `${(fraction * 100).toFixed(digits).replace(/\.?0+$/, '')}%`;
}

/** `31.6 s`, `52.6 min`, `8.8 h`, `3.2 days`. */
export function formatMinutes(minutes: number): string {
  if (minutes === 0) return '0';
  if (minutes < 1) return `${(minutes * 60).toPrecision(3)} s`;
  if (minutes < 120) return `${minutes.toFixed(1)} min`;
  if (minutes < 48 * 60) return `${(minutes / 60).toFixed(1)} h`;
  return `${(minutes / 1440).toFixed(1)} days`;
}

function points(margin: number): string {
  return `${Number((Math.abs(margin) * 100).toPrecision(3))} points`;
}

export function formatResult(r: AvailabilityResult, top = 10): string {
  const lines: string[] = [];
  const ceiling =
    r.own < 1
      ? ` (dependencies allow ${formatAvailability(r.dependencyAvailability)}, own ${formatAvailability(r.own)})`
      : '';
  lines.push(`Availability  ${formatAvailability(r.availability)}${ceiling}`);
  lines.push(
    `Downtime      ${formatMinutes(r.downtimeMinutesPer30Days)} per 30 days, ${formatMinutes(r.downtimeMinutesPerYear)} per year`,
  );
  const t = r.target;
  if (t) {
    const head = `Target ${formatAvailability(t.target)}`;
    if (t.achievable)
      lines.push(
        `${head}: reachable, ${points(t.margin)} to spare` +
          (t.requiredOwnAvailability === null
            ? ''
            : `; the service's own availability must stay ≥ ${formatAvailability(t.requiredOwnAvailability)}`),
      );
    else if (t.requiredOwnAvailability === null)
      lines.push(
        `${head}: NOT reachable on these dependencies — even a perfect service reaches ${formatAvailability(r.dependencyAvailability)} (${points(t.target - r.dependencyAvailability)} short); add redundancy or improve the components below`,
      );
    else
      lines.push(
        `${head}: NOT reachable, ${points(t.margin)} short — the service's own availability would need ${formatAvailability(t.requiredOwnAvailability)} (it is ${formatAvailability(r.own)})`,
      );
  }
  if (r.sharedComponents.length)
    lines.push(`Shared        ${r.sharedComponents.join(', ')} (reached by several paths; computed exactly)`);
  if (r.unusedComponents.length)
    lines.push(`Unused        ${r.unusedComponents.join(', ')} (the service does not need them)`);
  const listed = r.components.slice(0, top);
  if (listed.length) {
    lines.push('', 'What to improve first (the service if the component never failed):');
    lines.push(
      table(
        ['COMPONENT', 'AVAILABILITY', 'REPLICAS', 'AS A SET', 'IF PERFECT', 'SAVES/YEAR', 'SHARE'],
        listed.map((c) => [
          c.id,
          formatAvailability(c.availability),
          c.replicas === 1 ? '1' : `${c.required} of ${c.replicas}`,
          formatAvailability(c.effectiveAvailability),
          formatAvailability(c.availabilityIfPerfect),
          formatMinutes(c.downtimeMinutesPerYearSaved),
          `${(c.shareOfDowntime * 100).toFixed(1)}%`,
        ]),
      ),
    );
    if (r.components.length > listed.length)
      lines.push(`(${r.components.length - listed.length} more; --top or --json)`);
  }
  return lines.join('\n');
}
