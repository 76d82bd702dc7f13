/**
 * Reading a deployment's commits from the git checkout the CLI runs in (`git log prev..sha`), for
 * `shinrai deploy record` and `shinrai gate --record`. git runs as a child process with an
 * argument array (no shell); what cannot be read is said, never guessed.
 */
import { execFile } from 'node:child_process';

/** At most this many commits are sent for one deployment (the newest ones). */
export const MAX_COMMITS = 10_000;

/** A commit as the deployments API takes it; `timestamp` is the COMMITTER date (ISO 8601). */
export interface GitCommit {
  sha: string;
  timestamp: string;
  author?: string;
  message?: string;
}

/** Runs git with arguments in a directory; resolves with stdout or rejects (ENOENT when git is missing). */
export type GitRunner = (args: readonly string[], cwd: string) => Promise<string>;

export const runGit: GitRunner = (args, cwd) =>
  new Promise((resolve, reject) => {
    execFile(
      'git',
      [...args],
      { cwd, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          reject(
            Object.assign(new Error(stderr.trim().split('\n')[0] || error.message), {
              code: typeof code === 'string' ? code : undefined,
            }),
          );
        } else resolve(stdout);
      },
    );
  });

const FIELD = '\x1f';
const RECORD = '\x1e';
/** Full hash, committer date (strict ISO 8601), author name, subject. */
export const LOG_FORMAT = `--format=%H${FIELD}%cI${FIELD}%an${FIELD}%s${RECORD}`;

/** A commit sha as git prints it: 4–64 hex digits (SHA-1 or SHA-256 repositories, abbreviated or full). */
export const SHA = /^[0-9a-f]{4,64}$/i;

/** The API's limits on a commit's author name and message (UTF-16 units, as JavaScript counts). */
export const MAX_AUTHOR_CHARS = 200;
export const MAX_MESSAGE_CHARS = 2_000;

/** At most `max` UTF-16 units, never half of a surrogate pair; clipped text ends with "…". */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Parses `git log` output in LOG_FORMAT; records that do not have a hash and a date are skipped. */
export function parseGitLog(output: string): GitCommit[] {
  const commits: GitCommit[] = [];
  for (const raw of output.split(RECORD)) {
    const record = raw.replace(/^\n+/, '');
    if (record.trim() === '') continue;
    const [sha = '', timestamp = '', author = '', message = ''] = record.split(FIELD);
    if (!/^[0-9a-f]{40,64}$/.test(sha) || Number.isNaN(Date.parse(timestamp))) continue;
    commits.push({
      sha,
      timestamp,
      ...(author ? { author: clip(author, MAX_AUTHOR_CHARS) } : {}),
      ...(message ? { message: clip(message, MAX_MESSAGE_CHARS) } : {}),
    });
  }
  return commits;
}

export type GitCommitsResult =
  | { ok: true; headSha: string; commits: GitCommit[]; truncated: boolean; notes: string[] }
  | { ok: false; reason: string };

/**
 * The commits of `prev..sha` (or `sha` alone when there is no previous deployment), newest first,
 * at most MAX_COMMITS. `previous` is asked for prev once `sha` is resolved to its full hash. Not a
 * checkout, git missing or `sha` unknown: `ok: false` with the reason. prev unknown to the checkout
 * (a shallow clone): `sha` alone, with a note saying so.
 */
export async function gitCommits(
  cwd: string,
  sha: string,
  previous: (headSha: string) => Promise<string | undefined>,
  git: GitRunner = runGit,
): Promise<GitCommitsResult> {
  try {
    await git(['rev-parse', '--is-inside-work-tree'], cwd);
  } catch (error) {
    return {
      ok: false,
      reason:
        (error as { code?: string }).code === 'ENOENT'
          ? 'git is not installed'
          : `${cwd} is not a git checkout`,
    };
  }
  const resolve = async (rev: string): Promise<string | undefined> => {
    // Only hashes and HEAD reach git: nothing that could be read as an option or a path.
    if (rev !== 'HEAD' && !SHA.test(rev)) return undefined;
    try {
      return (await git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], cwd)).trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const head = await resolve(sha);
  if (!head) return { ok: false, reason: `commit ${sha} is not in this checkout` };
  const prev = await previous(head);
  const notes: string[] = [];
  let base: string | undefined;
  if (prev !== undefined) {
    base = await resolve(prev);
    if (!base)
      notes.push(
        `commit ${prev} (the previous deployment) is not in this checkout (a shallow clone? fetch the history, e.g. fetch-depth: 0); sending ${head.slice(0, 12)} alone`,
      );
  }
  // With a previous deployment, the commits since it; without one, the deployed commit alone.
  const args = base
    ? ['log', LOG_FORMAT, '-n', String(MAX_COMMITS + 1), `${base}..${head}`, '--']
    : ['log', LOG_FORMAT, '-n', '1', head, '--'];
  let output: string;
  try {
    output = await git(args, cwd);
  } catch (error) {
    return { ok: false, reason: `git log failed: ${(error as Error).message}` };
  }
  const all = parseGitLog(output);
  const truncated = all.length > MAX_COMMITS;
  return { ok: true, headSha: head, commits: all.slice(0, MAX_COMMITS), truncated, notes };
}
