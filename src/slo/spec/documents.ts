/**
 * Reads spec files into located objects: every object keeps its YAML node so any later
 * problem can be reported at file:line:column, however deep it sits.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml';
import type { SourceLocation } from '../model.js';
import type { Diagnostic } from './diagnostics.js';

export const SPEC_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export type PathSegment = string | number;

/** One top-level object of a spec file (a document, or one item of a document that is a list). */
export interface SpecObject {
  readonly file: string;
  readonly value: unknown;
  /** Location of the node at `path` below this object, or of its nearest existing ancestor. */
  at(path?: readonly PathSegment[]): SourceLocation;
  /** Location of the key of the last path segment (for "unknown field" and "remove this" messages). */
  keyAt(path: readonly PathSegment[]): SourceLocation;
}

export interface ReadResult {
  readonly files: readonly string[];
  readonly objects: readonly SpecObject[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Parses the text of one spec file (YAML, multi-document YAML or JSON). */
export function parseSpecText(
  file: string,
  text: string,
): { objects: SpecObject[]; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const objects: SpecObject[] = [];
  const diagnostics: Diagnostic[] = [];
  const locate = (offset: number): SourceLocation => {
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };
  // YAML 1.2 core schema: `2022-01-01 12:00:00` stays a string, as OpenSLO expects.
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  for (const doc of docs) {
    const problems = [...doc.errors, ...doc.warnings];
    for (const problem of problems) {
      diagnostics.push({
        ...locate(problem.pos[0]),
        severity: doc.errors.includes(problem as never) ? 'error' : 'warning',
        rule: 'yaml/syntax',
        message: firstLine(problem.message),
        hint: yamlHint(problem.code),
      });
    }
    if (doc.errors.length > 0) continue;
    const root = doc.contents;
    if (root === null || (isScalar(root) && (root.value === null || root.value === undefined))) continue;
    if (isSeq(root)) {
      root.items.forEach((item, index) => {
        if (isMap(item)) objects.push(makeObject(file, item, locate));
        else
          diagnostics.push({
            ...locate(rangeStart(item as Node | null, root)),
            severity: 'error',
            rule: 'spec/not-an-object',
            message: `list item ${index + 1} is not an object`,
            hint: 'a spec file holds objects with apiVersion/kind (or a Sloth `version:`), or a list of them',
          });
      });
    } else if (isMap(root)) {
      objects.push(makeObject(file, root, locate));
    } else {
      diagnostics.push({
        ...locate(rangeStart(root, root)),
        severity: 'error',
        rule: 'spec/not-an-object',
        message: 'document is not an object',
        hint: 'a spec file holds objects with apiVersion/kind (or a Sloth `version:`), or a list of them',
      });
    }
  }
  return { objects, diagnostics };
}

function makeObject(file: string, node: Node, locate: (offset: number) => SourceLocation): SpecObject {
  const value = node.toJSON();
  const nodeAt = (path: readonly PathSegment[]): Node => {
    let current: Node = node;
    for (const segment of path) {
      const next = childNode(current, segment);
      if (!next) break;
      current = next;
    }
    return current;
  };
  return {
    file,
    value,
    at: (path = []) => locate(rangeStart(nodeAt(path), node)),
    keyAt: (path) => {
      if (path.length === 0) return locate(rangeStart(node, node));
      const parent = nodeAt(path.slice(0, -1));
      const last = path[path.length - 1];
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
        if (pair && isScalar(pair.key)) return locate(rangeStart(pair.key, node));
      }
      return locate(rangeStart(nodeAt(path), node));
    },
  };
}

function childNode(node: Node, segment: PathSegment): Node | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
    return (pair?.value as Node | null) ?? undefined;
  }
  if (isSeq(node) && typeof segment === 'number') return (node.items[segment] as Node | null) ?? undefined;
  return undefined;
}

function rangeStart(node: Node | null | undefined, fallback: Node): number {
  return node?.range?.[0] ?? fallback.range?.[0] ?? 0;
}

function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}

function yamlHint(code: string): string | undefined {
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'each key may appear once per object';
    case 'TAB_AS_INDENT':
      return 'indent YAML with spaces, not tabs';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
      return 'check the indentation and quoting on this line';
    default:
      return undefined;
  }
}

export type ParseSpecText = typeof parseSpecText;

export interface ReadOptions {
  /**
   * Name files relative to the spec root (the directory, or a file's directory) instead of `cwd`,
   * and never show an absolute path: what a server reports to its API clients and logs.
   */
  readonly rootRelative?: boolean;
  /** Parses one file's text; a caller may pass a caching one. */
  readonly parse?: ParseSpecText;
}

/**
 * Reads a file or a directory tree of spec files (.yaml, .yml, .json), skipping hidden entries
 * and node_modules. Files are read in a stable order so diagnostics are reproducible.
 */
export async function readSpecTree(
  root: string,
  cwd = process.cwd(),
  options: ReadOptions = {},
): Promise<ReadResult> {
  const parse = options.parse ?? parseSpecText;
  const diagnostics: Diagnostic[] = [];
  const files: string[] = [];
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(root);
  } catch {
    diagnostics.push({
      file: options.rootRelative ? basename(root) : root,
      line: 1,
      column: 1,
      severity: 'error',
      rule: 'spec/not-found',
      message: 'no such file or directory',
    });
    return { files, objects: [], diagnostics };
  }
  if (info.isDirectory()) await collect(root, files);
  else files.push(root);
  files.sort();
  const display = options.rootRelative
    ? (path: string) => rootRelativePath(path, info.isDirectory() ? root : dirname(root))
    : (path: string) => displayPath(path, cwd);

  const objects: SpecObject[] = [];
  for (const path of files) {
    const shown = display(path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      diagnostics.push({
        file: shown,
        line: 1,
        column: 1,
        severity: 'error',
        rule: 'spec/unreadable',
        // The system's message names the absolute path; a server shows only the code.
        message: options.rootRelative
          ? `cannot read the file (${code ?? 'error'})`
          : (error as Error).message,
      });
      continue;
    }
    const parsed = parse(shown, text);
    objects.push(...parsed.objects);
    diagnostics.push(...parsed.diagnostics);
  }
  return { files: files.map(display), objects, diagnostics };
}

/** A path under `base` as `a/b.yaml`, with forward slashes on every platform. */
function rootRelativePath(path: string, base: string): string {
  return relative(base, path).split(sep).join('/') || basename(path);
}

async function collect(dir: string, into: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    // A Kubernetes ConfigMap volume holds each file as a symlink (name → ..data/name): follow links
    // to files (not to directories, which could loop).
    const isFile =
      entry.isFile() || (entry.isSymbolicLink() && (await stat(path).catch(() => null))?.isFile());
    if (entry.isDirectory()) await collect(path, into);
    else if (isFile && SPEC_EXTENSIONS.has(extname(entry.name).toLowerCase())) into.push(path);
  }
}

function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') ? rel : path;
}
