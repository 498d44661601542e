// Bad input in records/: every unreadable line or file is named (file, line, why) and counted,
// the rest is read; nothing throws, nothing is dropped without a trace.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { historyLine } from '../../src/obs/history.js';
import { readRecords } from '../../src/obs/read.js';
import { parseRecord } from '../../src/core/record.js';

const base = parseRecord(fs.readFileSync(path.resolve(__dirname, '../action/fixtures/records/passed.json'), 'utf8'), 'passed.json');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-read-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function write(rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
}

describe('readRecords on bad input', () => {
  const good = (run: string, target = base.target) => historyLine({ ...base, target, run: { ...base.run, id: run } });
  write(
    'records/history/2026/11.jsonl',
    [
      good('1'),
      '{"schema":"factory.record/v9","target":"x"}',
      '{not json',
      '[1,2]',
      '',
      JSON.stringify({ ...JSON.parse(good('2')), kpis: { ...base.kpis, wallTimeMs: -5 } }),
      good('3', 'other-amd64'),
    ].join('\n'),
  );
  write('records/llm-runtime/1.4.0/broken.json', '{"schema":"factory.record/v1"}');
  write('records/llm-runtime/1.4.0/latest.json', JSON.stringify({ ...base, run: { ...base.run, id: '1' } }));

  it('reads the good lines and names each bad one with its line and reason', async () => {
    const set = await readRecords(root);
    expect(set.records.map((r) => `${r.target} ${r.run.id}`)).toEqual([`${base.target} 1`, 'other-amd64 3']);
    expect(set.latest.map((r) => r.target)).toEqual([base.target, 'other-amd64']);
    expect(set.problems).toEqual([
      {
        file: 'records/history/2026/11.jsonl',
        line: 2,
        message: 'unknown record schema "factory.record/v9": this factory reads factory.record/v1 (a newer factory wrote it, or it is not a record)',
      },
      { file: 'records/history/2026/11.jsonl', line: 3, message: expect.stringMatching(/^not valid JSON: /) },
      { file: 'records/history/2026/11.jsonl', line: 4, message: 'field (root): Invalid input: expected object, received array' },
      { file: 'records/history/2026/11.jsonl', line: 6, message: expect.stringMatching(/^field kpis\.wallTimeMs: /) },
      { file: 'records/llm-runtime/1.4.0/broken.json', line: 1, message: expect.stringMatching(/^field target: /) },
    ]);
  });
});
