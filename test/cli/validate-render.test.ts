// Problems that only show when templates and snippets are rendered (and the rendered Dockerfile
// is read back): every directory under test/fixtures/bad-render/ is a small factory with one such
// mistake, and an expect.json with the exact diagnostics (`file:line:col: error[code] message`
// and its hint line) that `validate` must print, with exit 1. `generate` must print the same and
// write nothing: validate reports everything generate would.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/cli.js';
import type { Io } from '../../src/cli/output.js';

const corpus = path.resolve(__dirname, '../fixtures/bad-render');
const cases = readdirSync(corpus, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
const temps: string[] = [];
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function factory(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), color: false };
  const code = await run(argv, io);
  return { code, out, err };
}

/** The diagnostic lines of stderr: the error lines and their hints, not the summary or warnings. */
function diagnosticLines(err: string): string[] {
  return err.split('\n').filter((l) => / error\[[a-z-]+\] /.test(l) || l.startsWith('  hint: '));
}

describe('render problems are reported by validate', () => {
  it.each(cases)('%s', async (name) => {
    const want = JSON.parse(readFileSync(path.join(corpus, name, 'expect.json'), 'utf8')) as { description: string; stderr: string[] };
    const root = mkdtempSync(path.join(os.tmpdir(), 'factory-bad-render-'));
    temps.push(root);
    cpSync(path.join(corpus, name), root, { recursive: true });
    rmSync(path.join(root, 'expect.json'));

    const v = await factory('validate', '--root', root);
    expect(diagnosticLines(v.err)).toEqual(want.stderr);
    expect(v.code).toBe(1);
    expect(v.err).not.toMatch(/\n\s+at |internal error/);

    const g = await factory('generate', '--root', root);
    expect(diagnosticLines(g.err)).toEqual(want.stderr);
    expect(g.code).toBe(1);
    expect(readdirSync(root).sort()).toEqual(['fragments', 'manifests', 'templates']);
  });
});
