// `factory kpi` and `factory compat` as a user runs them: the compiled CLI (bin/factory.js) in
// a copy of the sample factory with a records/ tree (history with one unreadable line, an
// aggregate, a latest file), from disk to stdout/stderr and exit code.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = path.resolve(__dirname, '../..');
const root = mkdtempSync(path.join(os.tmpdir(), 'factory-obs-'));
for (const p of ['manifests', 'templates', 'fragments', 'factory.lock.json']) cpSync(path.join(repo, p), path.join(root, p), { recursive: true });
cpSync(path.join(repo, 'test/obs/fixtures/records'), path.join(root, 'records'), { recursive: true });
afterAll(() => rmSync(root, { recursive: true, force: true }));

function factory(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/factory.js'), '--root', root, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('factory kpi', () => {
  it('groups by pool through the factory, names the unreadable line and counts it', () => {
    const r = factory('kpi', '--by', 'pool');
    expect(r.code).toBe(0);
    expect(r.err).toContain('warning: records/history/2026/11.jsonl:4: unknown record schema "factory.record/v9"');
    expect(r.out).toMatch(/^amd64 +5 \(2 aggr\.\) +80\.0% +0\.0% +/m);
    expect(r.out).toMatch(/^arm64 +2 +50\.0% +50\.0% +/m);
    expect(r.out).toContain('llm-runtime-profileslim-arm64 run 100: test failed in attempt 1, passed in 2');
    expect(r.out).toContain('llm-runtime@1.4.0 base 127.0.0.1:5000/base/debian:bookworm: 24.0 h');
    expect(r.out).toContain('1 unreadable record line(s) skipped');
  });

  it('answers --json with the same figures and the skipped lines', () => {
    const r = factory('--json', 'kpi', '--since', '2026-11-10');
    const j = JSON.parse(r.out);
    expect(j.groups.map((g: { key: string; builds: number }) => [g.key, g.builds])).toEqual([['all', 2]]);
    expect(j.skipped).toEqual([{ file: 'records/history/2026/11.jsonl', line: 4, message: expect.any(String) }]);
  });

  it.each([
    [['kpi', '--by', 'team'], /--by team: expected one of pool, product, platform, fragment/],
    [['kpi', '--since', 'yesterday'], /--since yesterday: expected a date/],
    [['compat', 'python'], /expected name@version/],
  ])('%j is a usage error', (args, msg) => {
    const r = factory(...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
  });
});

describe('factory compat', () => {
  it('lists what was built together with a fragment version, passing first, with accelerator and last run', () => {
    const r = factory('compat', 'hardening@1.0.0');
    expect(r.code).toBe(0);
    const rows = r.out.split('\n').filter((l) => /^(passed|failed) /.test(l));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(
      /^passed +2 +0 +llm-runtime@1\.4\.0 +linux\/amd64 +cpu +debian@1\.0\.0 .*https:\/\/github\.com\/acme\/factory\/actions\/runs\/101\/attempts\/1$/,
    );
  });

  it('says so when nothing was built with it', () => {
    expect(factory('compat', 'hardening@9.0.0').out).toBe('no records of builds with hardening@9.0.0 yet\n');
  });
});
