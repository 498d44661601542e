import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEnvironment, parseResults, summarize, toJUnit } from '../../src/action/test-results.js';

const read = (f: string) => fs.readFileSync(new URL(`fixtures/results/${f}`, import.meta.url), 'utf8');

describe('parseResults', () => {
  it('reads the runner results with statuses, outputs and source lines', () => {
    const cases = parseResults(read('combined.results.json'), 'results.json');
    expect(cases).toEqual([
      { suite: 'python@1.0.0', name: 'python runs', status: 'passed', exitCode: 0, durationMs: 41 },
      {
        suite: 'python@1.0.0',
        name: 'pip is absent',
        status: 'failed',
        exitCode: 1,
        output: 'found /usr/bin/pip <unexpected> & more\n',
        message: 'expected exit 0, got 1',
        source: { file: 'fragments/python/1.0.0/fragment.yaml', line: 14 },
      },
      { suite: 'cuda@12.4.0', name: 'nvidia-smi works', status: 'skipped', message: 'GPU checks need a GPU runner (accelerator cpu)' },
      { suite: 'product', name: 'runs as app', status: 'passed' },
    ]);
    expect(summarize(cases)).toEqual({ total: 4, passed: 2, failed: 1, skipped: 1 });
  });

  it.each([
    ['[{"name":"a","result":"ok"},{"name":"b","result":"FAIL"}]', ['passed', 'failed']],
    ['{"results":[{"name":"a","status":"skip"}]}', ['skipped']],
    // A test with no verdict at all did not pass.
    ['{"tests":[{"name":"a"}]}', ['failed']],
  ])('accepts %s', (json, statuses) => {
    expect(parseResults(json, 'r.json').map((c) => c.status)).toEqual(statuses);
  });

  it.each([
    ['{', /^r\.json: not valid JSON \(.*\); the test runner must write results\.json$/],
    ['{"tests":[{"status":"passed"}]}', /^r\.json: field tests\.0\.name: .*expected \{"tests":\[\{"name","status"\}\]\}$/],
    ['{"other":1}', /^r\.json: field \(root\): /],
  ])('rejects %s naming the file and field', (json, message) => {
    expect(() => parseResults(json, 'r.json')).toThrowError(message);
  });
});

describe('toJUnit', () => {
  it('renders the golden JUnit XML (escaped, skipped and failed cases)', () => {
    const cases = parseResults(read('combined.results.json'), 'results.json');
    expect(toJUnit([{ name: 'test-llm-runtime-python3_11-amd64', cases }])).toBe(read('combined.junit.xml'));
  });

  it('drops control characters XML cannot carry', () => {
    expect(toJUnit([{ name: 's', cases: [{ name: 'x', status: 'failed', output: 'a\u0000b\u001bc' }] }])).toContain('<system-out>abc</system-out>');
  });
});

describe('recorded results.json (generated runner, sandbox build of tools-default-amd64)', () => {
  it('reads every test with its origin, null exit codes of static checks included', () => {
    const cases = parseResults(read('real-tools.results.json'), 'results.json');
    const raw = JSON.parse(read('real-tools.results.json')) as { summary: { passed: number; failed: number; skipped: number; total: number } };
    const s = summarize(cases);
    expect(s).toEqual({ total: raw.summary.total, passed: raw.summary.passed, failed: raw.summary.failed, skipped: raw.summary.skipped });
    expect(cases.every((c) => c.suite && /@/.test(c.suite))).toBe(true);
    const staticCheck = cases.find((c) => c.name === 'the image runs as the unprivileged app user')!;
    expect(staticCheck.exitCode).toBeUndefined();
    expect(staticCheck.message).toBeUndefined();
  });
});

describe('parseEnvironment', () => {
  it('reads where the runner says the tests ran, and nothing from files without it', () => {
    const text = (env: unknown) => JSON.stringify({ version: 1, environment: env, tests: [] });
    expect(parseEnvironment(text({ accelerator: 'cuda', pool: 'gpu', device: 'nvidia.com/gpu=all' }))).toEqual({
      accelerator: 'cuda',
      pool: 'gpu',
      device: 'nvidia.com/gpu=all',
    });
    // A CPU pool: the runner writes empty pool and device.
    expect(parseEnvironment(text({ accelerator: 'cpu', pool: '', device: '' }))).toEqual({ accelerator: 'cpu' });
    expect(parseEnvironment(JSON.stringify({ tests: [] }))).toBeUndefined();
    expect(parseEnvironment(text({ pool: 'gpu' }))).toBeUndefined();
    expect(parseEnvironment('{not json')).toBeUndefined();
  });
});
