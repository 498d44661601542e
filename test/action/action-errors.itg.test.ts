// Errors of the action itself, from the bundled entry as a runner runs it: each ends in one
// `::error::` line that names what to fix, with no stack trace.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-action-errors-'));
afterAll(() => fs.rmSync(ws, { recursive: true, force: true }));

// spawnSync is fine here: nothing in this process has to answer the child.
function run(inputs: Record<string, string>, pathDirs: string[]): { status: number | null; errors: string[]; out: string } {
  const env: Record<string, string> = { PATH: pathDirs.join(':'), HOME: os.homedir(), GITHUB_WORKSPACE: ws, RUNNER_TEMP: path.join(ws, 'tmp') };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const r = spawnSync(process.execPath, [path.join(repo, 'dist/index.js')], { env, encoding: 'utf8' });
  const out = r.stdout + r.stderr;
  return { status: r.status, errors: out.split('\n').filter((l) => l.startsWith('::error')), out };
}

describe('errors of the action itself', () => {
  it.each([
    ['a bad input', { target: 't', push: 'sure' }, ['/usr/bin', '/bin'], '::error::input `push`: expected true or false, got "sure"'],
    [
      'a missing bake file',
      { target: 't', files: 'missing.hcl' },
      ['/usr/bin', '/bin'],
      `::error::input \`files\`: missing.hcl not found in ${ws}; generate it with \`factory generate\` or fix the path`,
    ],
  ])('%s', (_name, inputs, dirs, message) => {
    const r = run(inputs, dirs);
    expect(r.status).toBe(1);
    expect(r.errors).toEqual([message]);
    expect(r.out).not.toMatch(/\n\s+at /);
  });

  it('missing buildx', () => {
    fs.writeFileSync(path.join(ws, 'docker-bake.hcl'), 'target "t" {}\n');
    // A PATH with neither docker nor buildx on it.
    const r = run({ target: 't' }, [path.join(ws, 'empty-bin')]);
    expect(r.status).toBe(1);
    expect(r.errors).toEqual([
      '::error::buildx not found: neither `docker buildx version` nor `buildx version` works on this runner; add docker/setup-buildx-action before this step or put buildx on PATH',
    ]);
  });
});
