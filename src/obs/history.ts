// Record history: every target build of every run, append-only, one JSON line per build in
// records/history/<yyyy>/<mm>.jsonl (sorted, so two runs that append concurrently and rebase
// produce the same file), beside the latest-per-target files. Months older than the Policy's
// retention are folded into <yyyy>/<mm>.aggregate.json (counts and percentiles per target), so the
// history stays bounded. Pure: the record job and `factory kpi` do the reading and writing.
import { parseRecord, RecordSchema, type FactoryRecord } from '../core/record.js';

export const HISTORY_DIR = 'history';
export const AGGREGATE_SCHEMA = 'factory.history-aggregate/v1';

/** A line that could not be read: reported with its place and skipped, never silently dropped. */
export interface HistoryProblem {
  file: string;
  line: number;
  message: string;
}

/** records/history/2026/12.jsonl for a build that finished in December 2026. */
export function historyPath(recordsDir: string, finishedAt: string): string {
  const [y, m] = finishedAt.slice(0, 7).split('-');
  return `${recordsDir.replace(/\/+$/, '')}/${HISTORY_DIR}/${y}/${m}.jsonl`;
}

export function aggregatePath(recordsDir: string, month: string): string {
  const [y, m] = month.split('-');
  return `${recordsDir.replace(/\/+$/, '')}/${HISTORY_DIR}/${y}/${m}.aggregate.json`;
}

/** One build is one line: the same run attempt of a target never appears twice. */
export function buildKey(r: FactoryRecord): string {
  return `${r.target}\u0000${r.run.repository}\u0000${r.run.id}\u0000${r.run.attempt}`;
}

/** The history keeps the record without its failure log (that is in the run's evidence). */
export function historyLine(r: FactoryRecord): string {
  const slim: FactoryRecord = r.failure ? { ...r, failure: { ...r.failure, log: [] } } : r;
  return JSON.stringify(RecordSchema.parse(slim));
}

function compare(a: FactoryRecord, b: FactoryRecord): number {
  for (const [x, y] of [
    [a.finishedAt, b.finishedAt],
    [a.target, b.target],
    [a.run.id, b.run.id],
    [a.run.attempt, b.run.attempt],
  ] as const) {
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Reads a .jsonl history file; bad lines become problems with their line number. */
export function parseHistory(text: string, file: string): { records: FactoryRecord[]; problems: HistoryProblem[] } {
  const records: FactoryRecord[] = [];
  const problems: HistoryProblem[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      records.push(parseRecord(line, `${file}:${i + 1}`));
    } catch (e) {
      problems.push({ file, line: i + 1, message: (e as Error).message.replace(`${file}:${i + 1}: `, '') });
    }
  });
  return { records, problems };
}

/**
 * The month file with `added` merged in: sorted, one line per build. Lines already there win
 * (the history is append-only), and unreadable lines are kept as they are: the record job must
 * never lose what it cannot read.
 */
export function mergeHistory(existing: string, added: readonly FactoryRecord[], file: string): string {
  const { records } = parseHistory(existing, file);
  const keep = existing.split('\n').filter((l) => l.trim() !== '');
  const bad = keep.filter((l) => {
    try {
      parseRecord(l, file);
      return false;
    } catch {
      return true;
    }
  });
  const byKey = new Map(records.map((r) => [buildKey(r), r]));
  for (const r of added) if (!byKey.has(buildKey(r))) byKey.set(buildKey(r), r);
  const lines = [...byKey.values()].sort(compare).map(historyLine);
  return [...lines, ...bad].map((l) => `${l}\n`).join('');
}

/** Groups records by the month file they belong to. */
export function byMonthFile(recordsDir: string, records: readonly FactoryRecord[]): Map<string, FactoryRecord[]> {
  const out = new Map<string, FactoryRecord[]>();
  for (const r of records) {
    const p = historyPath(recordsDir, r.finishedAt);
    out.set(p, [...(out.get(p) ?? []), r]);
  }
  return out;
}
