// The record job's side of the history: append this run's builds to the month files of the
// branch's worktree and fold months past the retention window into aggregates. Runs inside each
// push attempt on the fresh branch tip, so concurrent record jobs merge instead of conflicting.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FactoryRecord } from '../core/record.js';
import { aggregateMonth, monthIsDue, parseAggregate, serializeAggregate } from '../obs/aggregate.js';
import { aggregatePath, byMonthFile, HISTORY_DIR, mergeHistory, parseHistory } from '../obs/history.js';

export interface HistoryOptions {
  recordsDir: string;
  /** Raw lines are kept this many days, then folded into the month's aggregate. 0 = keep forever. */
  rawDays: number;
  now: Date;
}

function readIf(file: string): string | undefined {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
}

export function monthOf(rel: string): string | undefined {
  const m = /\/(\d{4})\/(\d{2})\.jsonl$/.exec(rel);
  return m ? `${m[1]}-${m[2]}` : undefined;
}

/** Month files already on the branch (repository-relative). */
function monthFiles(worktree: string, recordsDir: string): string[] {
  const dir = path.join(worktree, recordsDir, HISTORY_DIR);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => `${recordsDir}/${HISTORY_DIR}/${f.split(path.sep).join('/')}`)
    .filter((f) => monthOf(f) !== undefined)
    .sort();
}

function fold(worktree: string, o: HistoryOptions, month: string, records: readonly FactoryRecord[]): string {
  const rel = aggregatePath(o.recordsDir, month);
  const abs = path.join(worktree, rel);
  const have = readIf(abs);
  const agg = aggregateMonth(month, records, have === undefined ? undefined : parseAggregate(have, rel));
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, serializeAggregate(agg));
  return rel;
}

/** Returns the repository paths it wrote or deleted (for `git add`). */
export function applyHistory(worktree: string, records: readonly FactoryRecord[], o: HistoryOptions): string[] {
  const touched: string[] = [];
  for (const [rel, added] of byMonthFile(o.recordsDir, records)) {
    const month = monthOf(rel)!;
    if (o.rawDays > 0 && monthIsDue(month, o.now, o.rawDays) && !fs.existsSync(path.join(worktree, rel))) {
      touched.push(fold(worktree, o, month, added)); // a late build of a month already folded
      continue;
    }
    const abs = path.join(worktree, rel);
    const before = readIf(abs) ?? '';
    const after = mergeHistory(before, added, rel);
    if (after === before) continue;
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, after);
    touched.push(rel);
  }
  if (o.rawDays > 0) {
    for (const rel of monthFiles(worktree, o.recordsDir)) {
      const month = monthOf(rel)!;
      if (!monthIsDue(month, o.now, o.rawDays)) continue;
      const abs = path.join(worktree, rel);
      const { records: raw, problems } = parseHistory(fs.readFileSync(abs, 'utf8'), rel);
      // A month with lines nobody can read stays raw: folding it would drop them.
      if (problems.length > 0) continue;
      touched.push(fold(worktree, o, month, raw));
      fs.rmSync(abs);
      touched.push(rel);
    }
  }
  return [...new Set(touched)].sort();
}
