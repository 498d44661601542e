// schemathesis (PyPI, installed by scripts/test-env.sh) against `factory serve` with the API's own
// OpenAPI document: every check (no 5xx, status codes, content types and bodies match their
// schemas, unsupported methods answer 405), on a copy of the sample factory with fixture records.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = path.resolve(__dirname, '../..');
const root = mkdtempSync(path.join(os.tmpdir(), 'factory-schemathesis-'));
for (const p of ['manifests', 'templates', 'fragments', 'factory.lock.json']) cpSync(path.join(repo, p), path.join(root, p), { recursive: true });
cpSync(path.join(repo, 'test/obs/fixtures/records'), path.join(root, 'records'), { recursive: true });
const server = spawn(process.execPath, [path.join(repo, 'bin/factory.js'), '--root', root, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
afterAll(() => {
  server.kill();
  rmSync(root, { recursive: true, force: true });
});
const installed = spawnSync('schemathesis', ['--version']).status === 0;

describe.skipIf(!installed)('schemathesis against factory serve', () => {
  it('finds no issue in any operation', async () => {
    const base = await new Promise<string>((resolve) =>
      server.stdout!.on('data', (d) => /http:\/\/\S+\//.exec(String(d)) && resolve(/http:\/\/\S+\//.exec(String(d))![0])),
    );
    const r = spawnSync('schemathesis', ['run', `${base}api/v1/openapi.json`, '--checks', 'all', '--max-examples', '20', '--seed', '1', '--no-color'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(r.stdout, r.stdout + r.stderr).toMatch(/No issues found/);
    expect(r.stdout).toMatch(/Selected: 11\/11/);
    expect(r.status).toBe(0);
  }, 300_000);
});
