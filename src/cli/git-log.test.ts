/** Reading commits from `git log`: parsing, the cap, and what reaches git (a fake runner records it). */
import { describe, expect, it } from 'vitest';
import {
  clip,
  type GitRunner,
  gitCommits,
  LOG_FORMAT,
  MAX_COMMITS,
  MAX_MESSAGE_CHARS,
  parseGitLog,
} from './git-log.js';

const sha = (n: number) => n.toString(16).padStart(40, '0');
const record = (n: number, subject = `change ${n}`) =>
  `${sha(n)}\x1f2026-11-0${(n % 9) + 1}T10:00:00+09:00\x1fAuthor ${n}\x1f${subject}\x1e\n`;

describe('parseGitLog', () => {
  it('reads hash, committer date, author and subject; subjects may hold tabs, pipes and quotes', () => {
    expect(parseGitLog(record(1) + record(2, 'fix: a|b\t"c"'))).toEqual([
      { sha: sha(1), timestamp: '2026-11-02T10:00:00+09:00', author: 'Author 1', message: 'change 1' },
      { sha: sha(2), timestamp: '2026-11-03T10:00:00+09:00', author: 'Author 2', message: 'fix: a|b\t"c"' },
    ]);
  });

  it('clips a subject or name longer than the API takes, never splitting a character', () => {
    const long = `${'x'.repeat(MAX_MESSAGE_CHARS - 2)}😀😀`;
    const [commit] = parseGitLog(record(1, long));
    expect(commit!.message!.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(commit!.message!.endsWith('x…')).toBe(true);
    expect(clip('abc', 3)).toBe('abc');
    expect(clip('abcd', 3)).toBe('ab…');
  });

  it('skips records without a hash or a date, and an empty output', () => {
    expect(parseGitLog('')).toEqual([]);
    expect(parseGitLog('nothing\x1fhere\x1e\n')).toEqual([]);
    expect(parseGitLog(`${sha(1)}\x1fnot a date\x1fA\x1fs\x1e`)).toEqual([]);
  });
});

describe('gitCommits', () => {
  /** A git that knows commits 1..n and records its calls. */
  const fakeGit = (known: number, calls: string[][]): GitRunner => {
    return async (args) => {
      calls.push([...args]);
      if (args[0] === 'rev-parse' && args[1] === '--is-inside-work-tree') return 'true\n';
      if (args[0] === 'rev-parse') {
        const rev = args[3]!.replace('^{commit}', '');
        const n = rev === 'HEAD' ? known : Number.parseInt(rev, 16);
        if (n >= 1 && n <= known) return `${sha(n)}\n`;
        throw new Error('unknown revision');
      }
      const range = args.at(-2)!;
      const [from, to] = range.includes('..') ? range.split('..') : [undefined, range];
      const hi = Number.parseInt(to!, 16);
      const lo = from ? Number.parseInt(from, 16) : hi - 1;
      const limit = Number(args[3]);
      const out: string[] = [];
      for (let n = hi; n > lo && out.length < limit; n--) out.push(record(n));
      return out.join('');
    };
  };

  it('asks git only with hashes, after `--` nothing, and the strict committer date format', async () => {
    const calls: string[][] = [];
    const result = await gitCommits('/repo', 'HEAD', async () => sha(2), fakeGit(5, calls));
    expect(result).toMatchObject({ ok: true, headSha: sha(5), truncated: false, notes: [] });
    expect(result.ok && result.commits.map((c) => c.sha)).toEqual([sha(5), sha(4), sha(3)]);
    expect(calls.at(-1)).toEqual([
      'log',
      LOG_FORMAT,
      '-n',
      String(MAX_COMMITS + 1),
      `${sha(2)}..${sha(5)}`,
      '--',
    ]);
    expect(LOG_FORMAT).toContain('%cI');
  });

  it(`sends at most ${MAX_COMMITS} commits, the newest, and says it cut`, async () => {
    const result = await gitCommits('/repo', 'HEAD', async () => sha(1), fakeGit(MAX_COMMITS + 50, []));
    expect(result.ok && result.truncated).toBe(true);
    expect(result.ok && result.commits).toHaveLength(MAX_COMMITS);
    expect(result.ok && result.commits[0]!.sha).toBe(sha(MAX_COMMITS + 50));
  });

  it('never hands git a revision that is not a hash (it could be read as an option)', async () => {
    const calls: string[][] = [];
    const result = await gitCommits('/repo', '--output=/tmp/x', async () => undefined, fakeGit(3, calls));
    expect(result).toEqual({ ok: false, reason: 'commit --output=/tmp/x is not in this checkout' });
    const prev = await gitCommits('/repo', sha(3), async () => '--all', fakeGit(3, calls));
    expect(prev.ok && prev.notes[0]).toContain(
      'commit --all (the previous deployment) is not in this checkout',
    );
    expect(calls.flat().some((a) => a.startsWith('--output') || a === '--all')).toBe(false);
  });

  it('says git is missing or the directory is no checkout', async () => {
    const missing: GitRunner = async () => {
      throw Object.assign(new Error('spawn git ENOENT'), { code: 'ENOENT' });
    };
    expect(await gitCommits('/x', 'HEAD', async () => undefined, missing)).toEqual({
      ok: false,
      reason: 'git is not installed',
    });
    const notCheckout: GitRunner = async () => {
      throw new Error('fatal: not a git repository');
    };
    expect(await gitCommits('/x', 'HEAD', async () => undefined, notCheckout)).toEqual({
      ok: false,
      reason: '/x is not a git checkout',
    });
  });
});
