// The filesystem edge of the core: read the factory tree into SourceFile[], write generated
// OutputFile[] all or nothing, and diff them for `generate --check`.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { OutputFile, SourceFile } from '../core/types.js';

/** The parts of the repository the factory reads; everything else is ignored. */
export const SOURCE_DIRS = ['manifests', 'templates', 'fragments'] as const;
export const SOURCE_FILES = ['factory.lock.json'] as const;

// OS and editor droppings: hashed into a version's digest they would make the lock differ from
// one machine to the next. Anything else (dotfiles included) is content.
const JUNK = /^(?:\.DS_Store|Thumbs\.db|desktop\.ini|\..*\.sw[a-p]|\.#.*|.*~)$/;

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/**
 * Reads manifests/, templates/, fragments/ and factory.lock.json under `root`, sorted by path.
 * Symbolic links are never followed: they come back as entries with `link` set (the loader
 * reports those that leave their directory), so nothing outside the tree is ever read.
 */
export async function readTree(root: string): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  const walk = async (rel: string): Promise<void> => {
    const abs = path.join(root, rel);
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(abs, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const entry of entries) {
      if (JUNK.test(entry.name)) continue;
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isSymbolicLink()) {
        out.push({ path: childRel, bytes: new Uint8Array(), link: toPosix(await fs.readlink(path.join(root, childRel))) });
      } else if (entry.isDirectory()) {
        await walk(childRel);
      } else if (entry.isFile()) {
        out.push({ path: childRel, bytes: new Uint8Array(await fs.readFile(path.join(root, childRel))) });
      }
      // Sockets, FIFOs and devices are not source files; skip them rather than block on a read.
    }
  };
  for (const dir of SOURCE_DIRS) {
    const st = await fs.lstat(path.join(root, dir)).catch(() => undefined);
    if (!st) continue;
    if (st.isSymbolicLink()) {
      out.push({ path: dir, bytes: new Uint8Array(), link: toPosix(await fs.readlink(path.join(root, dir))) });
      continue;
    }
    if (st.isDirectory()) await walk(dir);
  }
  for (const file of SOURCE_FILES) {
    const st = await fs.lstat(path.join(root, file)).catch(() => undefined);
    if (!st) continue;
    if (st.isSymbolicLink()) out.push({ path: file, bytes: new Uint8Array(), link: toPosix(await fs.readlink(path.join(root, file))) });
    else if (st.isFile()) out.push({ path: file, bytes: new Uint8Array(await fs.readFile(path.join(root, file))) });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Refuses output paths that are absolute or climb out of the root. */
function safeJoin(root: string, rel: string): string {
  if (rel === '' || rel.startsWith('/') || rel.split('/').some((s) => s === '..') || rel.includes('\\') || rel.includes('\0')) {
    throw new Error(`refusing to write outside the repository: ${JSON.stringify(rel)}`);
  }
  return path.join(root, ...rel.split('/'));
}

/** The file operations the writer uses; tests pass one that fails on a chosen call. */
export interface OutputFs {
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: boolean }): Promise<void>;
  mkdir(path: string, options: { recursive: true }): Promise<string | undefined>;
  rmdir(path: string): Promise<void>;
  stat(path: string): Promise<{ mode: number; atimeMs: number; mtimeMs: number }>;
  chmod(path: string, mode: number): Promise<void>;
  /** times in seconds, as numbers: a Date would round them to the millisecond */
  utimes(path: string, atime: number, mtime: number): Promise<void>;
}

/** A write or removal of generated files that failed; the message names the file. */
export class OutputWriteError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'OutputWriteError';
  }
}

export interface WriteResult {
  /** outputs whose bytes changed (created or replaced), sorted */
  written: string[];
  /** files removed, sorted */
  removed: string[];
  /** outputs already on disk with the same bytes, left untouched */
  unchanged: number;
}

// Thousands of outputs: reading and staging them one by one is latency-bound, all at once runs
// out of file descriptors.
const CONCURRENCY = 32;

async function eachLimit<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  if (failure) throw failure.error;
}

/** "EACCES: permission denied" out of Node's "EACCES: permission denied, open '/abs/path'". */
function reason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return /^(E[A-Z]+: [^,]+)/.exec(message)?.[1] ?? message;
}

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

function tempBeside(abs: string, kind: string): string {
  return path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.${randomBytes(4).toString('hex')}.${kind}`);
}

interface Previous {
  bytes: Buffer;
  mode: number;
  atimeMs: number;
  mtimeMs: number;
}

interface Change {
  rel: string;
  abs: string;
  /** the new bytes; undefined for a removal */
  next?: Uint8Array;
  /** what was there; undefined when the file is new */
  previous?: Previous;
  /** the staged new file, or where a removed file waits until the end */
  temp: string;
}

/**
 * Makes the files under `root` equal `files`, and removes the files in `remove`, all or
 * nothing. Files whose bytes already match are not touched (their mtime neither). Every change
 * is first staged in a temp file beside its target; the staged files are then renamed into
 * place (a reader never sees a half-written file) and removed files are renamed aside. When any
 * step fails, the renamed files get their previous bytes, mode and times back, removed files
 * return, temp files and directories this call created go, and an OutputWriteError naming the
 * file is thrown: the tree is as it was. All paths are checked before anything is read.
 */
export async function writeOutputs(root: string, files: OutputFile[], options: { remove?: string[]; fs?: OutputFs } = {}): Promise<WriteResult> {
  const io: OutputFs = options.fs ?? fs;
  root = path.resolve(root);
  const { changes, unchanged } = await collectChanges(io, root, files, options.remove ?? []);
  const result = (): WriteResult => ({
    written: changes.filter((c) => c.next).map((c) => c.rel),
    removed: changes.filter((c) => !c.next).map((c) => c.rel),
    unchanged,
  });
  if (changes.length === 0) return result();
  await applyChanges(io, changes);
  await tidyRemoved(io, root, changes);
  return result();
}

/** What differs from the tree: files whose bytes change or are new, and removals of files that exist; sorted by path. */
async function collectChanges(io: OutputFs, root: string, files: OutputFile[], remove: string[]): Promise<{ changes: Change[]; unchanged: number }> {
  const encoder = new TextEncoder();
  const wanted = files.map((f) => ({ rel: f.path, abs: safeJoin(root, f.path), next: encoder.encode(f.text) }));
  const doomed = remove.map((rel) => ({ rel, abs: safeJoin(root, rel) }));
  const changes: Change[] = [];
  let unchanged = 0;
  await eachLimit(wanted, async (w) => {
    const current = await readCurrent(io, w.rel, w.abs);
    if (current && Buffer.compare(current, w.next) === 0) {
      unchanged++;
      return;
    }
    const previous = current && (await withStat(io, w.rel, w.abs, current));
    changes.push({ ...w, previous, temp: tempBeside(w.abs, 'tmp') });
  });
  await eachLimit(doomed, async (d) => {
    const current = await readCurrent(io, d.rel, d.abs);
    if (current) changes.push({ ...d, previous: await withStat(io, d.rel, d.abs, current), temp: tempBeside(d.abs, 'old') });
  });
  // A stable order: the same failure leaves the same trail, and rollback undoes in reverse.
  changes.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { changes, unchanged };
}

function unreadable(rel: string, e: unknown): OutputWriteError {
  return new OutputWriteError(`cannot read ${rel} (${reason(e)}); nothing was written`, rel);
}

/** The file's bytes, or undefined when there is none. */
async function readCurrent(io: OutputFs, rel: string, abs: string): Promise<Buffer | undefined> {
  try {
    return await io.readFile(abs);
  } catch (e) {
    // ENOTDIR: a file stands where a parent directory goes; staging reports it, by name.
    if (isMissing(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw unreadable(rel, e);
  }
}

async function withStat(io: OutputFs, rel: string, abs: string, bytes: Buffer): Promise<Previous> {
  try {
    const st = await io.stat(abs);
    return { bytes, mode: st.mode & 0o7777, atimeMs: st.atimeMs, mtimeMs: st.mtimeMs };
  } catch (e) {
    throw unreadable(rel, e);
  }
}

/** Stages every new file beside its target, then renames all into place (removals aside); on any failure rolls back and throws. */
async function applyChanges(io: OutputFs, changes: Change[]): Promise<void> {
  const createdDirs = new Set<string>();
  const staged: Change[] = [];
  const committed: Change[] = [];
  let step = '';
  let current: Change | undefined;
  try {
    await eachLimit(
      changes.filter((c) => c.next),
      async (c) => {
        const dir = path.dirname(c.abs);
        let first: string | undefined;
        try {
          first = await io.mkdir(dir, { recursive: true });
        } catch (e) {
          throw new OutputWriteError(`cannot create the directory of ${c.rel} (${reason(e)})`, c.rel);
        }
        // mkdir reports the topmost directory it made; every one from there down to `dir` is new.
        for (let d = dir; first && d.length >= first.length; d = path.dirname(d)) createdDirs.add(d);
        staged.push(c);
        try {
          await io.writeFile(c.temp, c.next!);
        } catch (e) {
          throw new OutputWriteError(`cannot write ${c.rel} (${reason(e)})`, c.rel);
        }
      },
    );
    for (const c of changes) {
      current = c;
      step = c.next ? 'replace' : 'remove';
      if (c.next) await io.rename(c.temp, c.abs);
      else await io.rename(c.abs, c.temp);
      committed.push(c);
    }
  } catch (e) {
    const failure = e instanceof OutputWriteError ? e : new OutputWriteError(`cannot ${step} ${current!.rel} (${reason(e)})`, current!.rel);
    const unrestored = await rollback(io, committed, staged, createdDirs);
    throw new OutputWriteError(
      unrestored.length === 0
        ? `${failure.message}; nothing was changed`
        : `${failure.message}; could not restore ${unrestored.join(', ')}: those files are left with their new bytes`,
      failure.file,
    );
  }
}

/** After the commit: deletes the removed files' parked copies and the directories they emptied. */
async function tidyRemoved(io: OutputFs, root: string, changes: Change[]): Promise<void> {
  const leftover: string[] = [];
  for (const c of changes) {
    if (c.next) continue;
    try {
      await io.rm(c.temp, { force: true });
    } catch {
      leftover.push(path.relative(root, c.temp).split(path.sep).join('/'));
      continue;
    }
    for (let d = path.dirname(c.abs); d.length > root.length && d.startsWith(root); d = path.dirname(d)) {
      try {
        await io.rmdir(d);
      } catch {
        break; // not empty (or not ours to remove): its parents are not empty either
      }
    }
  }
  if (leftover.length) throw new OutputWriteError(`the generated files were written, but cannot delete ${leftover.join(', ')}`, leftover[0]!);
}

/** Undoes what writeOutputs did, newest first; returns the files it could not put back. */
async function rollback(io: OutputFs, committed: Change[], staged: Change[], createdDirs: Set<string>): Promise<string[]> {
  const unrestored: string[] = [];
  for (const c of [...committed].reverse()) {
    try {
      if (!c.next) await io.rename(c.temp, c.abs);
      else if (!c.previous) await io.rm(c.abs, { force: true });
      else {
        // The same temp-and-rename as the write, so a reader sees the old file or the new one.
        const back = tempBeside(c.abs, 'bak');
        try {
          await io.writeFile(back, c.previous.bytes);
          await io.chmod(back, c.previous.mode);
          await io.utimes(back, c.previous.atimeMs / 1000, c.previous.mtimeMs / 1000);
          await io.rename(back, c.abs);
        } catch (e) {
          await io.rm(back, { force: true }).catch(() => undefined);
          throw e;
        }
      }
    } catch {
      unrestored.push(c.rel);
    }
  }
  const done = new Set(committed);
  for (const c of staged) if (!done.has(c)) await io.rm(c.temp, { force: true }).catch(() => undefined);
  for (const d of [...createdDirs].sort((a, b) => b.length - a.length)) await io.rmdir(d).catch(() => undefined);
  return unrestored;
}

export interface OutputDiff {
  path: string;
  status: 'missing' | 'stale';
}

/** Which outputs differ from what is on disk (for `generate --check`), sorted by path. */
export async function diffOutputs(root: string, files: OutputFile[]): Promise<OutputDiff[]> {
  const out: OutputDiff[] = [];
  const encoder = new TextEncoder();
  await eachLimit(files, async (f) => {
    const current = await fs.readFile(safeJoin(root, f.path)).catch(() => undefined);
    if (current === undefined) out.push({ path: f.path, status: 'missing' });
    else if (Buffer.compare(current, encoder.encode(f.text)) !== 0) out.push({ path: f.path, status: 'stale' });
  });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
