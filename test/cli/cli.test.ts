// The `factory` CLI as a user runs it: real files in a temporary copy of a fixture factory,
// exit codes, messages, and nothing written on errors.
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/cli.js';
import type { Io } from '../../src/cli/output.js';

const FIXTURES = path.resolve(__dirname, '../fixtures');
const temps: string[] = [];

function copyFixture(rel: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'factory-cli-'));
  temps.push(dir);
  cpSync(path.join(FIXTURES, rel), dir, { recursive: true });
  return dir;
}

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

function snapshotTree(root: string): Record<string, string> {
  const result: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const abs = path.join(dir, name);
      if (statSync(abs).isDirectory()) walk(abs);
      else result[path.relative(root, abs)] = readFileSync(abs, 'utf8');
    }
  };
  walk(root);
  return result;
}

describe('factory CLI', () => {
  it.each([
    { argv: ['--help'], code: 0, stream: 'out', text: 'Commands:' },
    { argv: [], code: 2, stream: 'err', text: 'Usage: factory' },
    { argv: ['frobnicate'], code: 2, stream: 'err', text: "unknown command 'frobnicate'" },
    { argv: ['generate', '--bogus'], code: 2, stream: 'err', text: "Unknown option '--bogus'" },
    { argv: ['explain'], code: 2, stream: 'err', text: 'expected explain <id>' },
    { argv: ['generate', '--help'], code: 0, stream: 'out', text: '--check' },
  ])('$argv -> exit $code', async ({ argv, code, stream, text }) => {
    const r = await factory(...argv);
    expect(r.code).toBe(code);
    expect(stream === 'out' ? r.out : r.err).toContain(text);
  });

  it('validates a good factory', async () => {
    const root = copyFixture('good/minimal');
    const r = await factory('--root', root, 'validate');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ok: \d+ products, \d+ targets\./);
  });

  it('reports every problem of a bad factory with file:line:column and no stack trace', async () => {
    const root = copyFixture('bad/47-many-problems');
    const r = await factory('--root', root, 'validate');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^manifests\/[^:]+\.yaml:\d+:\d+: error\[/m);
    expect(r.err).toMatch(/\d+ errors?.*nothing was written/);
    expect(r.err).not.toMatch(/\n\s+at .*\.(ts|js):\d+/);
  });

  it('--json prints diagnostics for machines', async () => {
    const root = copyFixture('bad/12-unknown-fragment');
    const r = await factory('--root', root, '--json', 'validate');
    expect(r.code).toBe(1);
    const parsed = JSON.parse(r.out) as { ok: boolean; diagnostics: { code: string; location: { file: string; line: number } }[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.diagnostics[0]!.location.line).toBeGreaterThan(0);
  });

  it('generate writes outputs, --check passes, then catches stale and orphaned files', async () => {
    const root = copyFixture('good/minimal');
    const gen = await factory('--root', root, 'generate');
    expect(gen.err).toBe('');
    expect(gen.code).toBe(0);
    const first = snapshotTree(root);
    expect(Object.keys(first)).toContain('docker-bake.hcl');
    expect(Object.keys(first)).toContain('.github/workflows/factory.yml');
    expect(Object.keys(first)).toContain('schema/factory.schema.json');

    // Same inputs, byte-identical outputs.
    expect((await factory('--root', root, 'generate')).code).toBe(0);
    expect(snapshotTree(root)).toEqual(first);
    expect((await factory('--root', root, 'generate', '--check')).code).toBe(0);

    writeFileSync(path.join(root, 'docker-bake.hcl'), `${first['docker-bake.hcl']}# edited by hand\n`);
    mkdirSync(path.join(root, 'build/old-product'), { recursive: true });
    writeFileSync(path.join(root, 'build/old-product/Dockerfile'), 'FROM scratch\n');
    const check = await factory('--root', root, 'generate', '--check');
    expect(check.code).toBe(3);
    expect(check.err).toContain('docker-bake.hcl: stale');
    expect(check.err).toContain('build/old-product/Dockerfile: orphaned');
    expect(check.err).toContain("run 'npm run generate'");

    expect((await factory('--root', root, 'generate')).code).toBe(0);
    expect(snapshotTree(root)).toEqual(first);
  });

  it('generate after a generate touches no file: same mtimes, nothing reported written', async () => {
    const root = copyFixture('good/minimal');
    expect((await factory('--root', root, 'generate')).code).toBe(0);
    const files = Object.keys(snapshotTree(root));
    const mtimes = files.map((f) => statSync(path.join(root, f)).mtimeMs);
    await new Promise((r) => setTimeout(r, 20));
    const again = await factory('--root', root, '--json', 'generate');
    expect(again.code).toBe(0);
    const report = JSON.parse(again.out) as { written: string[]; unchanged: number; removed: string[] };
    expect(report.written).toEqual([]);
    expect(report.removed).toEqual([]);
    expect(report.unchanged).toBeGreaterThan(0);
    expect(files.map((f) => statSync(path.join(root, f)).mtimeMs)).toEqual(mtimes);
  });

  it('generate that cannot write one file names it, exits 4 and leaves the tree as it was', async () => {
    const root = copyFixture('good/minimal');
    // a file where generate needs the schema/ directory
    writeFileSync(path.join(root, 'schema'), 'in the way\n');
    const before = snapshotTree(root);
    const r = await factory('--root', root, 'generate');
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/^factory generate: cannot create the directory of schema\/[\w.-]+\.json \((EEXIST|ENOTDIR): [^)]+\); nothing was changed\n$/);
    expect(r.err).not.toMatch(/\bat .*\.ts:\d+/);
    expect(snapshotTree(root)).toEqual(before);
  });

  it('generate writes nothing when the factory has an error', async () => {
    const root = copyFixture('bad/13-unknown-fragment-version');
    const before = snapshotTree(root);
    const r = await factory('--root', root, 'generate');
    expect(r.code).toBe(1);
    expect(r.err).toContain('nothing was written');
    expect(snapshotTree(root)).toEqual(before);
  });

  it('explains an id in words and suggests close ids for a typo', async () => {
    const root = copyFixture('good/minimal');
    const list = await factory('--root', root, '--json', 'list');
    const targets = JSON.parse(list.out) as { id: string; product: string; target: string }[];
    const id = targets[0]!.id;
    const r = await factory('--root', root, 'explain', id);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`is product ${targets[0]!.product}`);
    expect(r.out).toContain('Fragments, in build order:');
    expect(r.out).toContain(targets[0]!.target);

    const typo = await factory('--root', root, 'explain', `${id.slice(0, -1)}x`);
    expect(typo.code).toBe(1);
    expect(typo.err).toContain('did you mean');
  });

  it('render prints the Dockerfile and, with --map, where each line came from', async () => {
    const root = copyFixture('good/minimal');
    const list = JSON.parse((await factory('--root', root, '--json', 'list')).out) as { id: string }[];
    const r = await factory('--root', root, 'render', list[0]!.id, '--map');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/templates\/[^ ]+:\d+ +FROM \$\{BASE_IMAGE\} AS base/);
    expect(r.out).toMatch(/fragments\/[^ ]+\/Dockerfile\.ejs:\d+ /);
  });
});
