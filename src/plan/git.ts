// The git edge of change detection: which files changed between two revisions, and the factory
// tree as it was at a revision. Real git, no libraries: `git diff --name-status -M -z`,
// `git ls-tree -r -z` and one `git cat-file --batch` for every blob.
import { spawn } from 'node:child_process';
import type { SourceFile } from '../core/types.js';
import { SOURCE_DIRS, SOURCE_FILES } from '../io/tree.js';

export type ChangeStatus = 'added' | 'modified' | 'deleted' | 'renamed' | 'copied' | 'type-changed';

export interface ChangedFile {
  status: ChangeStatus;
  /** Path at head (for deletions: the deleted path). */
  path: string;
  /** Path at base, for renames and copies. */
  from?: string;
}

/** A git failure the user can act on (unknown ref, not a repository, shallow clone). */
export class GitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitError';
  }
}

async function git(cwd: string, args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new GitError(`cannot run git: ${e.message}; install git or put it on PATH`)));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new GitError(`git ${args[0]} failed: ${Buffer.concat(err).toString('utf8').trim()}`));
    });
    child.stdin.end(input);
  });
}

/** The commit a ref names; a clear error for refs that do not exist (e.g. a shallow clone). */
export async function resolveCommit(repoRoot: string, ref: string): Promise<string> {
  if (ref.startsWith('-')) throw new GitError(`"${ref}" is not a git revision`);
  try {
    return (await git(repoRoot, ['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`])).toString('utf8').trim();
  } catch {
    throw new GitError(`unknown git revision "${ref}" in ${repoRoot}; fetch it first (in CI: actions/checkout with fetch-depth: 0)`);
  }
}

const STATUS: Record<string, ChangeStatus> = {
  A: 'added',
  M: 'modified',
  D: 'deleted',
  R: 'renamed',
  C: 'copied',
  T: 'type-changed',
};

/** Parses `git diff --name-status -z` output: status NUL path NUL, or status NUL from NUL to NUL. */
export function parseNameStatus(out: string): ChangedFile[] {
  const parts = out.split('\0');
  const files: ChangedFile[] = [];
  for (let i = 0; i < parts.length;) {
    const code = parts[i++];
    if (!code) continue;
    const status = STATUS[code[0]!];
    if (!status) throw new GitError(`unexpected git diff status "${code}"`);
    if (status === 'renamed' || status === 'copied') {
      const from = parts[i++]!;
      const path = parts[i++]!;
      files.push({ status, path, from });
    } else {
      files.push({ status, path: parts[i++]! });
    }
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Files changed from `base` to `head` (commits), renames detected. */
export async function diffFiles(repoRoot: string, base: string, head: string): Promise<ChangedFile[]> {
  // --no-relative/--no-ext-diff: user configuration must not change what the plan sees.
  const out = await git(repoRoot, ['-c', 'diff.renames=true', 'diff', '--name-status', '-M', '-z', '--no-ext-diff', '--no-relative', base, head]);
  return parseNameStatus(out.toString('utf8'));
}

/**
 * The factory's source files (what io/tree.ts readTree reads from disk) as they are at
 * `commit`. Symbolic links come back with `link` set, like readTree does.
 */
export async function readTreeAt(repoRoot: string, commit: string): Promise<SourceFile[]> {
  const listing = await git(repoRoot, ['ls-tree', '-r', '-z', '--full-tree', commit, '--', ...SOURCE_DIRS, ...SOURCE_FILES]);
  const entries: { mode: string; oid: string; path: string }[] = [];
  for (const line of listing.toString('utf8').split('\0')) {
    if (!line) continue;
    // "<mode> SP <type> SP <object> TAB <path>"
    const tab = line.indexOf('\t');
    const [mode, type, oid] = line.slice(0, tab).split(' ');
    if (type !== 'blob') continue; // submodules (commit entries) are not source files
    entries.push({ mode: mode!, oid: oid!, path: line.slice(tab + 1) });
  }
  if (entries.length === 0) return [];
  const batch = await git(repoRoot, ['cat-file', '--batch'], Buffer.from(entries.map((e) => `${e.oid}\n`).join('')));
  const files: SourceFile[] = [];
  let pos = 0;
  for (const entry of entries) {
    const nl = batch.indexOf(0x0a, pos);
    const header = batch.subarray(pos, nl).toString('utf8');
    const size = Number(header.split(' ')[2]);
    if (!Number.isInteger(size)) throw new GitError(`unexpected git cat-file output for ${entry.path}: ${header}`);
    const bytes = new Uint8Array(batch.subarray(nl + 1, nl + 1 + size));
    pos = nl + 1 + size + 1; // content is followed by a newline
    if (entry.mode === '120000') files.push({ path: entry.path, bytes: new Uint8Array(), link: Buffer.from(bytes).toString('utf8') });
    else files.push({ path: entry.path, bytes });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
