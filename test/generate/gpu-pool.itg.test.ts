// The GPU pool's device plumbing on real BuildKit, without a GPU: a buildkitd with CDI on and
// our own device kind factory.test/gpu=0 (scripts/sandbox.sh cdi-builder-up; the spec is
// scripts/sandbox/factory-test-cdi.yaml: FACTORY_CDI_DEVICE in the environment, /dev/nvidiactl as
// /dev/null's node). A small factory with a CUDA product on a pool that has that device and a CPU
// product on a CPU pool; its generated test targets are baked as the action bakes them, and once
// by the action itself (runBuild with the real buildx) for the record.
// Measures, per pool and kind of test: ran (passed or failed on its own check), skipped (with the
// reason), failed (no device where the pool promised one). Needs the sandbox; skipped, saying
// why, when it is down.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBuildFiles } from '../../generators/build-files.js';
import { runBuild } from '../../src/action/build.js';
import { Buildx } from '../../src/action/buildx.js';
import { getInputs } from '../../src/action/context.js';
import { registryImages, type Tools } from '../../src/action/tools.js';
import type { BuildInputs } from '../../src/action/types.js';
import type { Test } from '../../src/core/types.js';
import { base, factory, fragment, pool, product, template } from '../golden/build-fixture.js';
import { BUILDX } from '../golden/buildx.js';
import { ctx, restoreEnvAfterEach, setEnv, setInputs } from '../action/env.js';
import { parseEnvLines } from '../sandbox-env.js';

restoreEnvAfterEach();

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SANDBOX = join(ROOT, 'scripts/sandbox.sh');
const DEVICE = 'factory.test/gpu=0';

function sandboxEnv(): { env?: Record<string, string>; why?: string } {
  if (!BUILDX) return { why: 'no buildx (set BUILDX_BIN or put buildx on PATH)' };
  const r = spawnSync(SANDBOX, ['env'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) return { why: `sandbox is down (scripts/sandbox.sh up): ${r.stderr.trim().split('\n').at(-1)}` };
  const env = parseEnvLines(r.stdout);
  if (!env.BASE_BUSYBOX) return { why: 'sandbox env lacks BASE_BUSYBOX' };
  return { env };
}
const sandbox = sandboxEnv();
if (sandbox.why) console.warn(`gpu-pool.itg: skipped: ${sandbox.why}`);

const work = mkdtempSync(join(tmpdir(), 'gpu-pool-itg-'));
const builders = { spec: 'cdi-itg', noSpec: 'cdi-itg-nospec' };

function sh(args: string[]): string {
  const r = spawnSync(SANDBOX, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`scripts/sandbox.sh ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

beforeAll(() => {
  if (sandbox.why) return;
  sh(['cdi-builder-up', builders.spec]);
  sh(['cdi-builder-up', builders.noSpec, '--no-spec']);
}, 240_000);
afterAll(() => {
  if (!sandbox.why) for (const b of Object.values(builders)) spawnSync(SANDBOX, ['builder-down', b], { timeout: 60_000 });
  rmSync(work, { recursive: true, force: true });
});

// The GPU checks of the fixture: what the CDI spec injects, and the real gpu-check of the sample
// factory's cuda-env fragment (which runs, and reports the missing driver: our device has none).
const needsGpu = { accelerator: ['cpu' as const], reason: 'needs the GPU; CPU builders have none' };
const gpuTests: Test[] = [
  { name: 'device env', 'env-equals': { FACTORY_CDI_DEVICE: DEVICE }, skip: needsGpu },
  { name: 'device node', file: '/dev/nvidiactl', exists: true, skip: needsGpu },
  { name: 'plain', command: 'true', exit: 0 },
];
const tpl = template('mini', '1.0.0', "<%- slot('core') %>\n<%- slot('app') %>\n", { base: 'busybox', user: undefined });
const gpuEnv = fragment('gpu-env', '1.0.0', 'core', 'ENV NVIDIA_VISIBLE_DEVICES=all\nCOPY --chmod=0755 files/gpu-check /usr/local/bin/gpu-check\n', {
  accelerators: ['cpu', 'cuda'],
  tests: gpuTests,
});
const gpuCheck = { path: 'fragments/gpu-env/1.0.0/files/gpu-check', bytes: readFileSync(join(ROOT, 'fragments/cuda-env/1.0.0/files/gpu-check')) };
gpuEnv.files.push(gpuCheck);
gpuEnv.allFiles.push(gpuCheck);
const app = fragment('app', '1.0.0', 'app', 'RUN echo app > /etc/app\n', { tests: [] });
const busybox = { name: 'busybox', image: 'docker.io/library/busybox:stable' };
const gpuCheckTest: Test = { name: 'gpu-check', command: 'gpu-check', exit: 0, stdout: { matches: 'gpus=[1-9]' }, skip: needsGpu };
const cuda = product({
  name: 'gpu-app',
  template: tpl,
  fragments: [gpuEnv, app],
  base: busybox,
  product: { platforms: ['linux/amd64'], accelerator: 'cuda', tests: [gpuCheckTest] },
});
const cpu = product({
  name: 'cpu-app',
  template: tpl,
  fragments: [gpuEnv, app],
  base: busybox,
  product: { platforms: ['linux/amd64'], accelerator: 'cpu', tests: [gpuCheckTest] },
});
const pools = [pool('amd64', 'linux/amd64'), pool('gpu', 'linux/amd64', { accelerator: 'cuda', device: DEVICE, 'self-hosted': true, cache: 'local' })];
const dir = join(work, 'factory');
const GPU_TESTS = 'test-gpu-app-default-amd64';
const CPU_TESTS = 'test-cpu-app-default-amd64';
const ISOLATED = 'test-fragment-gpu-env-1_0_0-amd64';

function writeFactory(): void {
  const f = factory([cuda, cpu], pools, [base('busybox', 'docker.io/library/busybox:stable')]);
  for (const file of generateBuildFiles(f)) {
    mkdirSync(dirname(join(dir, file.path)), { recursive: true });
    writeFileSync(join(dir, file.path), file.text);
  }
  mkdirSync(join(dir, 'fragments/gpu-env/1.0.0/files'), { recursive: true });
  writeFileSync(join(dir, gpuCheck.path), gpuCheck.bytes, { mode: 0o755 });
}

interface Outcome {
  status: number | null;
  out: string;
}

let run = 0;
/** Bakes test targets on a builder, each to its own results directory; the SBOM scanner is the action's test. */
function bake(builder: string, targets: string[], extra: string[] = []): Outcome & { results: string } {
  // Inside the bake's directory: bake wants a grant for any path outside it.
  const results = join(dir, `.factory/results-${++run}`);
  const r = spawnSync(BUILDX!, ['bake', '-f', 'docker-bake.hcl', '--builder', builder, '--set', '*.attest=type=sbom,disabled=true', ...extra, ...targets], {
    cwd: dir,
    env: { ...process.env, ...sandbox.env, TEST_RESULTS_DIR: results, CACHE_DIR: '.factory/cache' },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { status: r.status, out: r.stdout + r.stderr, results };
}

type Results = { environment: Record<string, string>; tests: { name: string; status: string; message: string; output: string }[] };
const read = (results: string, target: string): Results => JSON.parse(readFileSync(join(results, target, 'results.json'), 'utf8'));
const statuses = (r: Results) => Object.fromEntries(r.tests.map((t) => [t.name, t.status]));

/** What the closing note's table reports, printed for it: pool x test -> status. */
const table: string[] = [];
function note(builder: string, pool: string, r: Results): void {
  for (const t of r.tests) table.push(`| ${builder} | ${pool} | ${t.name} | ${t.status} | ${(t.message || '').slice(0, 90)} |`);
}
afterAll(() => {
  if (table.length > 0) console.log(['| builder | pool | test | status | message |', '| --- | --- | --- | --- | --- |', ...table].join('\n'));
});

describe.skipIf(sandbox.why !== undefined)('the GPU pool on a CDI builder', () => {
  beforeAll(writeFactory);

  it('generates RUN --device and the device entitlement for the device pool only', () => {
    const gpuDockerfile = readFileSync(join(dir, 'build/gpu-app/1.0.0/default/test/Dockerfile'), 'utf8');
    expect(gpuDockerfile).toContain(`RUN --device=${DEVICE} ["/bin/sh", "/factory-test/run.sh"]`);
    expect(readFileSync(join(dir, 'build/cpu-app/1.0.0/default/test/Dockerfile'), 'utf8')).not.toContain('--device');
    const hcl = readFileSync(join(dir, 'docker-bake.hcl'), 'utf8');
    const block = (name: string) => hcl.slice(hcl.indexOf(`target "${name}"`), hcl.indexOf('\n}\n', hcl.indexOf(`target "${name}"`)));
    expect(block(GPU_TESTS)).toContain('entitlements = ["device"]');
    expect(block(GPU_TESTS)).toContain('"FACTORY_TEST_POOL_ACCELERATOR" = "cuda"');
    expect(block(CPU_TESTS)).not.toContain('entitlements');
    // The fragment runs on CPU too, so its isolated test goes to the CPU pool: no device there.
    expect(block(ISOLATED)).not.toContain('entitlements');
  });

  it('runs the GPU checks with the device where the spec is and the entitlement granted; skips them on the CPU pool', () => {
    const r = bake(`factory-${builders.spec}`, [GPU_TESTS, CPU_TESTS, ISOLATED], ['--allow', 'device']);
    expect(r.status, r.out.slice(-3000)).toBe(0);
    const gpu = read(r.results, GPU_TESTS);
    note('CDI, spec, --allow device', 'gpu', gpu);
    expect(gpu.environment).toEqual({ accelerator: 'cuda', pool: 'gpu', device: DEVICE });
    expect(statuses(gpu)).toEqual({ 'device env': 'passed', 'device node': 'passed', plain: 'passed', 'gpu-check': 'failed' });
    // gpu-check ran: it found the device node but no driver (ours is /dev/null), and said so.
    expect(gpu.tests.find((t) => t.name === 'gpu-check')!.output).toContain('nvidia-smi not found');
    for (const target of [CPU_TESTS, ISOLATED]) {
      const c = read(r.results, target);
      note('CDI, spec, --allow device', `amd64 (${target === ISOLATED ? 'isolated' : 'combined'})`, c);
      expect(c.environment).toEqual({ accelerator: 'cpu', pool: '', device: '' });
      for (const t of c.tests.filter((x) => x.name !== 'plain')) {
        expect(t.status, t.name).toBe('skipped');
        expect(t.message).toBe('skipped: needs the GPU; CPU builders have none');
      }
      expect(statuses(c).plain).toBe('passed');
    }
  });

  it('fails the GPU checks, naming the pool and what is missing, where the builder has no CDI spec', () => {
    const r = bake(`factory-${builders.noSpec}`, [GPU_TESTS], ['--allow', 'device']);
    expect(r.status, r.out.slice(-3000)).toBe(0); // a failing test is a result; the verdict stage fails the leg
    const gpu = read(r.results, GPU_TESTS);
    note('CDI, no spec, --allow device', 'gpu', gpu);
    expect(gpu.environment).toEqual({ accelerator: 'cpu', pool: 'gpu', device: DEVICE });
    expect(statuses(gpu)).toEqual({ 'device env': 'failed', 'device node': 'failed', plain: 'passed', 'gpu-check': 'failed' });
    for (const t of gpu.tests.filter((x) => x.name !== 'plain')) {
      expect(t.message).toMatch(/^pool gpu has accelerator cuda, but this test step sees no cuda device \(\/dev\/nvidiactl is missing\)/);
      expect(t.message).toContain(`no CDI spec for ${DEVICE}`);
    }
    const verdict = bake(
      `factory-${builders.noSpec}`,
      [GPU_TESTS],
      ['--allow', 'device', '--set', `${GPU_TESTS}.target=test-verdict`, '--set', `${GPU_TESTS}.output=type=cacheonly`],
    );
    expect(verdict.status).not.toBe(0);
    expect(verdict.out).toContain('device env: pool gpu has accelerator cuda');
  });

  it('refuses the build where the device entitlement is not granted', () => {
    // bake: the target asks for it, the command line does not grant it.
    const noAllow = bake(`factory-${builders.spec}`, [GPU_TESTS]);
    expect(noAllow.status).not.toBe(0);
    expect(noAllow.out).toContain('additional privileges requested');
    expect(noAllow.out).toContain('--allow=device');
    // BuildKit: a build without the entitlement gets no device, and says which.
    const noEntitlement = bake(`factory-${builders.spec}`, [GPU_TESTS], ['--set', `${GPU_TESTS}.entitlements=`]);
    expect(noEntitlement.status).not.toBe(0);
    expect(noEntitlement.out).toContain(`device ${DEVICE} is requested by the build but not allowed`);
    table.push(`| CDI, spec, no --allow device | gpu | (build) | build refused | additional privileges requested (buildx asks for --allow=device) |`);
    table.push(`| CDI, spec, entitlement dropped | gpu | (build) | build refused | device ${DEVICE} is requested by the build but not allowed |`);
  });

  it('the action grants the device to the test bake and records which tests ran on which device', async () => {
    // runBuild with the real buildx and image reader; no artifact service (uploads collected).
    const uploads: string[] = [];
    const tools: Tools = {
      buildx: await Buildx.find(),
      images: registryImages,
      artifacts: { upload: async (name: string) => void uploads.push(name) },
      git: { commitTime: async () => '1700000000' },
    };
    const runner = join(work, 'runner');
    mkdirSync(runner, { recursive: true });
    writeFileSync(join(runner, 'output'), '');
    setEnv({ GITHUB_OUTPUT: join(runner, 'output'), GITHUB_STEP_SUMMARY: undefined, BUILDX_BUILDER: `factory-${builders.spec}`, FACTORY_RETRY_DELAY_MS: '0' });
    setInputs({
      target: 'gpu-app-default-amd64',
      registry: sandbox.env!.REGISTRY!,
      cache: 'none',
      'sbom-scanner': sandbox.env!.SBOM_SCANNER!,
      'registry-insecure': 'true',
      evidence: 'true',
      retries: '0',
      variables: `BASE_BUSYBOX=${sandbox.env!.BASE_BUSYBOX!}`,
    });
    const c = { ...ctx, workspace: dir, runnerTemp: join(runner, 'tmp') };
    // gpu-check fails on our device (no driver behind it): the build reports the test failure.
    const error = await runBuild(getInputs(c) as BuildInputs, c, tools).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toContain('gpu-check');
    const record = JSON.parse(readFileSync(join(dir, 'records/gpu-app/1.0.0/gpu-app-default-amd64.json'), 'utf8'));
    expect(record.tests.runs).toEqual([
      { target: GPU_TESTS, accelerator: 'cuda', pool: 'gpu', device: DEVICE, passed: 3, failed: 1, skipped: 0 },
      { target: ISOLATED, accelerator: 'cpu', passed: 1, failed: 0, skipped: 2 },
      // The app fragment declares no tests; its isolated target runs all the same.
      { target: 'test-fragment-app-1_0_0-amd64', accelerator: 'cpu', passed: 0, failed: 0, skipped: 0 },
    ]);
    expect(record.failure).toMatchObject({ target: GPU_TESTS });
  });

  it('skips the GPU checks with their reason where the pool promise is turned off (factory build --no-device)', () => {
    const r = bake(`factory-${builders.noSpec}`, [GPU_TESTS], ['--allow', 'device', '--set', `${GPU_TESTS}.args.FACTORY_TEST_POOL_ACCELERATOR=`]);
    expect(r.status, r.out.slice(-3000)).toBe(0);
    const gpu = read(r.results, GPU_TESTS);
    note('CDI, no spec, --no-device', 'gpu', gpu);
    expect(statuses(gpu)).toEqual({ 'device env': 'skipped', 'device node': 'skipped', plain: 'passed', 'gpu-check': 'skipped' });
  });
});
