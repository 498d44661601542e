// End-to-end: the whole sample factory built for real with `docker buildx bake` through the
// sandbox (scripts/sandbox.sh): BuildKit with QEMU for linux/arm64, a local registry, locally built
// base images. Needs root on Debian 12; brings the sandbox up itself and fails, never skips, when
// it cannot. Every build's rawjson progress, metadata and command line are kept under
// .factory/e2e/<run>/ so a failure can be read afterwards.
//
// One build pass per scenario; independent passes run in parallel on separate buildkitds:
//   cold      fresh builder, every image target (pushes images and cache), then every test target
//   repro     fresh builder, no cache at all, every image target (in parallel with cold):
//             the same SOURCE_DATE_EPOCH must give the same image digests
//   warm      fresh builder, unchanged inputs, target by target as the jobs build them: served
//             from the registry cache (>= 95% of steps)
//   bump      one app fragment changed: only the steps downstream of it run again
//   broken    one fragment broken: its targets fail, the other targets still build
//             (bump and broken run in parallel)
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, appendFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStepName } from '../../src/action/rawjson.js';
import { parseResults, type TestCase } from '../../src/action/test-results.js';
import { RegistryClient, type ImageInspection } from '../../src/registry/client.js';
import { parseReference } from '../../src/registry/reference.js';
import {
  bake,
  bakeEach,
  bakePrint,
  copyFactory,
  downstreamSteps,
  releaseFragment,
  executedSteps,
  factory,
  freshBuilder,
  imageSets,
  rel,
  report,
  ROOT,
  sandboxUp,
  SOURCE_DATE_EPOCH,
  type BakePlan,
  type BakeRun,
  type SandboxEnv,
} from './harness.js';

const runId = Date.now().toString(36);
const logDir = join(ROOT, '.factory', 'e2e', runId);
const registry = new RegistryClient();
const stops: (() => Promise<void>)[] = [];
const trees: string[] = [];
const timings: (string | number)[][] = [['pass', 'wall s', 'steps', 'cached', 'executed', 'failed', 'cache ratio']];

let env: SandboxEnv;
let tree: string;
let plan: BakePlan;
let imageTargets: string[];
let testTargets: string[];
let builderA: string;
let cold: BakeRun;
let coldTests: BakeRun;
let repro: BakeRun;

/** Bake variables of one pass; each pass pushes its images under its own namespace. */
function vars(ns: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    REGISTRY: `${env.REGISTRY}/e2e-${runId}/${ns}`,
    CACHE_REPO: `${env.REGISTRY}/e2e-${runId}/cache`,
    CACHE_DIR: join(tree, '.factory', 'cache'),
    TEST_RESULTS_DIR: join(tree, '.factory', 'test-results', ns),
    SOURCE_DATE_EPOCH,
    REVISION: `e2e-${runId}`,
    SOURCE_URL: 'https://example.invalid/container-factory',
    BASE_DEBIAN: env.BASE_DEBIAN,
    BASE_BUSYBOX: env.BASE_BUSYBOX,
    BASE_CUDA: env.BASE_CUDA,
    ...overrides,
  };
}

function record(r: BakeRun): void {
  timings.push([r.name, r.seconds, r.steps.total, r.steps.cached, r.steps.executed, r.steps.failed, r.steps.cacheHitRatio ?? '-']);
}

function explain(r: BakeRun): string {
  const tail = r.progress.text
    .filter((l) => l.trim())
    .slice(-8)
    .join('\n');
  return `bake pass "${r.name}" exited ${r.code}; rawjson log: ${rel(r.rawjsonFile)}\n${tail}`;
}

/** The tree under test with a change applied, re-locked and re-generated. */
async function changedTree(name: string, change: (dir: string) => void): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `factory-e2e-${name}-`));
  trees.push(dir);
  await copyFactory(dir);
  change(dir);
  await factory(dir, ['lock'], join(logDir, `${name}-lock.log`));
  await factory(dir, ['generate'], join(logDir, `${name}-generate.log`));
  return dir;
}

const inspections = new Map<string, ImageInspection>();
async function inspect(ref: string): Promise<ImageInspection> {
  let i = inspections.get(ref);
  if (!i) {
    i = await registry.inspect(ref);
    inspections.set(ref, i);
  }
  return i;
}

/** Platform image digest of each target's first tag (the index also holds attestations, which carry build times). */
async function imageDigests(p: BakePlan, targets: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of targets) {
    const tag = p.target[t]?.tags?.[0];
    if (!tag) throw new Error(`target ${t} has no tag`);
    const i = await registry.inspect(tag);
    out[t] = i.images.map((x) => x.digest).join(',');
  }
  return out;
}

beforeAll(async () => {
  mkdirSync(logDir, { recursive: true });
  console.log(`e2e run ${runId}: logs in ${rel(logDir)}`);
  const up = Date.now();
  env = await sandboxUp(logDir);
  timings.push(['sandbox up', Math.round((Date.now() - up) / 100) / 10, '', '', '', '', '']);

  tree = mkdtempSync(join(tmpdir(), 'factory-e2e-'));
  trees.push(tree);
  await copyFactory(tree);
  await factory(tree, ['generate'], join(logDir, 'generate.log'));
  plan = await bakePrint(tree, ['default', 'tests'], vars('cold'));
  // Printing several names makes `default` the list of those names; the image targets are its
  // entries that are targets, the test targets the `tests` group.
  testTargets = plan.group.tests?.targets ?? [];
  imageTargets = (plan.group.default?.targets ?? []).filter((t) => plan.target[t] && !testTargets.includes(t));
  expect(imageTargets.length, 'the sample factory has image targets').toBeGreaterThan(0);

  // Two empty builder states: the cold build that seeds the registry cache, and the
  // reproducibility build that uses no cache at all.
  const a = await freshBuilder(`e2e-a-${runId}`, logDir);
  const r = await freshBuilder(`e2e-r-${runId}`, logDir);
  stops.push(a.stop, r.stop);
  builderA = a.builder;
  const reproPlan = await bakePrint(tree, ['default'], vars('repro'));
  // The cold pass builds the images, then their tests, as the action does: two bakes on one
  // builder, so each image target's exported cache comes from a build of that image alone.
  const coldPass = async (): Promise<[BakeRun, BakeRun]> => {
    const images = await bake({
      tree,
      builder: a.builder,
      targets: ['default'],
      vars: vars('cold'),
      sets: imageSets(plan, imageTargets, env.SBOM_SCANNER),
      logDir,
      name: 'cold',
      jobs: 'defer-error',
    });
    // Test targets build their images through contexts: the same image settings apply, and
    // as in the action (testArgs, src/action/context.ts) what they pull in exports no cache:
    // a re-export from the test build can drop steps from the refs the image build just wrote.
    const underTests = Object.keys(plan.target).filter((t) => !testTargets.includes(t));
    // The sandbox is a CPU builder: the test targets of the gpu pool (device nvidia.com/gpu=all)
    // are granted the device, as the action grants it, and told their pool promises nothing
    // (`factory build --no-device`), so the GPU checks are skipped with their reason here. The
    // device plumbing itself is tested on a CDI builder in test/generate/gpu-pool.itg.test.ts.
    const onDevice = testTargets.filter((t) => (plan.target[t] as { entitlements?: string[] }).entitlements?.includes('device'));
    const tests = await bake({
      tree,
      builder: a.builder,
      targets: ['tests'],
      vars: vars('cold'),
      allow: onDevice.length > 0 ? ['device'] : [],
      sets: [
        ...imageSets(plan, imageTargets, env.SBOM_SCANNER),
        ...underTests.map((t) => `${t}.cache-to=`),
        ...onDevice.map((t) => `${t}.args.FACTORY_TEST_POOL_ACCELERATOR=`),
      ],
      logDir,
      name: 'cold-tests',
      jobs: 'defer-error',
    });
    return [images, tests];
  };
  let coldParts: [BakeRun, BakeRun];
  [coldParts, repro] = await Promise.all([
    coldPass(),
    bake({
      tree,
      builder: r.builder,
      targets: ['default'],
      vars: vars('repro', { CACHE_DIR: join(tree, '.factory', 'cache-repro') }),
      sets: [...imageSets(reproPlan, imageTargets, env.SBOM_SCANNER), '*.no-cache=true', '*.cache-from=', '*.cache-to='],
      logDir,
      name: 'repro',
      jobs: 'defer-error',
    }),
  ]);
  [cold, coldTests] = coldParts;
  record(cold);
  record(coldTests);
  record(repro);
});

afterAll(async () => {
  for (const stop of stops) await stop().catch(() => undefined);
  for (const t of trees) rmSync(t, { recursive: true, force: true });
  report(logDir, 'timings.txt', `e2e timings (run ${runId}, logs in ${rel(logDir)})`, timings);
});

describe('[sandbox] cold build of the whole sample factory', () => {
  it('builds every image and test target', () => {
    for (const pass of [cold, coldTests]) {
      expect(pass.code, explain(pass)).toBe(0);
      expect(pass.steps.failed, pass.name).toBe(0);
    }
    expect(cold.steps.executed, 'a cold build executes steps').toBeGreaterThan(0);
  });

  it('covers linux/amd64 and linux/arm64, and the cuda variant', () => {
    const platforms = new Set(imageTargets.flatMap((t) => plan.target[t]?.platforms ?? []));
    expect([...platforms].sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(imageTargets.some((t) => t.includes('cuda'))).toBe(true);
  });

  it('pushes every tag with the target platform, labels, annotations, SBOM and provenance', async () => {
    for (const t of imageTargets) {
      const target = plan.target[t]!;
      const tags = target.tags ?? [];
      expect(tags.length, `${t} has tags`).toBeGreaterThan(0);
      for (const tag of tags) expect(await registry.manifestExists(tag), `${tag} was pushed`).toBe(true);
      const i = await inspect(tags[0]!);
      expect(
        i.images.map((x) => x.platform.replace(/\/v8$/, '')),
        `${t} platforms`,
      ).toEqual(target.platforms);
      const img = i.images[0]!;
      expect(img.labels, `${t} labels`).toMatchObject(target.labels ?? {});
      for (const a of target.annotations ?? []) {
        const m = /^(?:([a-z,-]+):)?([^=]+)=(.*)$/.exec(a);
        expect(m, `annotation ${a} of ${t}`).not.toBeNull();
        const [, types = 'manifest', key, value] = m!;
        if (types.split(',').includes('manifest')) expect(img.manifestAnnotations[key!], `${t} manifest annotation ${key}`).toBe(value);
        if (types.split(',').includes('index')) expect(i.annotations[key!], `${t} index annotation ${key}`).toBe(value);
      }
      const att = i.attestations[img.digest];
      expect(att, `${t} has an attestation manifest`).toBeDefined();
      const m = await registry.getManifest({ ...parseReference(tags[0]!), tag: undefined, digest: att!.digest });
      const predicates = m.manifest.kind === 'image' ? m.manifest.image.layers.map((l) => l.annotations?.['in-toto.io/predicate-type']) : [];
      expect(
        predicates.some((p) => p?.startsWith('https://spdx.dev/')),
        `${t} SBOM attestation`,
      ).toBe(true);
      expect(
        predicates.some((p) => p?.startsWith('https://slsa.dev/provenance/')),
        `${t} provenance attestation`,
      ).toBe(true);
    }
  });

  it('runs the isolated and combined fragment tests; GPU checks are skipped with a recorded reason', () => {
    expect(testTargets.some((t) => t.startsWith('test-fragment-'))).toBe(true);
    expect(testTargets.some((t) => !t.startsWith('test-fragment-'))).toBe(true);
    const dir = vars('cold').TEST_RESULTS_DIR!;
    const all: (TestCase & { target: string })[] = [];
    for (const t of testTargets) {
      const file = join(dir, t, 'results.json');
      expect(existsSync(file), `${t} exported ${file}`).toBe(true);
      for (const c of parseResults(readFileSync(file, 'utf8'), file)) all.push({ ...c, target: t });
    }
    const failed = all.filter((c) => c.status === 'failed');
    expect(failed.map((c) => `${c.target}: ${c.name}: ${c.message ?? ''} ${c.output ?? ''}`)).toEqual([]);
    const skipped = all.filter((c) => c.status === 'skipped');
    for (const c of skipped) expect(c.message?.trim(), `skip reason of ${c.target}: ${c.name}`).toBeTruthy();
    expect(
      skipped.some((c) => c.target.includes('cuda')),
      'the cuda GPU check is skipped on a CPU builder',
    ).toBe(true);
    expect(all.filter((c) => c.status === 'passed').length).toBeGreaterThan(0);
    const onDevice = testTargets.filter((t) => (plan.target[t] as { entitlements?: string[] }).entitlements?.includes('device'));
    expect(onDevice.length > 0 && onDevice.every((t) => t.includes('cuda')), `device test targets: ${onDevice.join(', ')}`).toBe(true);
    timings.push([
      `tests: ${all.length} cases`,
      '',
      `passed ${all.filter((c) => c.status === 'passed').length}`,
      `skipped ${skipped.length}`,
      `failed ${failed.length}`,
      '',
      '',
    ]);
  });
});

describe('[sandbox] reproducible images', () => {
  it('two builds from empty builder states with the same SOURCE_DATE_EPOCH give identical image digests', async () => {
    expect(repro.code, explain(repro)).toBe(0);
    expect(repro.steps.cached, 'the reproducibility build used no cache').toBe(0);
    const reproPlan = await bakePrint(tree, ['default'], vars('repro'));
    const a = await imageDigests(plan, imageTargets);
    const b = await imageDigests(reproPlan, imageTargets);
    expect(b).toEqual(a);
  });
});

describe('[sandbox] warm rebuild from a fresh builder', () => {
  let warm: BakeRun;
  let warmPlan: BakePlan;
  let builderB: string;
  beforeAll(async () => {
    const b = await freshBuilder(`e2e-b-${runId}`, logDir);
    stops.push(b.stop);
    builderB = b.builder;
    warmPlan = await bakePrint(tree, ['default'], vars('warm'));
    // Target by target, as the jobs build them: each target's own cache ref serves it.
    warm = await bakeEach({
      tree,
      builder: builderB,
      targets: imageTargets,
      vars: vars('warm'),
      sets: (t) => [...imageSets(warmPlan, [t], env.SBOM_SCANNER), `${t}.cache-to=`],
      logDir,
      name: 'warm',
    });
    record(warm);
  });

  it('is served from the registry cache (at least 95% of the steps)', async () => {
    expect(warm.code, explain(warm)).toBe(0);
    expect(warm.steps.total).toBeGreaterThan(0);
    expect(
      warm.steps.cacheHitRatio,
      `cached ${warm.steps.cached}/${warm.steps.total}; executed: ${JSON.stringify(executedSteps(warm, imageTargets))}`,
    ).toBeGreaterThanOrEqual(0.95);
    // Same inputs, same images: what came from the cache is what the cold build pushed.
    expect(await imageDigests(warmPlan, imageTargets)).toEqual(await imageDigests(plan, imageTargets));
  });

  describe('changes', () => {
    let bumped: BakeRun;
    let broken: BakeRun;
    let bumpTree: string;
    let brokenTree: string;
    let bumpedRef = '';
    const BUMPED = 'llm-serve';
    const BROKEN = 'toolbox';

    beforeAll(async () => {
      // The app fragment of llm-runtime, released as a new patch version with a changed file.
      bumpTree = await changedTree('bump', (dir) => {
        bumpedRef = releaseFragment(dir, BUMPED, (v) => {
          const files = join(v, 'files');
          appendFileSync(join(files, readdirSync(files).sort()[0]!), `\n# changed by the e2e suite, run ${runId}\n`);
        }).to;
      });
      brokenTree = await changedTree('broken', (dir) => {
        releaseFragment(dir, BROKEN, (v) => appendFileSync(join(v, 'Dockerfile.ejs'), '\nRUN echo "deliberately broken by the e2e suite" >&2 && exit 42\n'));
      });
      const bumpPlan = await bakePrint(bumpTree, ['default'], vars('bump'));
      const brokenPlan = await bakePrint(brokenTree, ['default'], vars('broken'));
      // The bump runs on the builder that just did the warm build, the broken build on the cold
      // one: both warm, independent, in parallel. Neither writes the shared cache.
      [bumped, broken] = await Promise.all([
        bake({
          tree: bumpTree,
          builder: builderB,
          targets: ['default'],
          vars: vars('bump', { CACHE_DIR: join(tree, '.factory', 'cache') }),
          sets: [...imageSets(bumpPlan, imageTargets, env.SBOM_SCANNER), '*.cache-to='],
          logDir,
          name: 'bump',
          allowRead: [join(tree, '.factory', 'cache')],
        }),
        bake({
          tree: brokenTree,
          builder: builderA,
          targets: ['default'],
          vars: vars('broken', { CACHE_DIR: join(tree, '.factory', 'cache') }),
          sets: [...imageSets(brokenPlan, imageTargets, env.SBOM_SCANNER), '*.cache-to='],
          logDir,
          name: 'broken',
          jobs: 'defer-error',
          allowRead: [join(tree, '.factory', 'cache')],
        }),
      ]);
      record(bumped);
      record(broken);
    });

    it(`bumping the app fragment ${BUMPED} re-runs only the steps downstream of it`, async () => {
      expect(bumped.code, explain(bumped)).toBe(0);
      const bumpPlan = await bakePrint(bumpTree, ['default'], vars('bump'));
      const affected = imageTargets.filter((t) => (bumpPlan.target[t]?.labels?.['dev.factory.fragments'] ?? '').split(',').includes(bumpedRef));
      expect(affected.length, `some target uses ${bumpedRef}`).toBeGreaterThan(0);
      const steps = executedSteps(bumped, imageTargets);
      expect(steps.length, 'the change re-ran something').toBeGreaterThan(0);
      for (const s of steps) {
        expect(affected, `step of an unaffected target re-ran: ${JSON.stringify(s)}`).toContain(s.target);
        // Stages are named <slot>-<fragment>; the app stage and what follows it (final) are downstream.
        const dockerfile = readFileSync(join(bumpTree, bumpPlan.target[s.target!]!.dockerfile!), 'utf8');
        const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]!);
        const from = stages.findIndex((st) => st.endsWith(`-${BUMPED}`));
        expect(from, `stage of ${BUMPED} in ${bumpPlan.target[s.target!]!.dockerfile}`).toBeGreaterThanOrEqual(0);
        expect(stages.slice(from), `step ${JSON.stringify(s)} is downstream of ${BUMPED}`).toContain(s.stage);
      }
      const minimum = affected.reduce((n, t) => n + downstreamSteps(readFileSync(join(bumpTree, bumpPlan.target[t]!.dockerfile!), 'utf8'), BUMPED), 0);
      expect(steps.length, 'executed steps vs the steps downstream of the change').toBeLessThanOrEqual(minimum);
      timings.push([`bump: executed/minimum steps`, '', '', '', `${steps.length}/${minimum}`, '', '']);
    });

    it(`a broken ${BROKEN} fragment fails its targets while the other targets still build`, async () => {
      expect(broken.code, 'the build reports the failure').not.toBe(0);
      // Dockerfile steps that failed (a missing cache ref is an error on its own vertex, not a step).
      const failedTargets = new Set(
        broken.progress.vertexes
          .filter((v) => v.error && !/cancel/i.test(v.error))
          .map((v) => parseStepName(v.name, imageTargets)?.target)
          .filter((t): t is string => t !== undefined),
      );
      const users = imageTargets.filter((t) => (plan.target[t]?.labels?.['dev.factory.fragments'] ?? '').includes(`${BROKEN}@`));
      expect([...failedTargets].sort()).toEqual(users.sort());
      const brokenPlan = await bakePrint(brokenTree, ['default'], vars('broken'));
      for (const t of imageTargets) {
        const tag = brokenPlan.target[t]!.tags![0]!;
        expect(await registry.manifestExists(tag), `${tag} ${users.includes(t) ? 'must not' : 'must'} be pushed`).toBe(!users.includes(t));
      }
    });
  });
});
