// The build phases wired together by runBuild, with fakes of the outside tools (buildx, the
// registry, the artifact service, git) and a real workdir on disk: what a job gets back
// (outputs through GITHUB_OUTPUT, records, the result file) for a pass, an infrastructure
// failure that a retry heals, one that stays, and a test failure that is never retried.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBuild } from '../../src/action/build.js';
import { getInputs } from '../../src/action/context.js';
import type { ExecOptions, ExecResult } from '../../src/action/buildx.js';
import type { Tools } from '../../src/action/tools.js';
import type { BakeDefinition, BuildInputs } from '../../src/action/types.js';
import { parseJobResult } from '../../src/core/job-result.js';
import { ctx, readOutputs, restoreEnvAfterEach, setEnv, setInputs } from './env.js';

restoreEnvAfterEach();

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');
const PASS_LOG = fs.readFileSync(path.join(fixtures, 'rawjson', 'real-pass-cold.rawjson.log'), 'utf8');

const def: BakeDefinition = {
  group: { tests: { targets: ['test-tools-amd64'] } },
  target: {
    'tools-amd64': {
      context: '.',
      dockerfile: 'build/tools/Dockerfile',
      platforms: ['linux/amd64'],
      tags: ['127.0.0.1:5000/acme/tools:2.0.0-amd64'],
      labels: { 'dev.factory.product': 'tools@2.0.0', 'dev.factory.fragments': 'busybox@1.0.0' },
    },
    'test-tools-amd64': { context: '.', dockerfile: 'build/tools/Dockerfile.test', contexts: { 'factory-image-under-test': 'target:tools-amd64' } },
  },
};

type Answer = { exitCode: number; stderr: string };
/** A buildx whose image bakes answer from `imageAnswers` in turn; test bakes write `results`. */
function fakeTools(imageAnswers: Answer[], results: string) {
  const calls: string[][] = [];
  const uploads: string[] = [];
  const run = async (args: readonly string[], opts?: ExecOptions): Promise<ExecResult> => {
    calls.push([...args]);
    const answer = (r: ExecResult) => (opts?.stderrFile && fs.appendFileSync(opts.stderrFile, r.stderr), r);
    if (args[0] === 'imagetools') return { exitCode: 0, stdout: '', stderr: '' };
    const metadata = args[args.indexOf('--metadata-file') + 1]!;
    if (metadata.endsWith('test-metadata.json')) {
      const out = args.find((a) => a.startsWith('test-tools-amd64.output='))!.split('dest=')[1]!;
      fs.mkdirSync(out, { recursive: true });
      fs.writeFileSync(path.join(out, 'results.json'), results);
      return answer({ exitCode: 0, stdout: '', stderr: PASS_LOG });
    }
    const a = imageAnswers.shift()!;
    if (a.exitCode === 0) {
      fs.writeFileSync(metadata, JSON.stringify({ 'tools-amd64': { 'containerimage.digest': DIGEST, 'image.name': '127.0.0.1:5000/acme/tools:2.0.0-amd64' } }));
    }
    return answer({ exitCode: a.exitCode, stdout: '', stderr: a.stderr });
  };
  const tools: Tools = {
    buildx: { command: 'buildx', run, print: async () => def },
    images: {
      pushed: async () => ({ manifestDigest: DIGEST, sizeBytes: 100, layerCount: 2 }),
      layout: async () => ({ manifestDigest: DIGEST, sizeBytes: 100, layerCount: 2 }),
    },
    artifacts: { upload: async (name: string) => void uploads.push(name) },
    git: { commitTime: async () => '1712000000' },
  };
  return { tools, calls, uploads };
}

const passing = JSON.stringify({ tests: [{ name: 'busybox runs', suite: 'busybox@1.0.0', status: 'passed' }] });
const failing = JSON.stringify({ tests: [{ name: 'busybox runs', suite: 'busybox@1.0.0', status: 'failed', exitCode: 1, message: 'expected exit 0, got 1' }] });
const INFRA: Answer = { exitCode: 1, stderr: 'ERROR: failed to dial gRPC: connection refused\n' };

let ws: string;
let outputFile: string;
beforeEach(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-build-'));
  fs.writeFileSync(path.join(ws, 'docker-bake.hcl'), '# the fake buildx does not read it\n');
  fs.writeFileSync(path.join(ws, 'factory.lock.json'), JSON.stringify({ fragments: { 'busybox@1.0.0': { digest: DIGEST } }, templates: {} }));
  outputFile = path.join(ws, 'github-output');
  fs.writeFileSync(outputFile, '');
  setEnv({ GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: undefined, SOURCE_DATE_EPOCH: undefined, FACTORY_RETRY_DELAY_MS: '0' });
});
afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

function outputs(): Record<string, string> {
  return readOutputs(outputFile);
}

async function build(inputs: Record<string, string>, tools: Tools): Promise<Error | undefined> {
  setInputs({ target: 'tools-amd64', evidence: 'true', ...inputs });
  const c = { ...ctx, workspace: ws, runnerTemp: path.join(ws, 'tmp') };
  try {
    await runBuild(getInputs(c) as BuildInputs, c, tools);
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

function resultFile() {
  const r = parseJobResult(fs.readFileSync(path.join(ws, 'factory-result', 'tools-amd64.json'), 'utf8'), 'result');
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

describe('runBuild', () => {
  it("records which tests ran on which device: the environment each test target's runner found", async () => {
    const onGpu = JSON.stringify({
      environment: { accelerator: 'cuda', pool: 'gpu', device: 'nvidia.com/gpu=all' },
      tests: [
        { name: 'busybox runs', suite: 'busybox@1.0.0', status: 'passed' },
        { name: 'cpu only', suite: 'busybox@1.0.0', status: 'skipped', message: 'skipped: cpu check' },
      ],
    });
    expect(await build({}, fakeTools([{ exitCode: 0, stderr: PASS_LOG }], onGpu).tools)).toBeUndefined();
    const record = JSON.parse(fs.readFileSync(path.join(ws, 'records/tools/2.0.0/tools-amd64.json'), 'utf8'));
    expect(record.tests).toEqual({
      targets: ['test-tools-amd64'],
      total: 2,
      passed: 1,
      failed: 0,
      skipped: 1,
      runs: [{ target: 'test-tools-amd64', accelerator: 'cuda', pool: 'gpu', device: 'nvidia.com/gpu=all', passed: 1, failed: 0, skipped: 1 }],
    });
    // A runner from before `environment` (or another tool's results.json): no runs, as before.
    expect(await build({}, fakeTools([{ exitCode: 0, stderr: PASS_LOG }], passing).tools)).toBeUndefined();
    expect(JSON.parse(fs.readFileSync(path.join(ws, 'records/tools/2.0.0/tools-amd64.json'), 'utf8')).tests.runs).toBeUndefined();
  });

  it('passes: one --print, image and test bakes from the trimmed definition, key tag, outputs and result file', async () => {
    const f = fakeTools([{ exitCode: 0, stderr: PASS_LOG }], passing);
    expect(await build({ push: 'true', 'key-tag': 'bk-0123', registry: '127.0.0.1:5000/acme' }, f.tools)).toBeUndefined();
    const bakes = f.calls.filter((c) => c[0] === 'bake');
    expect(bakes).toHaveLength(2);
    for (const b of bakes) expect(b[b.indexOf('--file') + 1]).toMatch(/bake-definition\.json$/);
    expect(f.calls.find((c) => c[0] === 'imagetools')).toEqual([
      'imagetools',
      'create',
      '--tag',
      '127.0.0.1:5000/acme/tools:bk-0123',
      `127.0.0.1:5000/acme/tools@${DIGEST}`,
    ]);
    expect(outputs()).toMatchObject({ result: 'passed', attempts: '1', digest: DIGEST, 'result-file': 'factory-result/tools-amd64.json', 'error-report': '' });
    expect(resultFile()).toEqual({
      version: 1,
      target: 'tools-amd64',
      result: 'passed',
      attempts: 1,
      pushed: true,
      digest: DIGEST,
      refs: ['127.0.0.1:5000/acme/tools:2.0.0-amd64'],
      keyTag: 'bk-0123',
      record: 'records/tools/2.0.0/tools-amd64.json',
    });
    const record = JSON.parse(fs.readFileSync(path.join(ws, 'records/tools/2.0.0/tools-amd64.json'), 'utf8'));
    expect(record).toMatchObject({ result: 'passed', attempts: 1, fragments: [{ ref: 'busybox@1.0.0', digest: DIGEST }], tests: { total: 1, passed: 1 } });
    expect(f.uploads.sort()).toEqual(['evidence-tools-amd64-linux-amd64-attempt2', 'record-tools-amd64-linux-amd64-attempt2']);
  });

  it("retries a failure the inputs are not to blame for, and keeps the first attempt's log", async () => {
    const f = fakeTools([INFRA, { exitCode: 0, stderr: PASS_LOG }], passing);
    expect(await build({ retries: '2' }, f.tools)).toBeUndefined();
    expect(outputs()).toMatchObject({ result: 'passed', attempts: '2' });
    expect(resultFile()).toMatchObject({ result: 'passed', attempts: 2, pushed: false });
    const evidence = path.join(ws, 'tmp/factory-evidence/tools-amd64-42-2');
    expect(fs.readFileSync(path.join(evidence, 'attempt-1/build.rawjson.log'), 'utf8')).toContain('connection refused');
    expect(fs.readFileSync(path.join(evidence, 'build.rawjson.log'), 'utf8')).not.toContain('connection refused');
    expect(f.calls.filter((c) => c[0] === 'bake')).toHaveLength(3);
  });

  it('ends in result error after the last retry, with no error report (not the inputs) and no key tag', async () => {
    const f = fakeTools([INFRA, INFRA], passing);
    const e = await build({ retries: '1', push: 'true', 'key-tag': 'bk-1' }, f.tools);
    expect(e?.message).toMatch(/connection refused/);
    expect(outputs()).toMatchObject({ result: 'error', attempts: '2', 'error-report': '' });
    expect(resultFile()).toMatchObject({ result: 'error', attempts: 2, pushed: false });
    expect(f.calls.some((c) => c[0] === 'imagetools')).toBe(false);
  });

  it('never retries a failing test: result failed, the report names the test, no key tag', async () => {
    const f = fakeTools(
      [
        { exitCode: 0, stderr: PASS_LOG },
        { exitCode: 0, stderr: PASS_LOG },
      ],
      failing,
    );
    const e = await build({ retries: '3', push: 'true', 'key-tag': 'bk-1' }, f.tools);
    expect(e?.message).toMatch(/test-tools-amd64: test busybox runs failed/);
    expect(outputs()).toMatchObject({ result: 'failed', attempts: '1' });
    expect(JSON.parse(outputs()['error-report']!)).toMatchObject({ kind: 'test', step: 'busybox runs' });
    expect(resultFile()).toMatchObject({ result: 'failed', attempts: 1, message: expect.stringContaining('busybox runs') });
    expect(f.calls.some((c) => c[0] === 'imagetools')).toBe(false);
  });

  it('passes the commit time as SOURCE_DATE_EPOCH and the variables input to buildx', async () => {
    const envs: Record<string, string>[] = [];
    const f = fakeTools([{ exitCode: 0, stderr: PASS_LOG }], passing);
    const run = f.tools.buildx.run;
    f.tools.buildx.run = (args, opts) => (envs.push(opts?.env ?? {}), run(args, opts));
    await build({ variables: 'BASE_DEBIAN=r/base/debian@sha256:cd' }, f.tools);
    expect(envs[0]).toMatchObject({ SOURCE_DATE_EPOCH: '1712000000', BASE_DEBIAN: 'r/base/debian@sha256:cd' });
  });
});

describe('record paths from bake labels', () => {
  it.each([
    ['../../.github/workflows/x@1.0.0', 'product name "../../.github/workflows/x"'],
    ['tools@../../../etc', 'product version "../../../etc"'],
    ['/etc/passwd@1.0.0', 'product name "/etc/passwd"'],
    ['to\\ols@1.0.0', 'product name "to\\\\ols"'],
    ['to\u0000ols@1.0.0', 'product name "to\\u0000ols"'],
    ['..@1.0.0', 'product name ".."'],
  ])('refuses dev.factory.product=%j before anything is built or written', async (product, named) => {
    const f = fakeTools([{ exitCode: 0, stderr: PASS_LOG }], passing);
    const bad: BakeDefinition = JSON.parse(JSON.stringify(def)) as BakeDefinition;
    bad.target['tools-amd64']!.labels!['dev.factory.product'] = product;
    f.tools.buildx.print = async () => bad;
    const e = await build({}, f.tools);
    expect(e?.name).toBe('ActionError');
    expect(e?.message).toContain(`target "tools-amd64": its record would be written outside records/: the ${named} (from label dev.factory.product`);
    expect(e?.message).toMatch(/fix the bake file or regenerate it/);
    expect(f.calls.filter((c) => c[0] === 'bake')).toEqual([]);
    expect(fs.existsSync(path.join(ws, 'records'))).toBe(false);
  });
});

describe('record upload before the build key', () => {
  it('tags the key only after the record artifact is up; a failed record upload leaves no key and fails the leg as an error', async () => {
    const f = fakeTools([{ exitCode: 0, stderr: PASS_LOG }], passing);
    const order: string[] = [];
    const run = f.tools.buildx.run;
    f.tools.buildx.run = (args, opts) => (args[0] === 'imagetools' && order.push('key-tag'), run(args, opts));
    f.tools.artifacts.upload = async (name: string) => void order.push(name.split('-')[0]!);
    expect(await build({ push: 'true', 'key-tag': 'bk-1' }, f.tools)).toBeUndefined();
    expect(order).toEqual(['record', 'key-tag', 'evidence']);

    const g = fakeTools([{ exitCode: 0, stderr: PASS_LOG }], passing);
    g.tools.artifacts.upload = async (name: string) => {
      if (name.startsWith('record-')) throw new Error('Failed to make request after 5 attempts: Failed request: (503) Service Unavailable');
    };
    const e = await build({ push: 'true', 'key-tag': 'bk-1' }, g.tools);
    expect(e?.message).toMatch(/^the record artifact of tools-amd64 could not be uploaded, so the image is not tagged with the build key/);
    expect(g.calls.some((c) => c[0] === 'imagetools')).toBe(false);
    expect(resultFile()).toMatchObject({ result: 'error', pushed: true });
    expect(resultFile().keyTag).toBeUndefined();
  });
});
