/**
 * The `shinrai` command. Each command lives in its own file under commands/ and only parses
 * input, calls a service and formats output.
 */
import { Command, CommanderError } from 'commander';
import { registerAlerts } from './commands/alerts.js';
import { registerAudit } from './commands/audit.js';
import { registerBacklog } from './commands/backlog.js';
import { registerBacktest } from './commands/backtest.js';
import { registerBackup } from './commands/backup.js';
import { registerBudget } from './commands/budget.js';
import { registerCalc } from './commands/calc.js';
import { registerDelivery } from './commands/delivery.js';
import { registerDemo } from './commands/demo.js';
import { registerDeploy } from './commands/deploy.js';
import { registerGate } from './commands/gate.js';
import { registerIncident } from './commands/incident.js';
import { registerMigrate } from './commands/migrate.js';
import { registerReport } from './commands/report.js';
import { registerRestore } from './commands/restore.js';
import { registerReview } from './commands/review.js';
import { registerRisk } from './commands/risk.js';
import { registerRisks } from './commands/risks.js';
import { registerRules } from './commands/rules.js';
import { registerServe } from './commands/serve.js';
import { registerToken } from './commands/token.js';
import { registerValidate } from './commands/validate.js';
import { CliError, type CliIo, processIo } from './io.js';

export const VERSION = '0.1.0';

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('shinrai')
    .description('Shinrai (信頼) — SLOs as code, error budgets, burn-rate alerts and incidents in one tool')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    // A command's options are read only before its sub-command's name, so a sub-command may reuse
    // a parent's option names (`gate --service` and `gate override --service`); without this the
    // parent swallowed them and the sub-command never saw them. Inherited by every command below.
    .enablePositionalOptions()
    .exitOverride();
  registerValidate(program, io, setExit);
  registerBudget(program, io, setExit);
  registerBacktest(program, io, setExit);
  registerCalc(program, io, setExit);
  registerAlerts(program, io, setExit);
  registerIncident(program, io, setExit);
  registerReview(program, io, setExit);
  registerAudit(program, io, setExit);
  registerGate(program, io, setExit);
  registerRisks(program, io, setExit);
  registerRisk(program, io, setExit);
  registerBacklog(program, io, setExit);
  registerRules(program, io, setExit);
  registerDemo(program, io, setExit);
  registerServe(program, io, setExit);
  registerToken(program, io, setExit);
  registerDeploy(program, io, setExit);
  registerDelivery(program, io, setExit);
  registerReport(program, io, setExit);
  registerBackup(program, io, setExit);
  registerRestore(program, io, setExit);
  registerMigrate(program, io, setExit);
  return program;
}

/** Runs the CLI and returns the exit code; never calls process.exit, so it is testable in-process. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliError) {
      io.err(`shinrai: ${error.message}`);
      return error.exitCode;
    }
    io.err(`shinrai: unexpected error: ${(error as Error).stack ?? String(error)}`);
    return 70;
  }
}
