import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../platform/config.js';
import { Egress, parseEgressAllow } from '../../platform/egress.js';
import { configuredTargetNames } from '../../platform/notification-targets.js';
import {
  type Catalog,
  checkPulledSlis,
  type Diagnostic,
  formatDiagnostic,
  loadSpecs,
  planPulls,
  SOURCES,
  type SourceCheck,
  sortDiagnostics,
} from '../../slo/index.js';
import { configFrom } from '../config-flags.js';
import { CliError, type CliIo } from '../io.js';

export function registerValidate(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('validate')
    .description('check SLO specs (OpenSLO v1, Sloth) and report every problem as file:line:column')
    .argument('<path>', 'a spec file or a directory (read recursively)')
    .option('--strict', 'fail on warnings too (no owner, no journey, no runbook, targets ≥ 99.999%)')
    .option('--json', 'print a JSON report for tools')
    .option(
      '--config <file>',
      "the server's config file: targetRef may name its notificationTargets.<name>; --connect uses its prometheus.url, connections and egress.allow",
    )
    .option(
      '--connect',
      'also run every pulled SLI\'s queries against its source for the last hour: "ok, N minutes", "no data", or the error at the spec\'s file:line',
    )
    .addHelpText(
      'after',
      `
Exit status: 0 when valid, 1 when there are errors (or warnings with --strict), 2 on usage errors.
With --connect, a query that fails is an error and a source without data in the last hour a warning.
Rules are documented in docs/validation-rules.md; sources in docs/sources.md.`,
    )
    .action(
      async (
        path: string,
        options: { strict?: boolean; json?: boolean; config?: string; connect?: boolean },
      ) => {
        const config =
          options.config || options.connect
            ? configFrom({}, options.config && resolve(io.cwd, options.config))
            : undefined;
        // The server's configured targets, so specs naming them validate as the server loads them.
        const configuredTargets =
          options.config && config ? configuredTargetNames(config.notificationTargets) : [];
        const result = await loadSpecs(path, io.cwd, { configuredTargets });
        const connectChecks =
          options.connect && config && result.diagnostics.every((d) => d.severity !== 'error')
            ? await runConnectChecks(result.catalog, config, io, options.json === true)
            : undefined;
        const diagnostics = sortDiagnostics([
          ...result.diagnostics,
          // Without --connect the plan is still checked: an SLI that names a pulled source and can
          // never be pulled (a counter that is not a selector) is a warning before any deploy.
          ...(connectChecks
            ? connectChecks.filter((c) => c.outcome !== 'ok').map(checkDiagnostic)
            : planWarnings(result.catalog, config)),
        ]);
        const errors = diagnostics.filter((d) => d.severity === 'error').length;
        const warnings = diagnostics.length - errors;
        const failed = errors > 0 || (options.strict === true && warnings > 0);
        if (options.json) {
          io.out(
            JSON.stringify(
              {
                ok: !failed,
                files: result.files,
                errors,
                warnings,
                diagnostics,
                ...(connectChecks ? { connect: connectChecks } : {}),
                slos: result.catalog.slos.map((s) => ({ id: s.id, service: s.service, format: s.format })),
              },
              null,
              2,
            ),
          );
        } else {
          for (const d of diagnostics) io.out(formatDiagnostic(d));
          if (connectChecks) {
            const ok = connectChecks.filter((c) => c.outcome === 'ok').length;
            io.out(
              `${ok} of ${connectChecks.length} pulled SLI${plural(connectChecks.length)} answered with data`,
            );
          }
          const c = result.catalog;
          io.out(
            `${failed ? '✗' : '✓'} ${result.files.length} file${plural(result.files.length)}, ${c.slos.length} SLO${plural(c.slos.length)}, ` +
              `${c.services.length} service${plural(c.services.length)}: ${errors} error${plural(errors)}, ${warnings} warning${plural(warnings)}` +
              (options.strict && warnings > 0 && errors === 0 ? ' (warnings fail with --strict)' : ''),
          );
        }
        setExit(failed ? 1 : 0);
      },
    );
}

/** The diagnostic of a connect check that is not ok: a failure is an error, no data a warning. */
function checkDiagnostic(check: SourceCheck): Diagnostic {
  return {
    ...check.location,
    severity: check.outcome === 'failed' ? 'error' : 'warning',
    rule: check.outcome === 'failed' ? 'sources/connect' : 'sources/no-data',
    message: `SLI ${check.sli}${check.source ? ` (${check.source})` : ''}: ${check.message}`,
  };
}

async function runConnectChecks(
  catalog: Catalog,
  config: Config,
  io: CliIo,
  json: boolean,
): Promise<SourceCheck[]> {
  const allow = parseEgressAllow(config.egress.allow);
  if (!allow.ok) throw new CliError(`egress.allow: ${allow.problems.join('; ')}`, 2);
  const checks = await checkPulledSlis(catalog, {
    sources: SOURCES,
    connect: {
      defaultUrl: config.prometheus.url,
      timeoutMs: config.prometheus.timeoutSeconds * 1000,
      connections: config.connections,
      egress: new Egress(allow.policy),
    },
    nowMs: Date.now(),
    delayMs: config.prometheus.delaySeconds * 1000,
    // Progress on stderr, one line per SLI, so a long check shows it is moving and stdout stays the report.
    onChecked: (check, done, total) => {
      if (!json)
        io.err(
          `[${done}/${total}] ${check.outcome === 'ok' ? 'ok' : check.outcome === 'no-data' ? 'no data' : 'failed'}  ${check.sli}${check.source ? ` (${check.source})` : ''}: ${check.message}`,
        );
    },
  });
  return checks;
}

/** Plan problems as warnings (rule sources/plan); the default Prometheus is assumed configured. */
function planWarnings(catalog: Catalog, config: Config | undefined): Diagnostic[] {
  const plan = planPulls(catalog, SOURCES, { defaultUrl: config?.prometheus.url !== undefined || !config });
  return plan.problems.map((p) => ({
    ...(p.location ?? { file: '?', line: 0, column: 0 }),
    severity: 'warning' as const,
    rule: 'sources/plan',
    message: `SLI ${p.sli}: ${p.message}`,
  }));
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}
