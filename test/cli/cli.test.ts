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

  // A file in the way is the user's to move: refused before anything is written (exit 1). The
  // roll-back of an I/O failure midway is tested with an injected failure in test/io/tree.test.ts.
  it('generate with a file where an output directory goes refuses it first and leaves the tree as it was', async () => {
    const root = copyFixture('good/minimal');
    // a file where generate needs the schema/ directory
    writeFileSync(path.join(root, 'schema'), 'in the way\n');
    const before = snapshotTree(root);
    const r = await factory('--root', root, 'generate');
    expect(r.code).toBe(1);
    expect(r.err).toContain('schema');
    expect(r.err).not.toContain('internal error');
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

// One row per class of bad input: validate and generate must both refuse it with the same
// located error and exit 1 (never 4, the internal error), and generate must write nothing.
describe('bad input: validate reports what generate would, exit 1, located', () => {
  const edit = (root: string, rel: string, f: (t: string) => string) => writeFileSync(path.join(root, rel), f(readFileSync(path.join(root, rel), 'utf8')));
  it.each([
    {
      what: 'a product name too long for a build/ directory',
      change: (root: string) => edit(root, 'manifests/tools.yaml', (t) => t.replace('name: tools\n', `name: ${'a'.repeat(300)}\n`)),
      line: /^manifests\/tools\.yaml:2:7: error\[schema\] name: must be at most 63 characters/m,
    },
    {
      what: 'a Pool runs-on with a workflow expression',
      change: (root: string) => edit(root, 'manifests/factory.yaml', (t) => t.replace('runs-on: ubuntu-24.04\n', 'runs-on: "${{ github.head_ref }}"\n')),
      line: /^manifests\/factory\.yaml:10:10: error\[schema\] runs-on: must be a runner label/m,
    },
    {
      what: 'an EJS include() in a snippet',
      change: (root: string) => edit(root, 'fragments/tools/1.0.0/Dockerfile.ejs', (t) => `${t}<%- include('/etc/passwd') %>\n`),
      line: /^fragments\/tools\/1\.0\.0\/Dockerfile\.ejs:2:5: error\[render-include\] include\(\) is not allowed/m,
    },
    {
      what: 'a NUL written as "\\0" in a test command',
      change: (root: string) =>
        edit(root, 'manifests/tools.yaml', (t) => t.replace("tags: ['{version}']\n", 'tags: [\'{version}\']\ntests:\n  - name: t\n    command: "echo \\0"\n')),
      line: /^manifests\/tools\.yaml:10:14: error\[control-char\] tests\[0\]\.command: the NUL character U\+0000 is not allowed/m,
    },
    {
      what: 'a matches: pattern grep -E does not understand',
      change: (root: string) =>
        edit(root, 'manifests/tools.yaml', (t) =>
          t.replace("tags: ['{version}']\n", "tags: ['{version}']\ntests:\n  - name: t\n    command: id\n    stdout: { matches: 'uid=\\d+' }\n"),
        ),
      line: /^manifests\/tools\.yaml:11:24: error\[schema\] tests\[0\]\.stdout\.matches: uses "\\d", which POSIX ERE does not have/m,
    },
    {
      what: 'a manifest arg no fragment declares',
      change: (root: string) => edit(root, 'manifests/py-app.yaml', (t) => t.replace('  PYTHON_VERSION:', '  PYTHON_VERSOIN:')),
      line: /^manifests\/py-app\.yaml:26:19: error\[unknown-arg\] args\.PYTHON_VERSOIN: .*\n {2}hint: did you mean "PYTHON_VERSION"\?/m,
    },
    {
      what: 'a build arg the factory sets itself',
      change: (root: string) => edit(root, 'manifests/py-app.yaml', (t) => t.replace('  PYTHON_VERSION:', '  BASE_IMAGE: x\n  PYTHON_VERSION:')),
      line: /^manifests\/py-app\.yaml:26:15: error\[reserved-arg\] args\.BASE_IMAGE: /m,
    },
    {
      what: 'factory.lock.json that is a directory (EISDIR when written)',
      change: (root: string) => {
        rmSync(path.join(root, 'factory.lock.json'));
        mkdirSync(path.join(root, 'factory.lock.json', 'sub'), { recursive: true });
        writeFileSync(path.join(root, 'factory.lock.json', 'sub', 'x'), '');
      },
      line: /^factory\.lock\.json:1:1: error\[not-a-file\] factory\.lock\.json is a directory/m,
    },
  ])('$what', async ({ change, line }) => {
    const root = copyFixture('good/minimal');
    change(root);
    const before = snapshotTree(root);
    for (const cmd of ['validate', 'generate', 'lock']) {
      const r = await factory('--root', root, cmd);
      expect(r.err, cmd).toMatch(line);
      expect(r.err, cmd).toMatch(/\n {2}hint: /);
      expect(r.err, cmd).not.toContain('internal error');
      expect(r.code, cmd).toBe(1);
    }
    expect(snapshotTree(root)).toEqual(before);
  });
});

describe('generate: an output path blocked by the working tree', () => {
  it.each([
    {
      what: 'docker-bake.hcl is a directory',
      block: (root: string) => mkdirSync(path.join(root, 'docker-bake.hcl', 'x'), { recursive: true }),
      line: /^docker-bake\.hcl:1:1: error\[not-a-file\] docker-bake\.hcl is a directory/m,
    },
    {
      what: 'build is a file',
      block: (root: string) => writeFileSync(path.join(root, 'build'), 'x'),
      line: /^build:1:1: error\[not-a-file\] build is a file where generate writes a directory/m,
    },
  ])('$what: exit 1, located, nothing written', async ({ block, line }) => {
    const root = copyFixture('good/minimal');
    block(root);
    const before = snapshotTree(root);
    const r = await factory('--root', root, 'generate');
    expect(r.err).toMatch(line);
    expect(r.err).not.toContain('internal error');
    expect(r.code).toBe(1);
    expect(snapshotTree(root)).toEqual(before);
  });
});

describe('build --test on a device pool', () => {
  const ROOT = path.resolve(__dirname, '../..');
  // --print: bake prints the definition instead of building; the command line is what is tested.
  it('grants the device entitlement to the cuda test targets, or with --no-device turns the pool promise off', async () => {
    const granted = await factory('build', 'llm-runtime-cuda@1.4.0', '--test', '--print', '--root', ROOT);
    const command = (err: string) => err.split('\n').find((l) => l.startsWith('$ '))!;
    expect(command(granted.err)).toContain(' --allow device ');
    const cpu = await factory('build', 'llm-runtime-cuda@1.4.0', '--test', '--no-device', '--print', '--root', ROOT);
    // The targets still ask for the entitlement (bake refuses without the grant); the promise is off.
    expect(command(cpu.err)).toContain(' --allow device --set test-llm-runtime-cuda-default-amd64.args.FACTORY_TEST_POOL_ACCELERATOR= ');
    // CPU products: nothing to grant.
    expect(command((await factory('build', 'tools@1.0.1', '--test', '--print', '--root', ROOT)).err)).not.toContain('--allow');
  });
});
