/** Every option of every CLI command reaches that command, even when a parent command has an option of the same name. */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command, Option } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from './io.js';
import { buildProgram } from './main.js';
import { runCli } from './testing.js';

const quietIo: CliIo = { cwd: process.cwd(), out: () => {}, err: () => {}, now: () => new Date(0) };

class Stop extends Error {}

/** Every command below the program, with the words that reach it (`gate override`). */
function commandsOf(command: Command, path: string[] = []): Array<{ path: string[]; command: Command }> {
  return command.commands.flatMap((sub) => {
    const subPath = [...path, sub.name()];
    return [{ path: subPath, command: sub }, ...commandsOf(sub, subPath)];
  });
}

/** Parses argv and returns the options the command that would run received, without running it. */
async function optionsReaching(argv: string[]): Promise<{ name: string; opts: Record<string, unknown> }> {
  const program = buildProgram(quietIo, () => {});
  let reached: { name: string; opts: Record<string, unknown> } | undefined;
  program.hook('preAction', (_root, action) => {
    reached = { name: action.name(), opts: action.opts() };
    throw new Stop();
  });
  await program.parseAsync(['node', 'shinrai', ...argv]).catch((error: unknown) => {
    if (!(error instanceof Stop)) throw error;
  });
  if (!reached) throw new Error(`no action ran for: ${argv.join(' ')}`);
  return reached;
}

function argvFor(option: Option): string[] {
  const flag = option.long ?? option.short!;
  return option.required || option.optional ? [flag, 'key=value-1'] : [flag];
}

describe('CLI options', () => {
  const nested = commandsOf(buildProgram(quietIo, () => {})).filter((c) => c.path.length > 1);

  it('has sub-commands to check (gate override, token create, …)', () => {
    expect(nested.map((c) => c.path.join(' '))).toEqual(
      expect.arrayContaining(['gate override', 'gate overrides']),
    );
  });

  it('delivers every option of every sub-command to it, also names a parent command defines', async () => {
    for (const { path, command } of nested) {
      // Required options and arguments get a value so that parsing reaches the action.
      const required = command.options.filter((o) => o.mandatory).flatMap((o) => [o.long!, 'required-1']);
      const args = command.registeredArguments.filter((a) => a.required).map(() => 'arg-1');
      for (const option of command.options) {
        if (option.negate || option.long === '--help') continue;
        const reached = await optionsReaching([...path, ...args, ...required, ...argvFor(option)]);
        expect(reached.name, `${path.join(' ')} ${option.long}`).toBe(command.name());
        const value = reached.opts[option.attributeName()];
        // Repeatable options collect into arrays or maps; the value must be in there.
        if (option.required || option.optional)
          expect(JSON.stringify(value), `${path.join(' ')} ${option.long}`).toContain('value-1');
        else expect(value, `${path.join(' ')} ${option.long}`).toBe(true);
      }
    }
  });

  it('still reads the parent command’s own options (gate --service)', async () => {
    const reached = await optionsReaching(['gate', '--service', 'checkout', '--json']);
    expect(reached).toEqual({
      name: 'gate',
      opts: expect.objectContaining({ service: 'checkout', json: true }),
    });
  });
});

describe('shinrai gate sub-commands against a server', () => {
  const requests: Array<{ method: string; url: string; authorization?: string; body: string }> = [];
  const server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      requests.push({
        method: request.method!,
        url: request.url!,
        authorization: request.headers.authorization,
        body,
      });
      if (request.url === '/api/v1/gate/overrides?service=html') {
        response.statusCode = 502;
        response.setHeader('content-type', 'text/html');
        response.end('<html><body>Bad gateway</body></html>');
        return;
      }
      response.setHeader('content-type', 'application/json');
      const override = {
        id: 'ovr-1',
        service: 'checkout',
        reason: 'hotfix for INC-42',
        createdBy: 'admin',
        expiresAt: '2026-11-23T02:00:00.000Z',
        active: true,
      };
      response.end(JSON.stringify(request.method === 'POST' ? override : [override]));
    });
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('gate override sends --service, --reason and --expires-in to the given --server with --token', async () => {
    requests.length = 0;
    const { code, stdout, stderr } = await runCli([
      'gate',
      'override',
      '--service',
      'checkout',
      '--reason',
      'hotfix for INC-42',
      '--expires-in',
      '2h',
      '--server',
      url,
      '--token',
      'secret-1',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('override ovr-1: checkout may ship until');
    expect(requests).toEqual([
      {
        method: 'POST',
        url: '/api/v1/gate/overrides',
        authorization: 'Bearer secret-1',
        body: JSON.stringify({ service: 'checkout', reason: 'hotfix for INC-42', expiresIn: '2h' }),
      },
    ]);
  });

  it('gate overrides queries the --server it is given, for the --service given', async () => {
    requests.length = 0;
    const { code } = await runCli(['gate', 'overrides', '--server', url, '--service', 'checkout', '--json']);
    expect(code).toBe(0);
    expect(requests.map((r) => r.url)).toEqual(['/api/v1/gate/overrides?service=checkout']);
  });

  it('says in one line that a server answering something other than JSON may not be Shinrai', async () => {
    const { code, stdout, stderr } = await runCli([
      'gate',
      'overrides',
      '--server',
      url,
      '--service',
      'html',
    ]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `shinrai: GET /api/v1/gate/overrides?service=html: 502, and the answer is not JSON: is ${url} a Shinrai server?\n`,
    );
  });
});
