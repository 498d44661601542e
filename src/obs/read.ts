// The edge that reads a factory's records for `factory kpi`, `compat` and `site`: history month
// files, monthly aggregates and the latest-per-target files (repositories from before the
// history, or records not yet in it). What cannot be read is returned with its place and
// counted, never dropped silently. Built for a large history (10,000 targets x 90 days is
// 130,000 lines, 185 MiB): one pass over each file's lines, a check compiled from the record
// schema on the hot path (zod itself only for the message of a line that fails it), and each
// build kept as its slim Build; only the newest record of each target is kept whole.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseRecord, RECORD_SCHEMA, RecordSchema, type FactoryRecord } from '../core/record.js';
import { parseAggregate, type MonthAggregate } from './aggregate.js';
import { buildOf, Interner, type Build } from './build.js';
import { compileCheck } from './fastcheck.js';
import { buildKey, HISTORY_DIR, type HistoryProblem } from './history.js';

export interface RecordSet {
  /** Every build, once: history lines in file order, then latest files not in the history. */
  records: Build[];
  /** The newest record of each target, whole (as its schema reads it), by target name. */
  latest: FactoryRecord[];
  aggregates: MonthAggregate[];
  problems: HistoryProblem[];
}

async function files(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

const isRecord = compileCheck(RecordSchema) as (v: unknown) => v is FactoryRecord;

/** Collects builds as they are read: one per build key, the newest whole record per target. */
class Collector {
  readonly set: RecordSet = { records: [], latest: [], aggregates: [], problems: [] };
  private seen = new Set<string>();
  private newest = new Map<string, FactoryRecord>();
  private strings = new Interner();

  /** A parsed JSON value from `file` line `line`: kept when it is a record, a problem otherwise. */
  add(data: unknown, text: string, file: string, line: number): void {
    if (!isRecord(data)) {
      const schema = (data as { schema?: unknown } | null)?.schema;
      if (typeof schema === 'string' && schema !== RECORD_SCHEMA) {
        const why = `unknown record schema ${JSON.stringify(schema.slice(0, 100))}: this factory reads ${RECORD_SCHEMA} (a newer factory wrote it, or it is not a record)`;
        return this.bad(file, line, why);
      }
      try {
        parseRecord(text, `${file}:${line}`);
        // The compiled check and zod disagree: zod is the rule; this is a bug in fastcheck.
        this.set.problems.push({ file, line, message: 'the record check refused this line but its schema reads it (please report)' });
      } catch (e) {
        this.set.problems.push({ file, line, message: (e as Error).message.replace(`${file}:${line}: `, '') });
      }
      return;
    }
    const key = buildKey(data);
    if (this.seen.has(key)) return; // a latest file repeats a build the history holds
    this.seen.add(key);
    this.set.records.push(buildOf(data, this.strings));
    const have = this.newest.get(data.target);
    if (!have || data.finishedAt > have.finishedAt) this.newest.set(data.target, data);
  }

  bad(file: string, line: number, message: string): void {
    this.set.problems.push({ file, line, message });
  }

  done(): RecordSet {
    // zod's output for the few records shown whole: unknown keys of nested objects stripped.
    this.set.latest = [...this.newest.values()].sort((a, b) => (a.target < b.target ? -1 : 1)).map((r) => RecordSchema.parse(r));
    return this.set;
  }
}

/** Each non-empty line of a .jsonl history file, parsed, with its 1-based number. */
function readLines(c: Collector, text: string, file: string): void {
  let start = 0;
  for (let n = 1; start < text.length; n++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim() === '') continue;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch (e) {
      c.bad(file, n, `not valid JSON: ${(e as Error).message}`);
      continue;
    }
    c.add(data, line, file, n);
  }
}

export async function readRecords(root: string, recordsDir = 'records'): Promise<RecordSet> {
  const c = new Collector();
  const rel = (f: string) => path.relative(root, f).split(path.sep).join('/');
  const historyDir = path.join(root, recordsDir, HISTORY_DIR);
  // The history comes first: a latest-per-target file repeats a build it already holds.
  for (const f of await files(historyDir)) {
    if (f.endsWith('.jsonl')) {
      const text = await fs.readFile(f, 'utf8').catch((e: NodeJS.ErrnoException) => c.bad(rel(f), 1, `cannot read the file (${e.code ?? e.message})`));
      if (text !== undefined) readLines(c, text, rel(f));
    } else if (f.endsWith('.aggregate.json')) {
      try {
        c.set.aggregates.push(parseAggregate(await fs.readFile(f, 'utf8'), rel(f)));
      } catch (e) {
        c.bad(rel(f), 1, (e as Error).message.replace(`${rel(f)}: `, ''));
      }
    }
  }
  const latestFiles = (await files(path.join(root, recordsDir))).filter((f) => !f.startsWith(historyDir + path.sep) && f.endsWith('.json'));
  const read = (f: string) => fs.readFile(f, 'utf8').catch((e: NodeJS.ErrnoException) => new Error(`cannot read the file (${e.code ?? e.message})`));
  const texts: (string | Error)[] = [];
  for (let i = 0; i < latestFiles.length; i += 64) texts.push(...(await Promise.all(latestFiles.slice(i, i + 64).map(read))));
  latestFiles.forEach((f, i) => {
    const text = texts[i]!;
    if (text instanceof Error) return c.bad(rel(f), 1, text.message);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      return c.bad(rel(f), 1, `not valid JSON: ${(e as Error).message}`);
    }
    c.add(data, text, rel(f), 1);
  });
  return c.done();
}
