import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countSteps, errorLine, errorLocation, errorTarget, exitCodeOf, failedVertex, parseRawJson, parseStepName } from '../../src/action/rawjson.js';

const fixture = (name: string) => fs.readFileSync(new URL(`fixtures/rawjson/${name}`, import.meta.url), 'utf8');

describe('parseRawJson', () => {
  it('merges vertex updates, joins log chunks split mid-line and keeps warnings', () => {
    const p = parseRawJson(fixture('pass.rawjson.log'));
    expect(p.vertexes.map((v) => v.name)).toEqual([
      '[internal] load build definition from Dockerfile',
      '[internal] load metadata for localhost:5000/base/debian:bookworm',
      `[base 1/1] FROM localhost:5000/base/debian:bookworm@sha256:${'ab'.repeat(32)}`,
      '[security-hardening 1/2] RUN useradd --system app',
      '[security-hardening 2/2] RUN chmod 0700 /root',
      '[core-python 1/2] RUN apt-get update && apt-get install -y --no-install-recommends python3',
      '[final 1/1] COPY files/entrypoint.sh /usr/local/bin/entrypoint',
      'exporting to image',
    ]);
    const apt = p.vertexes[5]!;
    expect(apt.log).toEqual([
      'Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]',
      'Get:2 http://deb.debian.org/debian bookworm/main amd64 Packages [8792 kB]',
      'Setting up python3 (3.11.2-1+b1) ...',
    ]);
    expect(apt.started).toBe('2026-11-24T01:00:00.400000000Z');
    expect(apt.completed).toBe('2026-11-24T01:00:09.500000000Z');
    expect(p.warnings).toEqual([
      { vertex: p.vertexes[0]!.digest, short: "FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)", file: 'Dockerfile', line: 1 },
    ]);
    expect(p.text).toEqual([]);
  });

  it.each([
    ['pass.rawjson.log', { total: 4, cached: 2, executed: 2, failed: 0, cacheHitRatio: 0.5 }],
    ['fail.rawjson.log', { total: 3, cached: 1, executed: 0, failed: 1, cacheHitRatio: 0.3333 }],
    // Recorded: 4 steps (FROM is a source, not counted); cold all run, warm all cached.
    ['real-pass-cold.rawjson.log', { total: 4, cached: 0, executed: 4, failed: 0, cacheHitRatio: 0 }],
    ['real-pass-warm.rawjson.log', { total: 4, cached: 4, executed: 0, failed: 0, cacheHitRatio: 1 }],
    ['real-fail-group.rawjson.log', { total: 4, cached: 2, executed: 0, failed: 1, cacheHitRatio: 0.5 }],
  ])('counts Dockerfile steps of %s', (file, want) => {
    expect(countSteps(parseRawJson(fixture(file)))).toEqual(want);
  });

  it('counts nothing in an empty stream', () => {
    expect(countSteps(parseRawJson(''))).toEqual({ total: 0, cached: 0, executed: 0, failed: 0 });
  });

  it('finds the failing step of a recorded group build, its target and its log', () => {
    const p = parseRawJson(fixture('real-fail-group.rawjson.log'));
    const v = failedVertex(p)!;
    expect(v.name).toMatch(/^\[hello-amd64 app-hello 1\/2\] RUN echo "about to check"/);
    expect(v.log).toEqual(['about to check', 'stderr text', 'failing on purpose']);
    expect(exitCodeOf(v.error)).toBe(3);
    expect(errorTarget(p.text)).toBe('hello-amd64');
    expect(errorLocation(p.text)).toEqual({ file: 'Dockerfile', line: 10 });
  });

  it('does not take a missing cache import for the failure', () => {
    const p = parseRawJson(fixture('real-push-refused.rawjson.log'));
    const v = failedVertex(p)!;
    expect(v.name).toBe('exporting to image');
    expect(v.error).toMatch(/failed to push 127\.0\.0\.1:1\/rec\/hello:x: .*connection refused/);
    expect(errorLocation(p.text)).toBeUndefined();
  });

  it('finds the failing step, not the ones cancelled because of it', () => {
    const p = parseRawJson(fixture('fail.rawjson.log'));
    const v = failedVertex(p)!;
    expect(v.name).toBe('[llm-runtime-python3_11-amd64 app-llm-serve 1/2] RUN pip install --no-cache-dir llm-serve==9.9.9');
    expect(exitCodeOf(v.error)).toBe(1);
    expect(v.log.at(-1)).toBe('ERROR: No matching distribution found for llm-serve==9.9.9');
    expect(v.log).toHaveLength(51);
  });

  it("reads buildx's trailing error text", () => {
    const p = parseRawJson(fixture('fail.rawjson.log'));
    expect(errorLocation(p.text)).toEqual({ file: 'Dockerfile', line: 14 });
    expect(errorLine(p.text)).toBe(
      'failed to build: failed to solve: process "/bin/sh -c pip install --no-cache-dir llm-serve==9.9.9" did not complete successfully: exit code: 1',
    );
    expect(errorLocation(['no', 'location'])).toBeUndefined();
  });

  it('tolerates garbage lines and JSON that is not a status', () => {
    const p = parseRawJson('not json\n{"vertexes":[{"name":"no digest"}]}\n{broken\n');
    expect(p.vertexes).toEqual([]);
    expect(p.text).toEqual(['not json', '{broken']);
  });
});

describe('parseStepName', () => {
  it.each([
    ['[base 1/1] FROM debian', [], { stage: 'base', index: 1, total: 1, instruction: 'FROM debian' }],
    ['[2/3] RUN make', [], { index: 2, total: 3, instruction: 'RUN make' }],
    ['[t-amd64 core 2/3] RUN make', [], { target: 't-amd64', stage: 'core', index: 2, total: 3, instruction: 'RUN make' }],
    ['[t-amd64 2/3] RUN make', ['t-amd64'], { target: 't-amd64', index: 2, total: 3, instruction: 'RUN make' }],
    ['[t-amd64 2/3] RUN make', [], { stage: 't-amd64', index: 2, total: 3, instruction: 'RUN make' }],
    ['[internal] load metadata', [], undefined],
    ['exporting to image', [], undefined],
  ] as const)('%s', (name, targets, want) => {
    expect(parseStepName(name, targets)).toEqual(want);
  });
});

describe('countSteps per target of a group bake', () => {
  it('splits the recorded group build by the target prefix', () => {
    const p = parseRawJson(fixture('real-fail-group.rawjson.log'));
    const targets = ['hello-amd64', 'tools-amd64'];
    expect(countSteps(p, 'hello-amd64', targets)).toEqual({ total: 3, cached: 1, executed: 0, failed: 1, cacheHitRatio: 0.3333 });
    expect(countSteps(p, 'tools-amd64', targets)).toEqual({ total: 1, cached: 1, executed: 0, failed: 0, cacheHitRatio: 1 });
  });
});
