/**
 * The write routes a running server has (from Fastify's route tree) and those docs/audit.md's
 * table does not list, audited (an action name) or exempt ("not audited: <why>").
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';

/** `METHOD /path/{param}` of every route of `server` that is not a read (GET, HEAD, OPTIONS). */
export function writeRoutes(server: Pick<FastifyInstance, 'printRoutes'>): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of server.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)(?:├── |└── )(.+?) \(([^)]+)\)$/.exec(line);
    if (!match) continue;
    // Each level of the tree is indented by four characters.
    stack.length = match[1]!.length / 4;
    stack.push(match[2]!);
    const path = stack
      .join('')
      .replace(/\/\//g, '/')
      .replace(/:(\w+)/g, '{$1}');
    for (const method of match[3]!.split(', '))
      if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) out.push(`${method} ${path}`);
  }
  return out;
}

/** The routes of `writes` docs/audit.md lists nowhere, or lists with neither an action nor a reason. */
export async function undocumentedWrites(writes: readonly string[]): Promise<string[]> {
  const docs = await readFile(new URL('../../docs/audit.md', import.meta.url), 'utf8');
  const rows = new Map<string, string>();
  for (const match of docs.matchAll(/^\| `(POST|PUT|PATCH|DELETE) ([^`]+)` \| (.+) \|$/gm))
    rows.set(`${match[1]} ${match[2]}`, match[3]!);
  return writes.filter((route) => {
    const row = rows.get(route);
    return row === undefined || !/`[a-z-]+\.[a-z.-]+`|^not audited.{10,}/.test(row);
  });
}
