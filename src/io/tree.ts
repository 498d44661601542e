// The filesystem edge of the core: read the factory tree into SourceFile[], write generated
// OutputFile[] atomically, and diff them for `generate --check`.
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

/**
 * Writes every file through a temp file in the same directory and a rename, so a reader never
 * sees a half-written file. Unchanged files are left alone (their mtime too). All paths are
 * checked before anything is written.
 */
export async function writeOutputs(root: string, files: OutputFile[]): Promise<void> {
  const targets = files.map((f) => ({ abs: safeJoin(root, f.path), text: f.text }));
  for (const t of targets) {
    const current = await fs.readFile(t.abs, 'utf8').catch(() => undefined);
    if (current === t.text) continue;
    await fs.mkdir(path.dirname(t.abs), { recursive: true });
    const tmp = path.join(path.dirname(t.abs), `.${path.basename(t.abs)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await fs.writeFile(tmp, t.text);
      await fs.rename(tmp, t.abs);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
  }
}

export interface OutputDiff {
  path: string;
  status: 'missing' | 'stale';
}

/** Which outputs differ from what is on disk (for `generate --check`), sorted by path. */
export async function diffOutputs(root: string, files: OutputFile[]): Promise<OutputDiff[]> {
  const out: OutputDiff[] = [];
  for (const f of files) {
    const current = await fs.readFile(safeJoin(root, f.path), 'utf8').catch(() => undefined);
    if (current === undefined) out.push({ path: f.path, status: 'missing' });
    else if (current !== f.text) out.push({ path: f.path, status: 'stale' });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
