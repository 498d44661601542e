// KPIs and the compatibility matrix from a fixture records/ tree (history lines with one
// unreadable line, a monthly aggregate, a latest-per-target file that repeats a history line).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compat } from '../../src/obs/compat.js';
import { computeKpis, type KpiGrouping } from '../../src/obs/kpi.js';
import { readRecords } from '../../src/obs/read.js';

const ROOT = path.resolve(__dirname, 'fixtures');
const poolOf = (t: string) => (t.endsWith('-arm64') ? 'arm64' : 'amd64');

describe('readRecords', () => {
  it('reads history, aggregates and latest files once each, and names the unreadable line', async () => {
    const set = await readRecords(ROOT);
    expect(set.records).toHaveLength(5);
    expect(set.aggregates.map((a) => a.month)).toEqual(['2026-08']);
    expect(set.problems).toEqual([
      { file: 'records/history/2026/11.jsonl', line: 4, message: expect.stringMatching(/^unknown record schema "factory.record\/v9": /) },
    ]);
  });
});

describe('computeKpis', async () => {
  const set = await readRecords(ROOT);
  const kpis = (by?: KpiGrouping, since?: string) =>
    computeKpis(set.records, set.aggregates, { ...(by ? { by } : {}), ...(since ? { since: new Date(since) } : {}), poolOf });

  it('counts every build, rates from raw lines and aggregates, percentiles from raw lines', () => {
    const [all] = kpis().groups;
    expect(all).toMatchObject({
      key: 'all',
      builds: 7,
      passed: 5,
      failed: 2,
      aggregated: 2,
      successRate: 5 / 7,
      retryRate: 1 / 7,
      cacheHitRatio: 64 / 84,
      wallTimeMs: { p50: 120_000, p95: 200_000 },
      queueWaitMs: { p50: 10_000, p95: 60_000 },
      queueWaitMissing: 1,
      tests: { total: 28, passed: 19, failed: 2, skipped: 7 },
    });
    expect(all!.queueDepth.max).toBe(2);
    expect(all!.queueDepth.series.slice(0, 3)).toEqual([
      { at: '2026-11-02T01:00:00.000Z', depth: 2 },
      { at: '2026-11-02T01:00:05.000Z', depth: 1 },
      { at: '2026-11-02T01:00:30.000Z', depth: 0 },
    ]);
  });

  it.each([
    ['platform', undefined, { 'linux/amd64': 5, 'linux/arm64': 2 }],
    ['pool', undefined, { amd64: 5, arm64: 2 }],
    ['product', undefined, { 'llm-runtime@1.4.0': 7 }],
    ['fragment', undefined, { 'hardening@1.0.0': 5, 'python@1.0.0': 5 }],
    [undefined, '2026-11-10', { all: 2 }],
    ['platform', '2026-11-10', { 'linux/amd64': 2 }],
  ] as const)('--by %s --since %s', (by, since, want) => {
    const r = kpis(by, since);
    expect(Object.fromEntries(r.groups.map((g) => [g.key, g.builds]))).toEqual(want);
  });

  it('finds the build that failed and passed on a re-run, the image size trend and the time to patch', () => {
    const r = kpis();
    expect(r.flaky).toEqual([
      {
        target: 'llm-runtime-profileslim-arm64',
        run: '100',
        failedAttempt: '1',
        passedAttempt: '2',
        kind: 'test',
        tests: ['test-llm-runtime-profileslim-arm64'],
      },
    ]);
    expect(r.imageSize.map((s) => [s.series, s.first.bytes, s.last.bytes, s.points.length])).toEqual([
      ['llm-runtime@1.4.0 profileslim linux/amd64', 48_000_000, 50_000_000, 3],
      ['llm-runtime@1.4.0 profileslim linux/arm64', 48_000_000, 48_000_000, 1],
    ]);
    // The new base digest was first built by a PR check at 11-19 10:00; main pushed it 24 h later.
    expect(r.timeToPatch).toEqual([
      {
        product: 'llm-runtime@1.4.0',
        dependency: 'base 127.0.0.1:5000/base/debian:bookworm',
        from: `sha256:${'3'.repeat(64)}`,
        to: `sha256:${'5'.repeat(64)}`,
        firstSeenAt: '2026-11-19T10:00:00.000Z',
        pushedAt: '2026-11-20T10:00:00.000Z',
        hours: 24,
        measured: false,
      },
    ]);
  });

  it('measures time to patch from when the base watch saw the digest (record base.seenAt)', () => {
    const to = `sha256:${'5'.repeat(64)}`;
    const stamped = set.records.map((r) => (r.base.digest === to ? { ...r, base: { ...r.base, seenAt: '2026-11-19T04:00:00.000Z' } } : r));
    const [patch] = computeKpis(stamped, set.aggregates, { poolOf }).timeToPatch;
    expect(patch).toMatchObject({ to, firstSeenAt: '2026-11-19T04:00:00.000Z', pushedAt: '2026-11-20T10:00:00.000Z', hours: 30, measured: true });
  });

  it('reports nothing (not zeros) for a factory with no records', () => {
    expect(computeKpis([], [], { poolOf })).toEqual({ by: 'all', groups: [], imageSize: [], flaky: [], timeToPatch: [] });
  });
});

describe('compat', async () => {
  const set = await readRecords(ROOT);
  it.each([['python@1.0.0'], ['llm-runtime@1.4.0'], ['debian@1.0.0']])('%s: passing combinations first, newest first', (ref) => {
    const rows = compat(set.records, { ref, accelerator: () => 'cpu' });
    expect(rows.map((r) => [r.platform, r.base.slice(-6), r.passed, r.failed, r.last.result, r.last.run])).toEqual([
      ['linux/amd64', '555555', 2, 0, 'passed', '101/1'],
      ['linux/arm64', '333333', 1, 1, 'passed', '100/2'],
      ['linux/amd64', '333333', 1, 0, 'passed', '100/1'],
    ]);
    expect(rows[0]).toMatchObject({ product: 'llm-runtime@1.4.0', accelerator: 'cpu', fragments: [`hardening@1.0.0 (sha256:222222222222)`, 'python@1.0.0'] });
    expect(rows[0]!.last.url).toBe('https://github.com/acme/factory/actions/runs/101/attempts/1');
  });

  it('has no rows for a version nobody built', () => {
    expect(compat(set.records, { ref: 'python@9.9.9', accelerator: () => 'cpu' })).toEqual([]);
  });
});
