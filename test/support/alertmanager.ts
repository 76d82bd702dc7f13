/** A real Alertmanager (Debian's prometheus-alertmanager) on a free loopback port, for integration tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALERTMANAGER, binariesAvailable } from './binaries.js';
import { freePort } from './prometheus.js';

export const ALERTMANAGER_BIN = ALERTMANAGER.path;

/** Whether Alertmanager is installed (skips locally when not; under CI=true a missing binary throws). */
export const alertmanagerAvailable = (): boolean => binariesAvailable([ALERTMANAGER]);

export interface AlertmanagerServer {
  readonly url: string;
  /** GET /api/v2/alerts (active, unsilenced, uninhibited by default). */
  alerts(): Promise<
    Array<{
      labels: Record<string, string>;
      annotations: Record<string, string>;
      startsAt: string;
      endsAt: string;
      status: { state: string };
    }>
  >;
  stop(): Promise<void>;
}

/** Starts Alertmanager with one route to a receiver that sends nothing, clustering off. */
export async function startAlertmanager(): Promise<AlertmanagerServer> {
  const dir = await mkdtemp(join(tmpdir(), 'shinrai-alertmanager-'));
  await writeFile(
    join(dir, 'alertmanager.yml'),
    JSON.stringify({ route: { receiver: 'null' }, receivers: [{ name: 'null' }] }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    ALERTMANAGER_BIN,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-16_384);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const response = await fetch(`${url}/-/ready`);
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Alertmanager did not start on port ${port}:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    alerts: async () => {
      const response = await fetch(`${url}/api/v2/alerts`);
      return (await response.json()) as never;
    },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
