// Each build phase on its own, with fakes of the tools it is given (buildx, the image reader):
// selectTargets -> buildImages -> runTests -> assembleRecords, every hand-off a typed value.
// runBuild wires them (test/action/build.test.ts); the sandbox test runs them on BuildKit.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assembleRecords } from '../../src/action/assemble.js';
import type { ExecOptions, ExecResult } from '../../src/action/buildx.js';
import { getInputs, runPaths, type RunPaths } from '../../src/action/context.js';
import type { ImageFacts } from '../../src/action/image.js';
import { buildImages, type BakeJob, type ImageBuild } from '../../src/action/images.js';
import { parseRawJson } from '../../src/action/rawjson.js';
import { runTests } from '../../src/action/run-tests.js';
import { selectTargets, type Selection } from '../../src/action/select.js';
import type { BakeRunner, ImageReader } from '../../src/action/tools.js';
import type { BakeDefinition, BuildInputs } from '../../src/action/types.js';
import { ctx, restoreEnvAfterEach, setEnv, setInputs } from './env.js';

restoreEnvAfterEach();

const DIGEST = `sha256:${'cd'.repeat(32)}`;
const REF = '127.0.0.1:5000/acme/tools:2.0.0-amd64';
const def: BakeDefinition = {
  group: { tests: { targets: ['test-tools-amd64'] } },
  target: {
    'tools-amd64': {
      context: '.',
      dockerfile: 'build/tools/Dockerfile',
      platforms: ['linux/amd64'],
      tags: [REF],
      labels: { 'dev.factory.product': 'tools@2.0.0', 'dev.factory.variant': 'default', 'dev.factory.fragments': 'busybox@1.0.0' },
    },
    'test-tools-amd64': { context: '.', dockerfile: 'build/tools/test/Dockerfile', contexts: { 'factory-image-under-test': 'target:tools-amd64' } },
  },
};

/** A buildx that answers each bake with `exitCode`, after `effect` wrote what a real bake writes; it keeps the arguments. */
function fakeBuildx(effect: (args: readonly string[]) => void, exitCode = 0, stderr = '') {
  const calls: string[][] = [];
  const buildx: BakeRunner = {
    command: 'buildx',
    print: async (_files, targets) => {
      calls.push(['--print', ...targets]);
      return def;
    },
    run: async (args: readonly string[], opts?: ExecOptions): Promise<ExecResult> => {
      calls.push([...args]);
      effect(args);
      if (opts?.stderrFile) fs.appendFileSync(opts.stderrFile, stderr);
      return { exitCode, stdout: '', stderr };
    },
  };
  return { buildx, calls };
}

const argAfter = (args: readonly string[], flag: string): string => args[args.indexOf(flag) + 1]!;

let ws: string;
let paths: RunPaths;
beforeEach(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-phases-'));
  paths = runPaths(path.join(ws, 'evidence'));
  fs.mkdirSync(paths.dir, { recursive: true });
  setEnv({ GITHUB_OUTPUT: undefined, GITHUB_STEP_SUMMARY: undefined });
});
afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

function inputs(given: Record<string, string> = {}): BuildInputs {
  setInputs({ target: 'tools-amd64', ...given });
  return getInputs({ ...ctx, workspace: ws, runnerTemp: path.join(ws, 'tmp') }) as BuildInputs;
}

async function selection(i: BuildInputs): Promise<Selection> {
  return selectTargets(i, {}, fakeBuildx(() => {}).buildx);
}

function job(sel: Selection, i: BuildInputs): BakeJob {
  return { sel, inputs: i, paths, env: {}, dockerfiles: new Map() };
}

describe('selectTargets', () => {
  it('prints the target with the tests group once and hands on images, their tests, facts from the labels and test owners', async () => {
    const { buildx, calls } = fakeBuildx(() => {});
    const sel = await selectTargets(inputs(), {}, buildx);
    expect(calls).toEqual([['--print', 'tools-amd64', 'tests']]);
    expect(sel.images).toEqual(['tools-amd64']);
    expect(sel.tests).toEqual(['test-tools-amd64']);
    expect(sel.owners.get('test-tools-amd64')).toEqual(['tools-amd64']);
    expect(sel.facts.get('tools-amd64')).toMatchObject({ productName: 'tools', productVersion: '2.0.0', variant: 'default', fragmentRefs: ['busybox@1.0.0'] });
    expect(Object.keys(sel.def.target).sort()).toEqual(['test-tools-amd64', 'tools-amd64']);
  });
});

describe('buildImages', () => {
  const facts: ImageFacts = { manifestDigest: DIGEST, sizeBytes: 1234, layerCount: 3, sbom: { spdxVersion: 'SPDX-2.3', packages: [] } };

  it('a pushed image: digest and refs from the metadata file, facts and SBOM from the registry reader', async () => {
    const i = inputs({ push: 'true' });
    const sel = await selection(i);
    const asked: unknown[][] = [];
    const images: ImageReader = {
      pushed: async (...a) => (asked.push(a), facts),
      layout: async () => {
        throw new Error('a pushed build reads the registry, not a layout');
      },
    };
    const { buildx, calls } = fakeBuildx((args) =>
      fs.writeFileSync(argAfter(args, '--metadata-file'), JSON.stringify({ 'tools-amd64': { 'containerimage.digest': DIGEST, 'image.name': REF } })),
    );
    const build = await buildImages(job(sel, i), { buildx, images });
    expect(calls[0]).toContain('tools-amd64');
    expect(calls[0]).not.toContain('test-tools-amd64');
    expect(asked).toEqual([[REF, DIGEST, 'linux/amd64', false]]);
    const o = build.outcomes.get('tools-amd64')!;
    expect(o).toMatchObject({ digest: DIGEST, refs: [REF], image: facts });
    expect(o.failure).toBeUndefined();
    expect(JSON.parse(fs.readFileSync(o.sbomFile!, 'utf8'))).toEqual(facts.sbom);
  });

  it('an unpushed build reads the OCI layout it exported', async () => {
    const i = inputs();
    const sel = await selection(i);
    const dirs: string[] = [];
    const images: ImageReader = { pushed: async () => facts, layout: async (dir) => (dirs.push(dir), { ...facts, sbom: undefined }) };
    const { buildx } = fakeBuildx((args) =>
      fs.writeFileSync(argAfter(args, '--metadata-file'), JSON.stringify({ 'tools-amd64': { 'containerimage.digest': DIGEST } })),
    );
    const build = await buildImages(job(sel, i), { buildx, images });
    expect(dirs).toEqual([paths.ociDir('tools-amd64')]);
    expect(build.outcomes.get('tools-amd64')).toMatchObject({ digest: DIGEST, refs: [], image: { layerCount: 3 } });
  });

  it('a failed bake gives the image an error report and reads no image', async () => {
    const i = inputs({ push: 'true' });
    const sel = await selection(i);
    const images: ImageReader = {
      pushed: async () => {
        throw new Error('not asked after a failed bake');
      },
      layout: async () => facts,
    };
    const { buildx } = fakeBuildx(() => {}, 1, 'ERROR: failed to dial gRPC: connection refused\n');
    const build = await buildImages(job(sel, i), { buildx, images });
    expect(build.run.exitCode).toBe(1);
    const o = build.outcomes.get('tools-amd64')!;
    expect(o.digest).toBeUndefined();
    expect(o.failure).toMatchObject({ target: 'tools-amd64', kind: 'build' });
  });
});

describe('runTests', () => {
  const results = (status: string) =>
    JSON.stringify({
      tests: [{ name: 'busybox runs', suite: 'busybox@1.0.0', status, ...(status === 'failed' ? { exitCode: 1, message: 'expected exit 0, got 1' } : {}) }],
    });
  /** A test bake that exports `text` as the test target's results.json. */
  const exporting = (text: string) => (args: readonly string[]) => {
    const out = args.find((a) => a.startsWith('test-tools-amd64.output='))!.split('dest=')[1]!;
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'results.json'), text);
  };

  it("gives each image its test targets' cases, and writes JUnit and the results for the evidence", async () => {
    const i = inputs();
    const sel = await selection(i);
    const { buildx, calls } = fakeBuildx(exporting(results('passed')));
    const tests = await runTests(job(sel, i), buildx);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toContain('test-tools-amd64');
    const mine = tests.byImage.get('tools-amd64')!;
    expect(mine.targets).toEqual(['test-tools-amd64']);
    expect(mine.cases.map((c) => [c.name, c.status])).toEqual([['busybox runs', 'passed']]);
    expect(mine.failure).toBeUndefined();
    expect(fs.readFileSync(path.join(paths.dir, 'tests', 'junit.xml'), 'utf8')).toContain('busybox runs');
  });

  it('a failed test is the image’s test failure, naming the test', async () => {
    const i = inputs();
    const sel = await selection(i);
    const tests = await runTests(job(sel, i), fakeBuildx(exporting(results('failed'))).buildx);
    expect(tests.byImage.get('tools-amd64')!.failure).toMatchObject({ kind: 'test', target: 'test-tools-amd64', message: 'expected exit 0, got 1' });
  });

  it('no test targets: no bake at all', async () => {
    const i = inputs({ tests: 'none' });
    const sel = await selection(i);
    const { buildx, calls } = fakeBuildx(() => {
      throw new Error('no bake expected');
    });
    const tests = await runTests(job(sel, i), buildx);
    expect(calls).toEqual([]);
    expect(tests.run).toBeUndefined();
    expect(tests.byImage.get('tools-amd64')).toEqual({ targets: [], cases: [] });
  });
});

describe('assembleRecords', () => {
  it('one record per image from the selection, the image build and the tests, with lock digests pinned', async () => {
    const i = inputs({ push: 'true' });
    const sel = await selection(i);
    const build: ImageBuild = {
      run: { exitCode: 0, wallTimeMs: 1000, progress: parseRawJson('') },
      metadata: {},
      outcomes: new Map([['tools-amd64', { digest: DIGEST, refs: [REF] }]]),
    };
    const tests = { byImage: new Map([['tools-amd64', { targets: ['test-tools-amd64'], cases: [] }]]) };
    const lock = { fragments: { 'busybox@1.0.0': { digest: DIGEST } }, templates: {} };
    const [a, ...rest] = assembleRecords(
      sel,
      build,
      tests,
      lock,
      i,
      { ...ctx, workspace: ws },
      {
        startedAt: '2026-12-04T00:00:00.000Z',
        finishedAt: '2026-12-04T00:00:01.000Z',
        attempts: 1,
        evidenceDir: paths.dir,
      },
    );
    expect(rest).toEqual([]);
    expect(a!.path).toMatch(/tools/);
    expect(a!.record).toMatchObject({
      target: 'tools-amd64',
      product: { id: 'tools@2.0.0', name: 'tools', version: '2.0.0' },
      fragments: [{ ref: 'busybox@1.0.0', digest: DIGEST }],
      image: { refs: [REF], pushed: true },
    });
    expect(a!.record.failure).toBeUndefined();
  });
});
