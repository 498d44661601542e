import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { annotationMessage, buildErrorReport, isAttributable, testErrorReport } from '../../src/action/error-report.js';
import { loadDockerfile } from '../../src/action/evidence.js';
import { parseRawJson } from '../../src/action/rawjson.js';
import { findStepLine } from '../../src/action/sourcemap.js';

const tree = new URL('fixtures/tree/', import.meta.url).pathname;
const DF = 'build/llm-runtime/1.4.0/python3.11/Dockerfile';
const TARGET = 'llm-runtime-python3_11-amd64';
const fail = parseRawJson(fs.readFileSync(new URL('fixtures/rawjson/fail.rawjson.log', import.meta.url), 'utf8'));

describe('buildErrorReport', () => {
  it('maps the failing step through the source map to the fragment line', () => {
    const r = buildErrorReport({ progress: fail, targets: [TARGET, 'tools-amd64'], dockerfiles: new Map([[TARGET, loadDockerfile(tree, DF)!]]), exitCode: 1 });
    expect(r).toMatchObject({
      kind: 'build',
      target: TARGET,
      step: `[${TARGET} app-llm-serve 1/2] RUN pip install --no-cache-dir llm-serve==9.9.9`,
      stage: 'app-llm-serve',
      exitCode: 1,
      message: 'process "/bin/sh -c pip install --no-cache-dir llm-serve==9.9.9" did not complete successfully: exit code: 1',
      dockerfile: { file: DF, line: 14 },
      source: { file: 'fragments/llm-serve/1.0.0/Dockerfile.ejs', line: 4, origin: 'llm-serve@1.0.0' },
    });
    // The last 40 lines of that step, not of the whole build.
    expect(r.log).toHaveLength(40);
    expect(r.log[0]).toBe('pip line 11');
    expect(r.log.at(-1)).toBe('ERROR: No matching distribution found for llm-serve==9.9.9');
  });

  it('falls back to matching the step in the Dockerfile when buildx printed no location', () => {
    const noLocation = { ...fail, text: fail.text.filter((l) => !/^Dockerfile:\d+$/.test(l)) };
    const r = buildErrorReport({ progress: noLocation, targets: [TARGET], dockerfiles: new Map([[TARGET, loadDockerfile(tree, DF)!]]), exitCode: 1 });
    expect(r.dockerfile).toEqual({ file: DF, line: 14 });
    expect(r.source?.file).toBe('fragments/llm-serve/1.0.0/Dockerfile.ejs');
  });

  it('still reports target, step and exit code without a Dockerfile', () => {
    const r = buildErrorReport({ progress: fail, targets: [TARGET], dockerfiles: new Map(), exitCode: 1 });
    expect(r.dockerfile).toBeUndefined();
    expect(annotationMessage(r).split('\n')[0]).toBe(
      `${TARGET}: step [${TARGET} app-llm-serve 1/2] RUN pip install --no-cache-dir llm-serve==9.9.9 failed, exit code 1`,
    );
  });

  it('reports a bake that failed before any step (e.g. a bad bake file)', () => {
    const p = parseRawJson('docker-bake.hcl:3\n--------------------\nERROR: docker-bake.hcl:3,1-2: Invalid block\n');
    const r = buildErrorReport({ progress: p, targets: ['x'], dockerfiles: new Map(), exitCode: 1 });
    expect(r).toMatchObject({ target: 'x', step: '(no failing step reported by BuildKit)', message: 'docker-bake.hcl:3,1-2: Invalid block' });
  });
});

describe('testErrorReport', () => {
  it('names the test, its exit code, output and declaring file', () => {
    const r = testErrorReport('test-a-amd64', {
      name: 'python runs',
      suite: 'python@1.0.0',
      status: 'failed',
      exitCode: 127,
      output: 'sh: python3: not found\n',
      source: { file: 'fragments/python/1.0.0/fragment.yaml', line: 12 },
    });
    expect(r).toEqual({
      kind: 'test',
      target: 'test-a-amd64',
      step: 'python runs',
      exitCode: 127,
      message: 'test "python runs" failed',
      log: ['sh: python3: not found'],
      source: { file: 'fragments/python/1.0.0/fragment.yaml', line: 12, origin: 'python@1.0.0' },
    });
  });
});

describe('findStepLine', () => {
  const df = fs.readFileSync(`${tree}/${DF}`, 'utf8');
  it.each([
    ['app-llm-serve', 'RUN pip install --no-cache-dir llm-serve==9.9.9', 14],
    ['app-llm-serve', 'COPY files/serve.sh /usr/local/bin/serve', 15],
    ['core-python', 'FROM security-hardening', 10],
    ['final', 'USER app', 18],
    ['final', 'RUN pip install --no-cache-dir llm-serve==9.9.9', undefined],
    ['nope', 'USER app', undefined],
  ])('%s: %s', (stage, instruction, line) => {
    expect(findStepLine(df, stage, instruction)).toBe(line);
  });

  it('joins continuation lines', () => {
    expect(findStepLine('FROM x AS a\nRUN apt-get update && \\\n    apt-get install -y curl\n', 'a', 'RUN apt-get update && apt-get install -y curl')).toBe(2);
  });
});

describe('recorded failures', () => {
  const recorded = new URL('fixtures/recorded/', import.meta.url).pathname;
  const rec = (f: string) => parseRawJson(fs.readFileSync(new URL(`fixtures/rawjson/${f}`, import.meta.url), 'utf8'));

  it('names the failing target of a group, its step, exit code and Dockerfile line', () => {
    const df = loadDockerfile(recorded, 'Dockerfile')!;
    const r = buildErrorReport({
      progress: rec('real-fail-group.rawjson.log'),
      targets: ['hello-amd64', 'tools-amd64'],
      dockerfiles: new Map([
        ['hello-amd64', df],
        ['tools-amd64', df],
      ]),
      exitCode: 1,
    });
    expect(r).toMatchObject({
      target: 'hello-amd64',
      stage: 'app-hello',
      exitCode: 3,
      dockerfile: { file: 'Dockerfile', line: 10 },
      source: { file: 'fragments/hello/1.0.0/Dockerfile.ejs', line: 2, origin: 'hello@1.0.0' },
      log: ['about to check', 'stderr text', 'failing on purpose'],
    });
  });

  it('invents no source location without a source map', () => {
    const df = { ...loadDockerfile(recorded, 'Dockerfile')!, map: [] };
    const r = buildErrorReport({
      progress: rec('real-fail-group.rawjson.log'),
      targets: ['hello-amd64'],
      dockerfiles: new Map([['hello-amd64', df]]),
      exitCode: 1,
    });
    expect(r.dockerfile).toEqual({ file: 'Dockerfile', line: 10 });
    expect(r.source).toBeUndefined();
  });

  it('turns a push to a registry that does not answer into one message: address or outage, retried', () => {
    const r = buildErrorReport({ progress: rec('real-push-refused.rawjson.log'), targets: ['hello-amd64'], dockerfiles: new Map(), exitCode: 1 });
    expect(r.step).toBe('push');
    expect(r.message).toMatch(
      /^the registry could not be reached while pushing: failed to solve: failed to push 127\.0\.0\.1:1\/rec\/hello:x: .*connection refused; check the registry address/,
    );
  });

  it('turns a push the registry refuses (credentials) into one message that says what to fix', () => {
    const progress = parseRawJson('ERROR: failed to solve: failed to push r.example/acme/x:1: unexpected status from HEAD request: 403 Forbidden\n');
    const r = buildErrorReport({ progress, targets: ['x'], dockerfiles: new Map(), exitCode: 1 });
    expect(r.message).toMatch(/^the registry refused the push: .*403 Forbidden; log in with docker\/login-action/);
    expect(isAttributable(r)).toBe(true);
  });
});

describe('isAttributable', () => {
  const rec = (f: string) => parseRawJson(fs.readFileSync(new URL(`fixtures/rawjson/${f}`, import.meta.url), 'utf8'));
  it.each([
    ['a failing step', buildErrorReport({ progress: rec('real-fail-group.rawjson.log'), targets: ['hello-amd64'], dockerfiles: new Map(), exitCode: 1 }), true],
    [
      'a registry that does not answer the push',
      buildErrorReport({ progress: rec('real-push-refused.rawjson.log'), targets: ['hello-amd64'], dockerfiles: new Map(), exitCode: 1 }),
      false,
    ],
    [
      'a builder that went away',
      buildErrorReport({
        progress: parseRawJson('ERROR: failed to solve: Unavailable: connection error: desc = "transport: error while dialing"\n'),
        targets: ['x'],
        dockerfiles: new Map(),
        exitCode: 1,
      }),
      false,
    ],
  ])('%s: %s', (_n, report, want) => {
    expect(isAttributable(report)).toBe(want);
  });
});
