import { resolve } from 'node:path';
import type { Command } from 'commander';
import { configuredTargetNames } from '../../platform/notification-targets.js';
import { formatDiagnostic, loadSpecs } from '../../slo/index.js';
import { configFrom } from '../config-flags.js';
import type { CliIo } from '../io.js';

export function registerValidate(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('validate')
    .description('check SLO specs (OpenSLO v1, Sloth) and report every problem as file:line:column')
    .argument('<path>', 'a spec file or a directory (read recursively)')
    .option('--strict', 'fail on warnings too (no owner, no journey, no runbook, targets ≥ 99.999%)')
    .option('--json', 'print a JSON report for tools')
    .option(
      '--config <file>',
      "the server's config file: targetRef may name its notificationTargets.<name> (names only are read)",
    )
    .addHelpText(
      'after',
      `
Exit status: 0 when valid, 1 when there are errors (or warnings with --strict), 2 on usage errors.
Rules are documented in docs/validation-rules.md.`,
    )
    .action(async (path: string, options: { strict?: boolean; json?: boolean; config?: string }) => {
      // The server's configured targets, so specs naming them validate as the server loads them.
      const configuredTargets = options.config
        ? configuredTargetNames(configFrom({}, resolve(io.cwd, options.config)).notificationTargets)
        : [];
      const result = await loadSpecs(path, io.cwd, { configuredTargets });
      const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
      const warnings = result.diagnostics.length - errors;
      const failed = errors > 0 || (options.strict === true && warnings > 0);
      if (options.json) {
        io.out(
          JSON.stringify(
            {
              ok: !failed,
              files: result.files,
              errors,
              warnings,
              diagnostics: result.diagnostics,
              slos: result.catalog.slos.map((s) => ({ id: s.id, service: s.service, format: s.format })),
            },
            null,
            2,
          ),
        );
      } else {
        for (const d of result.diagnostics) io.out(formatDiagnostic(d));
        const c = result.catalog;
        io.out(
          `${failed ? '✗' : '✓'} ${result.files.length} file${plural(result.files.length)}, ${c.slos.length} SLO${plural(c.slos.length)}, ` +
            `${c.services.length} service${plural(c.services.length)}: ${errors} error${plural(errors)}, ${warnings} warning${plural(warnings)}` +
            (options.strict && warnings > 0 && errors === 0 ? ' (warnings fail with --strict)' : ''),
        );
      }
      setExit(failed ? 1 : 0);
    });
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}
