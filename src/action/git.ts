// The outside tool git, for `mode: record`: commit the run's records to a branch in one commit
// and push, retrying with backoff when another run pushed first. Works in a separate worktree so
// the job's checkout (maybe detached, maybe dirty) is never touched.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exec } from './buildx.js';
import { ActionError } from './errors.js';
import { aggregatePath, byMonthFile, HISTORY_DIR } from '../obs/history.js';
import { applyHistory, monthOf, type HistoryOptions } from './history.js';
import { parseRecord, type FactoryRecord } from '../core/record.js';
import { recordPathProblem } from './record-paths.js';

export interface RecordFile {
  /** Repository-relative path, e.g. records/llm-runtime/1.4.0/llm-runtime-python3_11-amd64.json. */
  path: string;
  text: string;
  record: FactoryRecord;
}

export interface CommitOptions {
  repo: string;
  remote?: string;
  branch: string;
  /** The records directory every record path must be under (input `records-dir`). */
  recordsDir?: string;
  message: string;
  retries: number;
  /** First backoff in ms; doubles each retry, plus jitter so racing runs spread out. */
  backoffMs?: number;
  author?: { name: string; email: string };
  /** Also append every build to records/history/ (and fold old months); absent: latest files only. */
  history?: HistoryOptions & { records: readonly FactoryRecord[] };
  log?: (line: string) => void;
}

export interface CommitResult {
  /** The pushed commit, or undefined when every record was already there. */
  commit?: string;
  attempts: number;
  written: string[];
}

async function git(cwd: string, args: string[], allowFail = false): Promise<{ code: number; out: string; err: string }> {
  const r = await exec('git', args, { cwd });
  if (r.exitCode !== 0 && !allowFail) {
    throw new ActionError(`git ${args.join(' ')} failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  }
  return { code: r.exitCode, out: r.stdout.trim(), err: r.stderr.trim() };
}

/**
 * Newer wins: a record of a later attempt (or, across runs, a later finish) replaces the one on
 * the branch; an older one never overwrites a newer one that another run pushed meanwhile.
 */
export function isNewer(ours: FactoryRecord, theirs: FactoryRecord): boolean {
  if (ours.run.id === theirs.run.id)
    return Number(ours.run.attempt) > Number(theirs.run.attempt) || (ours.run.attempt === theirs.run.attempt && ours.finishedAt > theirs.finishedAt);
  return ours.finishedAt > theirs.finishedAt;
}

/** Picks one record per path from many (several attempts of one run may have uploaded one). */
export function dedupe(files: readonly RecordFile[]): RecordFile[] {
  const byPath = new Map<string, RecordFile>();
  for (const f of files) {
    const have = byPath.get(f.path);
    if (!have || isNewer(f.record, have.record)) byPath.set(f.path, f);
  }
  return [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Refuses a record path that is not plain (see recordPathProblem) or that passes through a
 * symbolic link in the worktree: a link committed on the branch (`records -> /etc`, or a record
 * file linked to a workflow) would make the write land outside the records, and git only notices
 * after the file is written. Every path is checked before the first is written.
 */
export function checkRecordDestinations(worktree: string, files: readonly RecordFile[], recordsDir: string, branch: string): void {
  for (const f of files) {
    const problem = recordPathProblem(f.path, recordsDir);
    if (problem) throw new ActionError(`record ${JSON.stringify(f.path)}: refused, ${problem}`);
    refuseLinks(worktree, f.path, branch);
  }
}

/** The history files a commit may write (month files and their aggregates), checked the same way. */
export function checkHistoryDestinations(worktree: string, history: HistoryOptions & { records: readonly FactoryRecord[] }, branch: string): void {
  // The directory itself too: folding old months reads and deletes the files below it.
  refuseLinks(worktree, `${history.recordsDir.replace(/\/+$/, '')}/${HISTORY_DIR}`, branch);
  for (const rel of byMonthFile(history.recordsDir, history.records).keys()) {
    refuseLinks(worktree, rel, branch);
    const month = monthOf(rel);
    if (month) refuseLinks(worktree, aggregatePath(history.recordsDir, month), branch);
  }
}

function refuseLinks(worktree: string, rel: string, branch: string): void {
  let at = worktree;
  for (const part of rel.split('/')) {
    at = path.join(at, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(at);
    } catch {
      return; // does not exist yet: nothing below it can be a link
    }
    if (st.isSymbolicLink()) {
      throw new ActionError(
        `record ${rel}: ${path.relative(worktree, at)} is a symbolic link on branch ${branch}; mode: record never writes through links. Remove the link from the branch (git rm ${path.relative(worktree, at)}) and re-run the record job`,
      );
    }
  }
}

/** Writes the records that are new or newer than the branch's; returns the paths written. */
function apply(worktree: string, files: readonly RecordFile[]): string[] {
  const written: string[] = [];
  for (const f of files) {
    const dest = path.join(worktree, f.path);
    if (fs.existsSync(dest)) {
      const current = fs.readFileSync(dest, 'utf8');
      if (current === f.text) continue;
      try {
        if (!isNewer(f.record, parseRecord(current, f.path))) continue;
      } catch {
        // An unreadable record on the branch is replaced by a valid one.
      }
    }
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, f.text);
    written.push(f.path);
  }
  return written;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function commitRecords(files: readonly RecordFile[], o: CommitOptions): Promise<CommitResult> {
  const remote = o.remote ?? 'origin';
  const log = o.log ?? (() => {});
  const author = o.author ?? { name: 'github-actions[bot]', email: '41898282+github-actions[bot]@users.noreply.github.com' };
  const worktree = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-records-'));
  const ref = `refs/factory-records/${process.pid}-${Date.now()}`;
  try {
    for (let attempt = 1; ; attempt++) {
      // Each attempt starts from the branch tip as it is now: rebasing a commit that only writes
      // whole record files is the same as writing them again on the new tip, and re-applying
      // settles a same-file race by the newer-record rule instead of a conflict.
      await git(o.repo, ['fetch', '--quiet', remote, `+refs/heads/${o.branch}:${ref}`]);
      if (attempt === 1) await git(o.repo, ['worktree', 'add', '--quiet', '--detach', worktree, ref]);
      else await git(worktree, ['checkout', '--quiet', '--detach', '--force', ref]);
      checkRecordDestinations(worktree, files, o.recordsDir ?? 'records', o.branch);
      if (o.history) checkHistoryDestinations(worktree, o.history, o.branch);
      const latest = apply(worktree, files);
      const written = [...latest, ...(o.history ? applyHistory(worktree, o.history.records, o.history) : [])];
      if (written.length === 0) {
        log(`records: all ${files.length} record(s) already on ${o.branch}; nothing to commit`);
        return { attempts: attempt, written };
      }
      await git(worktree, ['add', '--all', '--', ...written]);
      await git(worktree, ['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`, 'commit', '--quiet', '--no-verify', '-m', o.message]);
      const sha = (await git(worktree, ['rev-parse', 'HEAD'])).out;
      const push = await git(worktree, ['push', '--quiet', remote, `HEAD:refs/heads/${o.branch}`], true);
      if (push.code === 0) {
        log(
          `records: pushed ${latest.length} record(s) and ${written.length - latest.length} history file(s) to ${o.branch} as ${sha.slice(0, 12)} (attempt ${attempt})`,
        );
        return { commit: sha, attempts: attempt, written };
      }
      const rejected = /rejected|non-fast-forward|fetch first|failed to update ref|cannot lock ref/i.test(push.err);
      if (!rejected || attempt > o.retries) {
        throw new ActionError(
          `could not push records to ${o.branch} after ${attempt} attempt(s): ${push.err.split('\n').slice(-2).join(' ')}` +
            (rejected
              ? '; raise `push-retries` or serialize the record jobs with a concurrency group'
              : '; check that the token may push to the branch (permissions: contents: write)'),
        );
      }
      const wait = (o.backoffMs ?? 1000) * 2 ** (attempt - 1) * (1 + Math.random());
      log(`records: ${o.branch} moved while pushing (attempt ${attempt}); retrying in ${Math.round(wait)} ms`);
      await sleep(wait);
    }
  } finally {
    await git(o.repo, ['worktree', 'remove', '--force', worktree], true);
    await git(o.repo, ['update-ref', '-d', ref], true);
    fs.rmSync(worktree, { recursive: true, force: true });
  }
}
