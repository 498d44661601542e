import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRecord, RecordSchema, serializeRecord } from '../../src/core/record.js';
import { recordPath, recordPathProblem } from '../../src/action/record-paths.js';
import { renderSummary } from '../../src/action/summary.js';

const read = (f: string) => fs.readFileSync(new URL(`fixtures/${f}`, import.meta.url), 'utf8');

describe('record schema', () => {
  it.each(['passed.json', 'failed.json'])('accepts %s and serializes it stably', (f) => {
    const r = parseRecord(read(`records/${f}`), f);
    const once = serializeRecord(r);
    expect(serializeRecord(parseRecord(once, f))).toBe(once);
    expect(once.endsWith('}\n')).toBe(true);
  });

  it.each([
    [(r: Record<string, unknown>) => ({ ...r, schema: 'factory.record/v0' }), 'x.json: field schema: '],
    [(r: Record<string, unknown>) => ({ ...r, result: 'ok' }), 'x.json: field result: '],
    [(r: Record<string, unknown>) => ({ ...r, extra: 1 }), 'x.json: field (root): '],
    [(r: Record<string, unknown>) => ({ ...r, image: { refs: [], pushed: false, digest: 'sha256:xyz' } }), 'x.json: field image.digest: '],
  ])('rejects a bad record naming the field (%#)', (mutate, message) => {
    const r = mutate(JSON.parse(read('records/passed.json')) as Record<string, unknown>);
    expect(() => parseRecord(JSON.stringify(r), 'x.json')).toThrowError(message);
  });

  it('refuses a records-dir or a record path that is not plain names under it', () => {
    const facts = { productName: 'p', productVersion: '1.0.0', target: 't' };
    expect(recordPath('./records/', facts)).toBe('records/p/1.0.0/t.json');
    for (const dir of ['../x', 'a/../../x', '/abs', 'a\\b', 'a b', '']) expect(() => recordPath(dir, facts), dir).toThrowError(/^input `records-dir`: /);
    expect(recordPathProblem('records/p/1.0.0/t.json', 'records')).toBeUndefined();
    expect(recordPathProblem('records/p/../../t.json', 'records')).toMatch(/part "\.\." is not a plain file name/);
    expect(recordPathProblem('other/p/1.0.0/t.json', 'records')).toBe('it is not under records/');
    expect(recordPathProblem('records/p/1.0.0/t.txt', 'records')).toBe('it does not end in .json');
  });

  it('places records at records/<product>/<version>/<target>.json', () => {
    expect(recordPath('records/', { productName: 'llm-runtime', productVersion: '1.4.0', target: 'llm-runtime-python3_11-amd64' })).toBe(
      'records/llm-runtime/1.4.0/llm-runtime-python3_11-amd64.json',
    );
  });

  it('is versioned: the schema literal is part of every record', () => {
    expect(RecordSchema.shape.schema.value).toBe('factory.record/v1');
  });
});

describe('renderSummary', () => {
  it('renders the golden job summary: a row per target, then each error report', () => {
    const records = ['passed.json', 'failed.json'].map((f) => parseRecord(read(`records/${f}`), f));
    const md = renderSummary(records, new Map([['llm-runtime-python3_11-amd64', 'records/llm-runtime/1.4.0/llm-runtime-python3_11-amd64.json']]));
    expect(md).toBe(read('summary.md'));
  });
});
