// The history format: one sorted line per build, idempotent merges, unreadable lines kept, and
// monthly aggregates past the retention window.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecord, type FactoryRecord } from '../../src/core/record.js';
import { aggregateMonth, monthIsDue } from '../../src/obs/aggregate.js';
import { historyLine, historyPath, mergeHistory, parseHistory } from '../../src/obs/history.js';

const base = parseRecord(fs.readFileSync(path.resolve(__dirname, '../action/fixtures/records/passed.json'), 'utf8'), 'passed.json');
const rec = (target: string, run: string, attempt: string, finishedAt: string, over: Partial<FactoryRecord> = {}): FactoryRecord => ({
  ...base,
  target,
  run: { ...base.run, id: run, attempt },
  finishedAt,
  ...over,
});

describe('historyPath', () => {
  it.each([
    ['records', '2026-12-01T00:00:00.000Z', 'records/history/2026/12.jsonl'],
    ['records/', '2027-01-31T23:59:59.000Z', 'records/history/2027/01.jsonl'],
    ['out/recs', '2026-03-05T10:00:00.000Z', 'out/recs/history/2026/03.jsonl'],
  ])('%s %s', (dir, at, want) => expect(historyPath(dir, at)).toBe(want));
});

describe('mergeHistory', () => {
  const a = rec('a-amd64', '1', '1', '2026-11-02T00:00:00.000Z');
  const b = rec('b-amd64', '1', '1', '2026-11-01T00:00:00.000Z');
  const a2 = rec('a-amd64', '1', '2', '2026-11-03T00:00:00.000Z');

  it('sorts by finish time and keeps one line per run attempt, in any order of arrival', () => {
    const one = mergeHistory(mergeHistory('', [a], 'h'), [b, a2], 'h');
    const two = mergeHistory(mergeHistory('', [a2, b], 'h'), [a, b], 'h');
    expect(one).toBe(two);
    expect(parseHistory(one, 'h').records.map((r) => `${r.target}/${r.run.attempt}`)).toEqual(['b-amd64/1', 'a-amd64/1', 'a-amd64/2']);
    expect(mergeHistory(one, [a, b, a2], 'h')).toBe(one);
  });

  it('keeps a line it cannot read (and says where it is) instead of dropping it', () => {
    const text = mergeHistory(`${historyLine(a)}\n{not json\n`, [b], 'records/history/2026/11.jsonl');
    expect(text.split('\n').filter(Boolean)).toHaveLength(3);
    expect(text).toContain('{not json');
    expect(parseHistory(text, 'records/history/2026/11.jsonl').problems).toEqual([
      { file: 'records/history/2026/11.jsonl', line: 3, message: expect.stringMatching(/^not valid JSON/) },
    ]);
  });

  it('drops the failure log (it is in the run evidence) but keeps the failure', () => {
    const failed = rec('f-amd64', '2', '1', '2026-11-04T00:00:00.000Z', {
      result: 'failed',
      failure: { kind: 'test', target: 't', step: 's', message: 'boom', log: ['x'.repeat(1000)] },
    });
    const line = JSON.parse(historyLine(failed));
    expect(line.failure).toEqual({ kind: 'test', target: 't', step: 's', message: 'boom', log: [] });
  });
});

describe('retention', () => {
  it.each([
    ['2026-08', '2026-12-01T00:00:00Z', 90, true],
    ['2026-09', '2026-12-01T00:00:00Z', 90, false],
    ['2026-09', '2026-12-30T00:00:00Z', 90, true],
    ['2026-11', '2026-12-01T00:00:00Z', 0, true],
  ] as const)('month %s at %s with %i raw days: due %s', (month, now, days, want) => {
    expect(monthIsDue(month, new Date(now), days)).toBe(want);
  });

  it('folds a month into counts that add up when late builds arrive', () => {
    const first = aggregateMonth('2026-08', [
      rec('a-amd64', '1', '1', '2026-08-02T00:00:00.000Z'),
      rec('a-amd64', '2', '1', '2026-08-03T00:00:00.000Z', { result: 'failed' }),
    ]);
    const late = aggregateMonth('2026-08', [rec('a-amd64', '3', '2', '2026-08-30T00:00:00.000Z')], first);
    expect(late.targets['a-amd64']).toMatchObject({
      builds: 3,
      passed: 2,
      failed: 1,
      retried: 1,
      firstAt: '2026-08-02T00:00:00.000Z',
      lastAt: '2026-08-30T00:00:00.000Z',
    });
    // Percentiles are the first fold's (raw lines are gone by then).
    expect(late.targets['a-amd64']!.wallTimeMs).toEqual(first.targets['a-amd64']!.wallTimeMs);
  });
});
