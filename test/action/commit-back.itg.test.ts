// Commit-back against a real bare repository with concurrent pushers (integration: real git).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { collectRecords } from '../../src/action/commit-back.js';
import { commitRecords, dedupe, type RecordFile } from '../../src/action/git.js';
import { parseRecord, serializeRecord, type FactoryRecord } from '../../src/core/record.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-commit-back-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();
const base = parseRecord(fs.readFileSync(new URL('fixtures/records/passed.json', import.meta.url), 'utf8'), 'passed.json');

function record(target: string, runId: string, attempt: string, finishedAt: string): RecordFile {
  const r: FactoryRecord = { ...base, target, run: { ...base.run, id: runId, attempt }, finishedAt };
  return { path: `records/llm-runtime/1.4.0/${target}.json`, text: serializeRecord(r), record: r };
}

let n = 0;
let bare = '';
function clone(): string {
  const dir = path.join(root, `clone-${n++}`);
  git(root, 'clone', '--quiet', bare, dir);
  return dir;
}

beforeEach(() => {
  bare = path.join(root, `origin-${n++}.git`);
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  const seed = clone();
  fs.writeFileSync(path.join(seed, 'README.md'), 'factory\n');
  git(seed, 'add', 'README.md');
  git(seed, 'commit', '--quiet', '-m', 'init');
  git(seed, 'push', '--quiet', 'origin', 'HEAD:main');
});

const opts = (repo: string, message: string) => ({ repo, branch: 'main', message, retries: 10, backoffMs: 20 });

describe('commitRecords', () => {
  it('lands every record of 6 concurrent pushers, one commit each, nothing twice', async () => {
    const clones = Array.from({ length: 6 }, () => clone());
    const jobs = clones.map((repo, i) => {
      const files = [record(`t${i}-amd64`, `10${i}`, '1', `2026-11-24T01:0${i}:00.000Z`), record(`t${i}-arm64`, `10${i}`, '1', `2026-11-24T01:0${i}:00.000Z`)];
      return commitRecords(files, opts(repo, `records of run 10${i}`));
    });
    const results = await Promise.all(jobs);
    expect(results.every((r) => r.commit)).toBe(true);
    // Concurrency really happened: at least one pusher had to retry.
    expect(Math.max(...results.map((r) => r.attempts))).toBeGreaterThan(1);

    const check = clone();
    const files = git(check, 'ls-files', 'records').split('\n').sort();
    expect(files).toEqual(
      Array.from({ length: 6 }, (_, i) => [`records/llm-runtime/1.4.0/t${i}-amd64.json`, `records/llm-runtime/1.4.0/t${i}-arm64.json`])
        .flat()
        .sort(),
    );
    const subjects = git(check, 'log', '--format=%s', 'main').split('\n');
    expect(subjects.filter((s) => s.startsWith('records of run')).sort()).toEqual(['100', '101', '102', '103', '104', '105'].map((r) => `records of run ${r}`));
    // Each record file was added exactly once.
    const added = git(check, 'log', '--diff-filter=A', '--name-only', '--format=', 'main').split('\n').filter(Boolean);
    expect(added.filter((f) => f.startsWith('records/')).length).toBe(12);
    // The pushers' checkouts were not touched: they worked in a separate, removed worktree.
    for (const repo of clones) {
      expect(git(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
      expect(git(repo, 'status', '--porcelain')).toBe('');
      expect(git(repo, 'for-each-ref', 'refs/factory-records')).toBe('');
    }
  });

  it('settles two runs racing on the same target by the newer record, in either order', async () => {
    const older = record('same-amd64', '200', '1', '2026-11-24T01:00:00.000Z');
    const newer = record('same-amd64', '201', '1', '2026-11-24T01:05:00.000Z');
    await Promise.all([commitRecords([newer], opts(clone(), 'newer')), commitRecords([older], opts(clone(), 'older'))]);
    const check = clone();
    expect(fs.readFileSync(path.join(check, newer.path), 'utf8')).toBe(newer.text);
  });

  it('does not commit again when the records are already there (re-run of the record job)', async () => {
    const files = [record('again-amd64', '300', '1', '2026-11-24T01:00:00.000Z')];
    const first = await commitRecords(files, opts(clone(), 'first'));
    const second = await commitRecords(files, opts(clone(), 'second'));
    expect(first.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(second).toEqual({ attempts: 1, written: [] });
    expect(git(clone(), 'log', '--format=%s', '-1')).toBe('first');
  });

  it('fails with one message when the branch cannot be pushed', async () => {
    const repo = clone();
    git(repo, 'remote', 'set-url', '--push', 'origin', path.join(root, 'missing.git'));
    await expect(commitRecords([record('x-amd64', '1', '1', '2026-11-24T01:00:00.000Z')], opts(repo, 'm'))).rejects.toThrowError(
      /^could not push records to main after 1 attempt\(s\): .*check that the token may push to the branch/,
    );
  });
});

describe('record selection', () => {
  it('keeps the latest attempt of a target and reads records from artifact directories', () => {
    const a1 = record('r-amd64', '400', '1', '2026-11-24T01:00:00.000Z');
    const a2 = record('r-amd64', '400', '2', '2026-11-24T00:59:00.000Z');
    expect(dedupe([a2, a1]).map((f) => f.record.run.attempt)).toEqual(['2']);

    const art = path.join(root, 'artifacts');
    for (const [name, f] of [
      ['record-r-amd64-linux-amd64-attempt1', a1],
      ['record-r-amd64-linux-amd64-attempt2', a2],
    ] as const) {
      fs.mkdirSync(path.join(art, name, path.dirname(f.path)), { recursive: true });
      fs.writeFileSync(path.join(art, name, f.path), f.text);
      fs.writeFileSync(path.join(art, name, 'stray.txt'), 'not a record');
    }
    const got = collectRecords([path.join(art, 'record-r-amd64-linux-amd64-attempt1'), path.join(art, 'record-r-amd64-linux-amd64-attempt2')], 'records');
    expect(got.map((f) => f.path)).toEqual([a1.path, a2.path]);
    expect(dedupe(got)).toHaveLength(1);
  });
});

describe('symbolic links on the branch', () => {
  /** Commits `link -> target` on main through a clone, as a hand-made commit on the branch would. */
  function commitLink(link: string, target: string): void {
    const seed = clone();
    fs.mkdirSync(path.dirname(path.join(seed, link)), { recursive: true });
    fs.symlinkSync(target, path.join(seed, link));
    git(seed, 'add', link);
    git(seed, 'commit', '--quiet', '-m', `link ${link}`);
    git(seed, 'push', '--quiet', 'origin', 'HEAD:main');
  }

  it.each([
    ['records', 'the records directory', (outside: string) => outside],
    ['records/llm-runtime', 'a product directory', (outside: string) => outside],
    ['records/llm-runtime/1.4.0/ln-amd64.json', 'the record file itself', () => '../../../README.md'],
  ])('refuses %s as a link (%s), writes nothing and pushes nothing', async (link, _what, target) => {
    const outside = fs.mkdtempSync(path.join(root, 'outside-'));
    commitLink(link, target(outside));
    const tip = git(clone(), 'rev-parse', 'main');
    const repo = clone();
    const files = [record('ok-amd64', '500', '1', '2026-11-24T01:00:00.000Z'), record('ln-amd64', '500', '1', '2026-11-24T01:00:00.000Z')];
    await expect(commitRecords(files, opts(repo, 'through a link'))).rejects.toThrowError(
      new RegExp(
        `^record records/llm-runtime/1\\.4\\.0/\\S+\\.json: ${link.replace(/\./g, '\\.')} is a symbolic link on branch main; mode: record never writes through links`,
      ),
    );
    // Nothing landed outside, nothing in the repository's README, and the branch did not move.
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(fs.readFileSync(path.join(clone(), 'README.md'), 'utf8')).toBe('factory\n');
    expect(git(clone(), 'rev-parse', 'main')).toBe(tip);
    expect(git(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
  });

  it.each([
    ['records/history', 'the history directory', (outside: string) => outside],
    ['records/history/2026/11.jsonl', 'a month file', () => '../../../README.md'],
    ['records/history/2026/11.aggregate.json', 'a month aggregate', () => '../../../README.md'],
  ])('refuses %s as a link (%s) when the commit appends history', async (link, _what, target) => {
    const outside = fs.mkdtempSync(path.join(root, 'outside-'));
    commitLink(link, target(outside));
    const tip = git(clone(), 'rev-parse', 'main');
    const files = [record('ok-amd64', '501', '1', '2026-11-24T01:00:00.000Z')];
    const history = { recordsDir: 'records', rawDays: 0, now: new Date('2026-11-25T00:00:00Z'), records: files.map((f) => f.record) };
    await expect(commitRecords(files, { ...opts(clone(), 'history through a link'), history })).rejects.toThrowError(
      new RegExp(`^record ${link.replace(/\./g, '\\.')}: ${link.replace(/\./g, '\\.')} is a symbolic link on branch main`),
    );
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(fs.readFileSync(path.join(clone(), 'README.md'), 'utf8')).toBe('factory\n');
    expect(git(clone(), 'rev-parse', 'main')).toBe(tip);
  });

  it('refuses a record path with a part that is not a plain name', async () => {
    const bad = { ...record('x-amd64', '1', '1', '2026-11-24T01:00:00.000Z'), path: 'records/llm-runtime/..\\..\\x/x-amd64.json' };
    await expect(commitRecords([bad], opts(clone(), 'm'))).rejects.toThrowError(
      /^record "records\/llm-runtime\/\.\.\\\\\.\.\\\\x\/x-amd64\.json": refused, its part/,
    );
  });
});
