import { describe, expect, it } from 'vitest';
import { closest } from '../../src/action/buildx.js';
import { fetchQueueWait, kpis, queueWait, type JobTimes } from '../../src/action/kpi.js';
import { ctx } from './env.js';
import { autoTests, dockerfileOf, expand, targetFacts } from '../../src/action/plan.js';
import type { BakeDefinition } from '../../src/action/types.js';

describe('kpis', () => {
  it('combines wall time, step counts, image facts and queue wait', () => {
    expect(
      kpis({ wallTimeMs: 1234.6, steps: { total: 10, cached: 9, executed: 1, failed: 0, cacheHitRatio: 0.9 }, image: { sizeBytes: 100, layerCount: 3 }, queueWaitMs: 5000 }),
    ).toEqual({ wallTimeMs: 1235, steps: { total: 10, executed: 1, cached: 9, failed: 0 }, cacheHitRatio: 0.9, imageSizeBytes: 100, layerCount: 3, queueWaitMs: 5000 });
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
    ['not when two jobs of this id run and no runner name matches', [job({ runner_name: 'a' }), job({ runner_name: 'b' })], 'c', 'build', undefined],
    ['not from completed jobs', [job({ status: 'completed' })], 'GitHub Actions 12', 'build', undefined],
    ['not from clock skew', [job({ started_at: '2026-11-24T00:59:59Z' })], 'GitHub Actions 12', 'build', undefined],
  ])('%s', (_n, jobs, runner, jobId, want) => {
    expect(queueWait(jobs, runner, jobId)).toBe(want);
  });
});

describe('plan', () => {
  const def: BakeDefinition = {
    group: {
      default: { targets: ['all'] },
      all: { targets: ['llm', 'tools-amd64'] },
      llm: { targets: ['llm-runtime-python3_11-amd64', 'llm-runtime-python3_11-arm64', 'tools-amd64'] },
      loop: { targets: ['loop'] },
    },
    target: {
      'llm-runtime-python3_11-amd64': {
        context: '.',
        dockerfile: 'build/llm-runtime/1.4.0/python3.11/Dockerfile',
        platforms: ['linux/amd64'],
        tags: ['r/llm-runtime:1.4.0-python3.11-amd64'],
        args: { BASE_IMAGE: 'r/base/debian:bookworm@sha256:ab' },
        labels: {
          'dev.factory.product': 'llm-runtime@1.4.0',
          'dev.factory.variant': 'python3.11',
          'dev.factory.template': 'debian@1.0.0',
          'dev.factory.fragments': 'hardening@1.0.0,python@1.0.0',
        },
      },
      'tools-amd64': { context: 'sub', dockerfile: 'Dockerfile', labels: { 'org.opencontainers.image.title': 'tools', 'org.opencontainers.image.version': '2.0.0' } },
    },
  };

  it('expands nested groups once, in order', () => {
    expect(expand(def, 'all')).toEqual(['llm-runtime-python3_11-amd64', 'llm-runtime-python3_11-arm64', 'tools-amd64']);
    expect(expand(def, 'tools-amd64')).toEqual(['tools-amd64']);
    expect(expand(def, 'loop')).toEqual([]);
  });

  it('reads the record facts from the labels the generator writes', () => {
    expect(targetFacts('llm-runtime-python3_11-amd64', def.target['llm-runtime-python3_11-amd64']!)).toEqual({
      target: 'llm-runtime-python3_11-amd64',
      productName: 'llm-runtime',
      productVersion: '1.4.0',
      variant: 'python3.11',
      platform: 'linux/amd64',
      templateRef: 'debian@1.0.0',
      fragmentRefs: ['hardening@1.0.0', 'python@1.0.0'],
      baseImage: 'r/base/debian:bookworm@sha256:ab',
      tags: ['r/llm-runtime:1.4.0-python3.11-amd64'],
    });
    expect(targetFacts('tools-amd64', def.target['tools-amd64']!)).toMatchObject({ productName: 'tools', productVersion: '2.0.0', variant: 'default', fragmentRefs: [] });
  });

  it('picks the combined and isolated test targets that exist', () => {
    const facts = new Map([['llm-runtime-python3_11-amd64', targetFacts('llm-runtime-python3_11-amd64', def.target['llm-runtime-python3_11-amd64']!)]]);
    const known = new Set(['test-llm-runtime-python3_11-amd64', 'test-fragment-python-1_0_0-amd64', 'test-fragment-python-1_0_0-arm64']);
    expect(autoTests(['llm-runtime-python3_11-amd64'], facts, known)).toEqual(['test-llm-runtime-python3_11-amd64', 'test-fragment-python-1_0_0-amd64']);
  });

  it('resolves the Dockerfile against the context', () => {
    expect(dockerfileOf(def.target['llm-runtime-python3_11-amd64']!)).toBe('build/llm-runtime/1.4.0/python3.11/Dockerfile');
    expect(dockerfileOf(def.target['tools-amd64']!)).toBe('sub/Dockerfile');
    expect(dockerfileOf({})).toBeUndefined();
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

describe('fetchQueueWait', () => {
  it('reads the job timestamps from the GitHub API (a local stand-in answering the REST route)', async () => {
    const http = await import('node:http');
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ total_count: 1, jobs: [{ name: 'build', runner_name: 'r1', status: 'in_progress', created_at: '2026-11-24T01:00:00Z', started_at: '2026-11-24T01:00:42Z' }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as import('node:net').AddressInfo;
    const old = process.env.RUNNER_NAME;
    process.env.RUNNER_NAME = 'r1';
    try {
      const ms = await fetchQueueWait({ ...ctx, apiUrl: `http://127.0.0.1:${port}` }, 'tok');
      expect(ms).toBe(42_000);
      expect(seen).toEqual(['GET /repos/acme/factory/actions/runs/42/attempts/2/jobs?per_page=100 token tok']);
      // No token: no request, no KPI.
      expect(await fetchQueueWait({ ...ctx, apiUrl: `http://127.0.0.1:${port}` }, undefined)).toBeUndefined();
      expect(seen).toHaveLength(1);
    } finally {
      if (old === undefined) delete process.env.RUNNER_NAME;
      else process.env.RUNNER_NAME = old;
      server.close();
    }
  });
});
