import { describe, expect, it } from 'vitest';
import { closest } from '../../src/action/buildx.js';
import { fetchQueue, kpis, queueWait, type JobTimes } from '../../src/action/kpi.js';
import { ctx } from './env.js';

describe('kpis', () => {
  it('combines wall time, step counts, image facts and queue wait', () => {
    expect(
      kpis({
        wallTimeMs: 1234.6,
        steps: { total: 10, cached: 9, executed: 1, failed: 0, cacheHitRatio: 0.9 },
        image: { sizeBytes: 100, layerCount: 3 },
        queue: { waitMs: 5000, createdAt: '2026-11-24T01:00:00.000Z', startedAt: '2026-11-24T01:00:05.000Z' },
      }),
    ).toEqual({
      wallTimeMs: 1235,
      steps: { total: 10, executed: 1, cached: 9, failed: 0 },
      cacheHitRatio: 0.9,
      imageSizeBytes: 100,
      layerCount: 3,
      queueWaitMs: 5000,
      queue: { createdAt: '2026-11-24T01:00:00.000Z', startedAt: '2026-11-24T01:00:05.000Z' },
    });
  });

  it('says why the queue wait is missing', () => {
    expect(kpis({ wallTimeMs: 1, steps: { total: 0, cached: 0, executed: 0, failed: 0 }, queue: { missing: 'no github-token input' } })).toMatchObject({
      queueWaitMissing: 'no github-token input',
    });
  });

  it('leaves out what the build did not measure', () => {
    expect(kpis({ wallTimeMs: 10, steps: { total: 0, cached: 0, executed: 0, failed: 0 } })).toEqual({
      wallTimeMs: 10,
      steps: { total: 0, executed: 0, cached: 0, failed: 0 },
    });
  });
});

describe('queueWait', () => {
  const job = (over: Partial<JobTimes>): JobTimes => ({
    name: 'build (llm-runtime-python3_11-amd64)',
    status: 'in_progress',
    created_at: '2026-11-24T01:00:00Z',
    started_at: '2026-11-24T01:00:07Z',
    runner_name: 'GitHub Actions 12',
    ...over,
  });
  it.each([
    ['by runner name', [job({ runner_name: 'other', started_at: '2026-11-24T01:00:01Z' }), job({})], 'GitHub Actions 12', 'build', 7000],
    ['by the only in-progress job of this job id', [job({ runner_name: null }), job({ name: 'plan', runner_name: null })], undefined, 'build', 7000],
    ['not when two jobs of this id run and no runner name matches', [job({ runner_name: 'a' }), job({ runner_name: 'b' })], 'c', 'build', /no in-progress job/],
    ['not from completed jobs', [job({ status: 'completed' })], 'GitHub Actions 12', 'build', /no in-progress job/],
    ['not from clock skew', [job({ started_at: '2026-11-24T00:59:59Z' })], 'GitHub Actions 12', 'build', /unusable times/],
  ])('%s', (_n, jobs, runner, jobId, want) => {
    const got = queueWait(jobs, runner, jobId);
    if (typeof want === 'number')
      expect(got).toEqual({
        waitMs: want,
        createdAt: '2026-11-24T01:00:00.000Z',
        startedAt: new Date(Date.parse('2026-11-24T01:00:00Z') + want).toISOString(),
      });
    else expect('missing' in got && got.missing).toMatch(want);
  });
});

describe('closest', () => {
  it.each([
    ['tools-default-amd65', ['default', 'tools', 'tools-default-amd64', 'tools-default-arm64'], ['tools-default-amd64', 'tools-default-arm64']],
    ['tols', ['tools', 'tests', 'default'], ['tools']],
    ['zzz', ['tools'], []],
  ])('%s', (name, names, want) => {
    expect(closest(name, names)).toEqual(want);
  });
});

describe('fetchQueue', () => {
  it('reads the job timestamps from the GitHub API (a local stand-in answering the REST route)', async () => {
    const http = await import('node:http');
    const seen: string[] = [];
    let status = 200;
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          total_count: 1,
          jobs: [{ name: 'build', runner_name: 'r1', status: 'in_progress', created_at: '2026-11-24T01:00:00Z', started_at: '2026-11-24T01:00:42Z' }],
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as import('node:net').AddressInfo;
    const old = process.env.RUNNER_NAME;
    process.env.RUNNER_NAME = 'r1';
    try {
      const api = { ...ctx, apiUrl: `http://127.0.0.1:${port}` };
      expect(await fetchQueue(api, 'tok')).toEqual({ waitMs: 42_000, createdAt: '2026-11-24T01:00:00.000Z', startedAt: '2026-11-24T01:00:42.000Z' });
      expect(seen).toEqual(['GET /repos/acme/factory/actions/runs/42/attempts/2/jobs?per_page=100 token tok']);
      // No token: no request, and the record says why.
      expect(await fetchQueue(api, undefined)).toEqual({ missing: 'no github-token input' });
      expect(seen).toHaveLength(1);
      // A token without `actions: read`: the API refuses, the record names the permission.
      status = 403;
      const denied = await fetchQueue(api, 'tok');
      expect('missing' in denied && denied.missing).toMatch(/403: the job needs `permissions: actions: read`/);
    } finally {
      if (old === undefined) delete process.env.RUNNER_NAME;
      else process.env.RUNNER_NAME = old;
      server.close();
    }
  });
});
