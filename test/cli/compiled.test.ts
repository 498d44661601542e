// The CLI as `npx factory` starts it: bin/factory.js running the esbuild bundle, with no
// TypeScript loader. The bundle must carry everything it needs, so it is also run from a copy
// outside the repository (no node_modules to fall back on, a cwd that is not the factory).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = path.resolve(__dirname, '../..');
const away = mkdtempSync(path.join(os.tmpdir(), 'factory-compiled-'));
afterAll(() => rmSync(away, { recursive: true, force: true }));

function node(args: string[]) {
  const r = spawnSync(process.execPath, args, { cwd: away, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('bin/factory.js (the bundled CLI)', () => {
  it('prints the global help and exits 0', () => {
    const r = node([path.join(repo, 'bin/factory.js'), '--help']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^factory — manifest-driven container image factory/);
    expect(r.out).toContain('generate [--check]');
  });

  it("validates the repository's sample factory from another directory", () => {
    const r = node([path.join(repo, 'bin/factory.js'), '--root', repo, 'validate']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ok: \d+ products, \d+ targets\.$/m);
  });

  it('says what the TypeScript CLI says', () => {
    const tsx = path.join(repo, 'node_modules/tsx/dist/cli.mjs');
    const args = ['--root', repo, '--json', 'list'];
    const fromSource = execFileSync(process.execPath, [tsx, path.join(repo, 'src/cli/main.ts'), ...args], { cwd: away, encoding: 'utf8' });
    expect(node([path.join(repo, 'bin/factory.js'), ...args]).out).toBe(fromSource);
  });

  it('runs from a copy with no node_modules beside it', () => {
    const dir = mkdtempSync(path.join(away, 'alone-'));
    copyFileSync(path.join(repo, 'dist-cli/factory.js'), path.join(dir, 'factory.js'));
    writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
    const r = node([path.join(dir, 'factory.js'), '--root', repo, 'generate', '--check']);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^ok: \d+ generated files are up to date\.$/m);
    expect(r.code).toBe(0);
  });

  it('exits 2 with a usage message for an unknown command', () => {
    const r = node([path.join(repo, 'bin/factory.js'), 'nope']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^factory: unknown command 'nope'/);
  });
});
