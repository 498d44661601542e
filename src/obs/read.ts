// The edge that reads a factory's records for `factory kpi` and `factory compat`: history month
// files, monthly aggregates and the latest-per-target files (repositories from before the
// history, or records not yet in it). What cannot be read is returned with its place.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseRecord, type FactoryRecord } from '../action/record.js';
import { parseAggregate, type MonthAggregate } from './aggregate.js';
import { buildKey, HISTORY_DIR, parseHistory, type HistoryProblem } from './history.js';

export interface RecordSet {
  records: FactoryRecord[];
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

export async function readRecords(root: string, recordsDir = 'records'): Promise<RecordSet> {
  const out: RecordSet = { records: [], aggregates: [], problems: [] };
  const seen = new Set<string>();
  // The history comes first: a latest-per-target file repeats a build it already holds.
  const keep = (r: FactoryRecord): void => {
    const key = buildKey(r);
    if (seen.has(key)) return;
    seen.add(key);
    out.records.push(r);
  };
  const rel = (f: string) => path.relative(root, f).split(path.sep).join('/');
  const historyDir = path.join(root, recordsDir, HISTORY_DIR);
  for (const f of await files(historyDir)) {
    const text = await fs.readFile(f, 'utf8');
    if (f.endsWith('.jsonl')) {
      const got = parseHistory(text, rel(f));
      for (const r of got.records) keep(r);
      out.problems.push(...got.problems);
    } else if (f.endsWith('.aggregate.json')) {
      try {
        out.aggregates.push(parseAggregate(text, rel(f)));
      } catch (e) {
        out.problems.push({ file: rel(f), line: 1, message: (e as Error).message.replace(`${rel(f)}: `, '') });
      }
    }
  }
  for (const f of await files(path.join(root, recordsDir))) {
    if (f.startsWith(historyDir + path.sep) || !f.endsWith('.json')) continue;
    try {
      const r = parseRecord(await fs.readFile(f, 'utf8'), rel(f));
      keep(r);
    } catch (e) {
      out.problems.push({ file: rel(f), line: 1, message: (e as Error).message.replace(`${rel(f)}: `, '') });
    }
  }
  return out;
}
