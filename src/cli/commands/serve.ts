import type { Command } from 'commander';
import { startShinrai } from '../../app.js';
import { configFrom } from '../config-flags.js';
import type { CliIo } from '../io.js';
import { DEMO_SPECS } from './demo.js';

export interface ServeFlags {
  config?: string;
  specs?: string;
  db?: string;
  port?: string;
  host?: string;
  demo?: boolean;
  seedDays?: string;
  anonymousRead?: boolean;
  logLevel?: string;
  prometheusUrl?: string;
}

export function serveOptions(command: Command): Command {
  return command
    .option('--config <file>', 'YAML config file (flags > SHINRAI_* env > file > defaults)')
    .option('--specs <path>', 'directory or file of SLO specs (reloaded on change)')
    .option('--db <url>', 'SQLite file or postgres:// URL (default: data/shinrai.db)')
    .option('--port <port>', 'HTTP port (default 8420; 0 picks a free port)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--anonymous-read', 'allow reads without a token')
    .option('--prometheus-url <url>', 'Prometheus for SLIs whose queries name no DataSource (Sloth specs)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent');
}

/** Runs the server until SIGINT/SIGTERM, then stops it cleanly. */
export async function runServer(
  flags: ServeFlags,
  io: CliIo,
  defaults: { demo?: boolean } = {},
): Promise<void> {
  const demo = flags.demo ?? defaults.demo ?? false;
  const config = configFrom(
    {
      'specs.path': flags.specs,
      'db.url': flags.db,
      'server.port': flags.port,
      'server.host': flags.host,
      'auth.anonymousRead': flags.anonymousRead ?? (demo ? true : undefined),
      'demo.enabled': demo || undefined,
      'demo.seedDays': flags.seedDays,
      'log.level': flags.logLevel,
      'prometheus.url': flags.prometheusUrl,
    },
    flags.config,
  );
  const running = await startShinrai(config, { defaultSpecs: config.demo.enabled ? DEMO_SPECS : undefined });
  io.err(
    `Shinrai is running at ${running.url}  (API: ${running.url}/api/v1/slos, OpenAPI: ${running.url}/api/openapi.json; Ctrl-C stops)`,
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (received: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(received);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await drain(running, signal, config.server.shutdownSeconds, io);
}

/**
 * Stops the server within `shutdownSeconds` (docs/operations.md#stopping). The deadline and a
 * second signal end the process itself: a hung request or tick must not keep a replica from
 * going away, and the orchestrator would SIGKILL it anyway, without saying what hung.
 */
async function drain(
  running: { stop(): Promise<void>; pending(): string[] },
  signal: NodeJS.Signals,
  shutdownSeconds: number,
  io: CliIo,
): Promise<void> {
  io.err(
    `${signal}: stopping — finishing in-flight requests and the running tick (at most ${shutdownSeconds} s; a second signal stops at once)…`,
  );
  const again = (second: NodeJS.Signals) => {
    io.err(`second signal (${second}): exiting at once; still running: ${describe(running.pending())}`);
    process.exit(130);
  };
  process.once('SIGINT', again);
  process.once('SIGTERM', again);
  const deadline = setTimeout(() => {
    io.err(
      `shutdown did not finish within ${shutdownSeconds} s (server.shutdownSeconds); still running: ${describe(running.pending())}`,
    );
    process.exit(1);
  }, shutdownSeconds * 1000);
  try {
    await running.stop();
  } finally {
    clearTimeout(deadline);
    process.off('SIGINT', again);
    process.off('SIGTERM', again);
  }
  io.err('stopped');
}

function describe(pending: string[]): string {
  return pending.length ? pending.join('; ') : 'nothing (closing)';
}

export function registerServe(program: Command, io: CliIo, setExit: (code: number) => void): void {
  serveOptions(
    program.command('serve').description('run the Shinrai server: API, continuous evaluation, ingestion'),
  )
    .option('--demo', 'load the example shop and feed it synthetic traffic (reads open to all)')
    .option('--seed-days <days>', 'with --demo: days of history to backfill first')
    .action(async (flags: ServeFlags) => {
      await runServer(flags, io);
      setExit(0);
    });
}
