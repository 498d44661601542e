// Temporary git repositories for change-detection tests and the plan benchmark: copy a fixture
// tree, commit it, apply edits, commit again. Real git, so renames, deletions and symlinks are
// seen exactly as `factory plan` sees them in CI.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'factory-test',
  GIT_AUTHOR_EMAIL: 'factory-test@example.invalid',
  GIT_COMMITTER_NAME: 'factory-test',
  GIT_COMMITTER_EMAIL: 'factory-test@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export const Edits = z
  .object({
    write: z.record(z.string(), z.string()).optional(),
    copy: z.array(z.object({ from: z.string(), to: z.string() }).strict()).optional(),
    replace: z.array(z.object({ file: z.string(), from: z.string(), to: z.string() }).strict()).optional(),
    delete: z.array(z.string()).optional(),
    rename: z.array(z.object({ from: z.string(), to: z.string() }).strict()).optional(),
    symlink: z.array(z.object({ path: z.string(), target: z.string() }).strict()).optional(),
  })
  .strict();
export type Edits = z.infer<typeof Edits>;

function inRepo(root: string, rel: string): string {
  const abs = path.resolve(root, rel);
  if (!abs.startsWith(root + path.sep)) throw new Error(`edit path escapes the repository: ${rel}`);
  return abs;
}

/** Applies edits in a fixed order: copy, write, replace, rename, delete, symlink. */
export function applyEdits(root: string, edits: Edits): void {
  for (const c of edits.copy ?? []) fs.cpSync(inRepo(root, c.from), inRepo(root, c.to), { recursive: true });
  for (const [rel, text] of Object.entries(edits.write ?? {})) {
    fs.mkdirSync(path.dirname(inRepo(root, rel)), { recursive: true });
    fs.writeFileSync(inRepo(root, rel), text);
  }
  for (const r of edits.replace ?? []) {
    const file = inRepo(root, r.file);
    const text = fs.readFileSync(file, 'utf8');
    // A replacement that matches nothing would silently test the unchanged tree.
    if (!text.includes(r.from)) throw new Error(`replace: ${JSON.stringify(r.from)} not found in ${r.file}`);
    fs.writeFileSync(file, text.replace(r.from, r.to));
  }
  for (const r of edits.rename ?? []) {
    fs.mkdirSync(path.dirname(inRepo(root, r.to)), { recursive: true });
    git(root, 'mv', r.from, r.to);
  }
  for (const d of edits.delete ?? []) fs.rmSync(inRepo(root, d), { recursive: true });
  for (const s of edits.symlink ?? []) fs.symlinkSync(s.target, inRepo(root, s.path));
}

export function commitAll(root: string, message: string): string {
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '--allow-empty', '-m', message);
  return git(root, 'rev-parse', 'HEAD');
}

/** A new repository holding a copy of `fixture` (plus `baseEdits`), committed on main. */
export function repoFromFixture(fixture: string, baseEdits?: Edits): { root: string; base: string } {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-plan-')));
  fs.cpSync(fixture, root, { recursive: true });
  git(root, 'init', '-q', '-b', 'main');
  if (baseEdits) applyEdits(root, baseEdits);
  return { root, base: commitAll(root, 'base') };
}
