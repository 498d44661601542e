// The record job's history against a real bare repository: concurrent pushers all land their
// lines once, sorted; months past the retention window are folded in the same commit.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { commitRecords, type RecordFile } from '../../src/action/git.js';
import { parseRecord, serializeRecord, type FactoryRecord } from '../../src/core/record.js';
import { parseAggregate } from '../../src/obs/aggregate.js';
import { historyLine, parseHistory } from '../../src/obs/history.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-history-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();
const base = parseRecord(fs.readFileSync(new URL('fixtures/records/passed.json', import.meta.url), 'utf8'), 'passed.json');

function record(target: string, runId: string, finishedAt: string): RecordFile {
  const r: FactoryRecord = { ...base, target, run: { ...base.run, id: runId }, finishedAt };
  return { path: `records/llm-runtime/1.4.0/${target}.json`, text: serializeRecord(r), record: r };
}

let n = 0;
let bare = '';
function clone(): string {
  const dir = path.join(root, `clone-${n++}`);
  git(root, 'clone', '--quiet', bare, dir);
  return dir;
}

function seed(files: Record<string, string>): void {
  const s = clone();
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(s, rel)), { recursive: true });
    fs.writeFileSync(path.join(s, rel), text);
  }
  git(s, 'add', '.');
  git(s, 'commit', '--quiet', '-m', 'init');
  git(s, 'push', '--quiet', 'origin', 'HEAD:main');
}

beforeEach(() => {
  bare = path.join(root, `origin-${n++}.git`);
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
});

const NOW = new Date('2026-12-01T12:00:00Z');
const opts = (repo: string, message: string, files: RecordFile[]) => ({
  repo,
  branch: 'main',
  message,
  retries: 12,
  backoffMs: 20,
  history: { recordsDir: 'records', rawDays: 90, now: NOW, records: files.map((f) => f.record) },
});

describe('history in the records commit', () => {
  it("8 concurrent record jobs: every build once in the month file, sorted, with its latest file, in each job's one commit", async () => {
    seed({ 'README.md': 'factory\n' });
    const jobs = Array.from({ length: 8 }, (_, i) => {
      const files = [record(`t${i}-amd64`, `50${i}`, `2026-11-2${i % 10}T01:00:00.000Z`), record(`t${i}-arm64`, `50${i}`, `2026-11-2${i % 10}T01:30:00.000Z`)];
      return commitRecords(files, opts(clone(), `records of run 50${i}`, files));
    });
    const results = await Promise.all(jobs);
    expect(results.every((r) => r.commit)).toBe(true);
    expect(Math.max(...results.map((r) => r.attempts))).toBeGreaterThan(1);

    const check = clone();
    const month = fs.readFileSync(path.join(check, 'records/history/2026/11.jsonl'), 'utf8');
    const { records, problems } = parseHistory(month, 'm');
    expect(problems).toEqual([]);
    expect(records).toHaveLength(16);
    expect(records.map((r) => r.finishedAt)).toEqual([...records.map((r) => r.finishedAt)].sort());
    // Every job's commit carries both its latest files and the history file.
    for (const r of results) {
      const changed = git(check, 'show', '--name-only', '--format=', r.commit!).split('\n');
      expect(changed).toContain('records/history/2026/11.jsonl');
      expect(changed.filter((f) => f.startsWith('records/llm-runtime/'))).toHaveLength(2);
    }
  });

  it('folds a month past the retention window into its aggregate, in the same commit', async () => {
    const old = [record('old-amd64', '40', '2026-08-03T00:00:00.000Z'), record('old-amd64', '41', '2026-08-04T00:00:00.000Z')];
    seed({ 'records/history/2026/08.jsonl': old.map((f) => historyLine(f.record) + '\n').join('') });
    const files = [record('new-amd64', '600', '2026-11-30T00:00:00.000Z')];
    const res = await commitRecords(files, opts(clone(), 'records of run 600', files));
    const check = clone();
    expect(fs.existsSync(path.join(check, 'records/history/2026/08.jsonl'))).toBe(false);
    const agg = parseAggregate(fs.readFileSync(path.join(check, 'records/history/2026/08.aggregate.json'), 'utf8'), 'agg');
    expect(agg.targets['old-amd64']).toMatchObject({ builds: 2, passed: 2 });
    expect(git(check, 'show', '--name-status', '--format=', res.commit!).split('\n').sort()).toEqual(
      [
        'A\trecords/history/2026/08.aggregate.json',
        'A\trecords/history/2026/11.jsonl',
        'A\trecords/llm-runtime/1.4.0/new-amd64.json',
        'D\trecords/history/2026/08.jsonl',
      ].sort(),
    );
  });

  it('leaves a month with an unreadable line raw rather than lose it', async () => {
    seed({ 'records/history/2026/07.jsonl': `${historyLine(record('x-amd64', '1', '2026-07-01T00:00:00.000Z').record)}\n{broken\n` });
    const files = [record('y-amd64', '2', '2026-11-30T00:00:00.000Z')];
    await commitRecords(files, opts(clone(), 'm', files));
    const check = clone();
    expect(fs.readFileSync(path.join(check, 'records/history/2026/07.jsonl'), 'utf8')).toContain('{broken');
    expect(fs.existsSync(path.join(check, 'records/history/2026/07.aggregate.json'))).toBe(false);
  });
});
