// Records for the fault tests: a bare "origin" with a main branch, record files as build legs
// upload them (the real @actions/artifact client against the results-service stand-in), and
// `mode: record` run from dist/index.js into a clone.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { artifactName, upload } from '../../src/action/artifact.js';
import { parseRecord, serializeRecord, type FactoryRecord } from '../../src/core/record.js';
import { HISTORY_DIR, parseHistory } from '../../src/obs/history.js';
import type { ResultsService } from '../action/results-service.js';
import { repo, startAction, type ActionRun } from './daemons.js';

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
export const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();

export const baseRecord = parseRecord(fs.readFileSync(path.join(repo, 'test/action/fixtures/records/passed.json'), 'utf8'), 'passed.json');

/** A bare repository with one commit on main; returns its path. */
export function origin(root: string, name: string): string {
  const bare = path.join(root, `${name}.git`);
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  const seed = clone(bare, path.join(root, `${name}-seed`));
  fs.writeFileSync(path.join(seed, 'README.md'), 'factory\n');
  git(seed, 'add', 'README.md');
  git(seed, 'commit', '--quiet', '-m', 'init');
  git(seed, 'push', '--quiet', 'origin', 'HEAD:main');
  return bare;
}

export function clone(bare: string, dir: string): string {
  git(path.dirname(dir), 'clone', '--quiet', bare, dir);
  return dir;
}

export function recordOf(target: string, runId: string, attempt: string, finishedAt: string): FactoryRecord {
  return { ...baseRecord, target, run: { ...baseRecord.run, id: runId, attempt }, finishedAt };
}

export const recordRel = (r: FactoryRecord) => `records/llm-runtime/1.4.0/${r.target}.json`;

/** Uploads `r` as a build leg of run `run` does (its workdir as the artifact root); returns the artifact's id. */
export async function uploadRecord(svc: ResultsService, run: string, job: string, dir: string, r: FactoryRecord): Promise<number | undefined> {
  process.env.ACTIONS_RESULTS_URL = svc.url;
  process.env.ACTIONS_RUNTIME_TOKEN = svc.token(run, job);
  const file = path.join(dir, recordRel(r));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, serializeRecord(r));
  return upload(artifactName('record', r.target, r.platform, { runAttempt: r.run.attempt }), [file], dir);
}

/** `mode: record` of run `run` into `workspace` (a clone of origin). */
export function recordMode(svc: ResultsService, run: string, dir: string, workspace: string, inputs: Record<string, string> = {}): Promise<ActionRun> {
  return startAction(
    dir,
    workspace,
    { mode: 'record', ...inputs },
    {
      ACTIONS_RESULTS_URL: svc.url,
      ACTIONS_RUNTIME_TOKEN: svc.token(run, 'record-job'),
      GITHUB_REF_NAME: 'main',
      GITHUB_RUN_ID: run,
    },
  ).done;
}

/** The record files of a clone (records/<product>/<version>/<target>.json), history left out. */
export function recordFiles(check: string): string[] {
  const all = git(check, 'ls-files', 'records', `:!records/${HISTORY_DIR}`);
  return all ? all.split('\n').sort() : [];
}

/** Every history line of a clone as `<target> <run id>`, sorted: one per record ever committed. */
export function historyEntries(check: string): string[] {
  const files = git(check, 'ls-files', `records/${HISTORY_DIR}`)
    .split('\n')
    .filter((f) => f.endsWith('.jsonl'));
  return files
    .flatMap((f) => {
      const { records, problems } = parseHistory(fs.readFileSync(path.join(check, f), 'utf8'), f);
      if (problems.length > 0) throw new Error(`${f}: ${JSON.stringify(problems)}`);
      return records.map((r) => `${r.target} ${r.run.id}`);
    })
    .sort();
}
