/**
 * `shinrai gate --service checkout`: the error-budget deploy gate for CI. Exit 0 for allow and
 * warn, 1 for deny (and, unless --fail-open, when the answer cannot be had), 2 for bad usage.
 * `shinrai gate override` records an exception with a reason and an expiry (admin token).
 * `--record` also records the deployment the gate let through (as `shinrai deploy record` does).
 */
import type { Command } from 'commander';
import { call, type ServerFlags, withServerFlags } from '../api-client.js';
import { CliError, type CliIo } from '../io.js';
import {
  checkDeploymentFlags,
  type DeploymentFlags,
  recordedLine,
  recordFromFlags,
  withDeploymentFlags,
} from './deploy.js';

interface GateView {
  decision: 'allow' | 'warn' | 'deny';
  summary: string;
  reasons: Array<{ message: string; decision: string }>;
}

interface OverrideView {
  id: string;
  service: string;
  reason: string;
  createdBy: string;
  expiresAt: string;
  active: boolean;
}

export function registerGate(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const gate = withServerFlags(
    withDeploymentFlags(
      program
        .command('gate')
        .description('may this service ship now? allow/warn exit 0, deny exit 1 (for CI)')
        .option('--service <name>', 'the service about to be deployed')
        .option('--fail-open', 'exit 0 with a warning when Shinrai cannot be reached (default: exit 1)')
        .option(
          '--record',
          'when the gate lets the change through, record it as a successful deployment finished now (editor token)',
        ),
      { statusAndKind: false },
    ),
  )
    .addHelpText(
      'after',
      `
Example (GitHub Actions step before deploying):
  - run: npx shinrai gate --service checkout
    env: { SHINRAI_URL: https://shinrai.internal, SHINRAI_TOKEN: \${{ secrets.SHINRAI_TOKEN }} }

With --record (and --env, --sha, --version, --url, --prev, --no-git as for \`shinrai deploy record\`)
an allow or warn also records the deployment, as success finished now; a deny records nothing.
Use it when the deploy step right after cannot fail; otherwise gate before and run
\`shinrai deploy record --status …\` after the deploy, with its real outcome.`,
    )
    .action(async (flags: ServerFlags & DeploymentFlags & { failOpen?: boolean; record?: boolean }) => {
      if (!flags.service) throw new CliError('give --service <name> (the service about to be deployed)', 2);
      // Bad deployment flags stop the command before the gate is asked, not after it allowed.
      if (flags.record) checkDeploymentFlags({ ...flags, status: 'success', kind: 'normal' }, io);
      let answer: GateView;
      try {
        answer = (await call(
          flags,
          'GET',
          `/api/v1/gate?service=${encodeURIComponent(flags.service)}`,
        )) as GateView;
      } catch (error) {
        if (!flags.failOpen) throw error;
        io.err(
          `warning: gate unknown, letting the change through (--fail-open): ${(error as Error).message}`,
        );
        setExit(0);
        return;
      }
      const allowed = answer.decision !== 'deny';
      const recorded =
        flags.record && allowed
          ? await recordFromFlags({ ...flags, status: 'success', kind: 'normal' }, io, 'gate')
          : undefined;
      if (flags.json)
        io.out(JSON.stringify(recorded ? { ...answer, deployment: recorded.deployment } : answer, null, 2));
      else {
        io.out(answer.summary);
        for (const reason of answer.reasons.slice(1)) io.out(`  ${reason.decision}: ${reason.message}`);
        if (recorded) io.out(recordedLine(recorded));
        else if (flags.record) io.out('denied: no deployment recorded');
      }
      setExit(allowed ? 0 : 1);
    });

  withServerFlags(
    gate
      .command('override')
      .description('let changes to a service through the gate until an expiry, with a reason (admin token)')
      .requiredOption('--service <name>', 'the service')
      .requiredOption('--reason <text>', 'why, for the audit trail (e.g. "hotfix for INC-42")')
      .option('--expires-in <duration>', 'how long: 30m, 2h, 1d (at most 7 days)', '2h'),
  ).action(async (flags: ServerFlags & { service: string; reason: string; expiresIn: string }) => {
    const created = (await call(flags, 'POST', '/api/v1/gate/overrides', {
      service: flags.service,
      reason: flags.reason,
      expiresIn: flags.expiresIn,
    })) as OverrideView;
    io.out(
      flags.json
        ? JSON.stringify(created, null, 2)
        : `override ${created.id}: ${created.service} may ship until ${created.expiresAt} (${created.reason})`,
    );
    setExit(0);
  });

  withServerFlags(
    gate
      .command('overrides')
      .description('overrides, newest first, with expired and revoked ones (audit)')
      .option('--service <name>', 'only this service'),
  ).action(async (flags: ServerFlags & { service?: string }) => {
    const list = (await call(
      flags,
      'GET',
      `/api/v1/gate/overrides${flags.service ? `?service=${encodeURIComponent(flags.service)}` : ''}`,
    )) as OverrideView[];
    io.out(
      flags.json
        ? JSON.stringify(list, null, 2)
        : list
            .map(
              (o) =>
                `${o.id}  ${o.service}  ${o.active ? 'active ' : 'ended  '}  until ${o.expiresAt}  by ${o.createdBy}: ${o.reason}`,
            )
            .join('\n') || 'no overrides',
    );
    setExit(0);
  });
}
