// The edit loop of a version that was never published (issue 14): the lock-mismatch hint names
// `factory lock --update name@version`, which records the new digest and nothing else; plain
// `factory lock` keeps refusing, so a published version is never re-locked by accident.
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/cli.js';
import type { Io } from '../../src/cli/output.js';

const FIXTURE = path.resolve(__dirname, '../fixtures/good/minimal');
const temps: string[] = [];
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

function copy(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'factory-lock-update-'));
  temps.push(dir);
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

async function factory(root: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), color: false };
  const code = await run(['--root', root, ...argv], io);
  return { code, out, err };
}

const lockOf = (root: string) => JSON.parse(readFileSync(path.join(root, 'factory.lock.json'), 'utf8'));
const edit = (root: string, rel: string) => appendFileSync(path.join(root, rel), '# edited before the first release\n');

describe('factory lock --update', () => {
  it('re-records exactly the named unpublished version after an in-place edit', async () => {
    const root = copy();
    const before = lockOf(root);
    edit(root, 'fragments/python/1.0.0/Dockerfile.ejs');

    const refused = await factory(root, 'validate');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('error[lock-mismatch]');
    expect(refused.err).toContain('run `factory lock --update python@1.0.0`');
    expect((await factory(root, 'lock')).code).toBe(1); // plain lock still refuses

    const updated = await factory(root, 'lock', '--update', 'python@1.0.0');
    expect(updated.code, updated.err).toBe(0);
    const after = lockOf(root);
    expect(after.fragments['python@1.0.0'].digest).not.toBe(before.fragments['python@1.0.0'].digest);
    expect(updated.out).toContain(`python@1.0.0: ${after.fragments['python@1.0.0'].digest}`);
    delete before.fragments['python@1.0.0'];
    delete after.fragments['python@1.0.0'];
    expect(after).toEqual(before); // every other entry and pin as it was

    expect((await factory(root, 'validate')).code).toBe(0);
    expect((await factory(root, 'generate')).code).toBe(0);
  });

  it.each([
    {
      what: 'an unknown version',
      argv: ['--update', 'pyton@1.0.0'],
      code: 1,
      err: /no template or fragment version pyton@1\.0\.0 in this factory; did you mean "python@1\.0\.0"\?/,
    },
    { what: 'another edited version left out', argv: ['--update', 'app@1.0.0'], code: 1, err: /python@1\.0\.0 is locked at/ },
    { what: '--check with --update', argv: ['--check', '--update', 'python@1.0.0'], code: 2, err: /--update writes the lock; --check only reads it/ },
  ])('$what: exit $code, lock untouched', async ({ argv, code, err }) => {
    const root = copy();
    edit(root, 'fragments/python/1.0.0/Dockerfile.ejs');
    edit(root, 'fragments/app/1.0.0/Dockerfile.ejs');
    const before = readFileSync(path.join(root, 'factory.lock.json'), 'utf8');
    const r = await factory(root, 'lock', ...argv);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(err);
    expect(readFileSync(path.join(root, 'factory.lock.json'), 'utf8')).toBe(before);
  });
});
