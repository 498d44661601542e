import { describe, expect, it } from 'vitest';
import { jobResultFile, parseJobResult, serializeJobResult, type JobResult } from '../../src/core/job-result.js';

const passed: JobResult = {
  version: 1,
  target: 'tools-default-amd64',
  result: 'passed',
  attempts: 1,
  pushed: true,
  digest: `sha256:${'a'.repeat(64)}`,
  refs: ['127.0.0.1:5000/factory/tools:1.0.0-default-amd64'],
  keyTag: 'bk-0123456789abcdef',
  record: 'records/tools/1.0.0/tools-default-amd64.json',
};

describe('job result files', () => {
  it('round-trips through the one writer and reader', () => {
    const text = serializeJobResult(passed);
    expect(parseJobResult(text, 'r.json')).toEqual({ ok: true, value: passed });
    expect(jobResultFile(passed.target)).toBe('factory-result/tools-default-amd64.json');
  });

  it.each([
    ['not JSON', '{', /r\.json: not JSON/],
    ['an unknown version', JSON.stringify({ ...passed, version: 2 }), /r\.json: version: /],
    ['a bad digest', JSON.stringify({ ...passed, digest: 'sha256:xyz' }), /r\.json: digest: expected sha256/],
    ['an unknown field', JSON.stringify({ ...passed, extra: 1 }), /r\.json: \(root\): /],
    ['an unknown result', JSON.stringify({ ...passed, result: 'success' }), /r\.json: result: /],
  ])('reports %s with the file and field, never throws', (_, text, want) => {
    const r = parseJobResult(text, 'r.json');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(want);
  });

  it('refuses to write a result that breaks the schema', () => {
    expect(() => serializeJobResult({ ...passed, attempts: 0 })).toThrow();
  });
});
