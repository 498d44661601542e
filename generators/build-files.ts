// The build files of a resolved factory: docker-bake.hcl, one Dockerfile (+ source map) per
// variant, the combined test Dockerfile and runner per variant, the isolated test Dockerfile
// and runner per fragment version, and the runners' shared library. Sorted by path, byte-identical for equal inputs.
//
// Dockerfile.map.json: src/core/source-map-file.ts (its format, writer and reader).
import { error } from '../src/core/diagnostics.js';
import { renderDockerfile, renderFragmentTestDockerfile, renderMemo } from '../src/core/render.js';
import { sourceMapJson } from '../src/core/source-map-file.js';
import { FactoryError } from '../src/core/types.js';
import { IMAGE_UNDER_TEST, productBakeFile, refOf } from '../src/core/ids.js';
import type { Diagnostic, OutputFile, RenderedDockerfile, ResolvedFactory, ResolvedProduct, Target, Variant } from '../src/core/types.js';
import { combinedTestDir, dockerfileKey, generateBake, type BakeDockerfile } from './bake.js';
import { imageLabels } from '../src/core/labels.js';
import {
  RUNNER_LIB_PATH,
  combinedTestCases,
  dockerfileUser,
  generateRunner,
  generateRunnerLib,
  planFragmentTests,
  runnerMemo,
  testDevices,
  testStages,
  type FragmentTestPlan,
  type RunnerMemo,
  type TestCase,
} from './testrunner.js';

export const BAKE_FILE = 'docker-bake.hcl';

export function generateBuildFiles(factory: ResolvedFactory): OutputFile[] {
  const memo = renderMemo();
  const runners = runnerMemo();
  const problems = renderProblems();
  const variants = variantFiles(factory, memo, runners, problems);
  const fragmentTests = planFragmentTests(factory);
  const isolated = fragmentTests.flatMap((plan) => isolatedTestFiles(plan, memo, runners, problems));
  const diagnostics = [...variants.diagnostics, ...problems.diagnostics()];
  if (diagnostics.length > 0) throw new FactoryError(diagnostics);
  const files: OutputFile[] = [
    ...variants.files,
    ...isolated,
    { path: BAKE_FILE, text: generateBake(factory, variants.dockerfiles, fragmentTests) },
    { path: RUNNER_LIB_PATH, text: generateRunnerLib() },
    ...productBakeFiles(factory, variants.dockerfiles, fragmentTests),
  ];
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Render errors, collected rather than thrown so that one run reports every template and fragment. */
interface RenderProblems {
  /** Records the FactoryError `e` (anything else is rethrown), rendering `where`. */
  failed(e: unknown, where: string): void;
  diagnostics(): Diagnostic[];
}

// One snippet error shows in every variant and isolated test that renders it: report it once,
// naming what it broke.
function renderProblems(): RenderProblems {
  const byKey = new Map<string, { d: Diagnostic; where: string[] }>();
  return {
    failed(e, where) {
      if (!(e instanceof FactoryError)) throw e;
      for (const d of e.diagnostics) {
        const l = d.location;
        const key = JSON.stringify([d.code, d.message, l?.file, l?.line, l?.column]);
        const seen = byKey.get(key);
        if (seen) seen.where.push(where);
        else byKey.set(key, { d, where: [where] });
      }
    },
    diagnostics() {
      return [...byKey.values()].map(({ d, where }) => {
        const list = where.length <= 3 ? where.join(', ') : `${where.slice(0, 3).join(', ')} and ${where.length - 3} more`;
        return { ...d, message: `${d.message} (rendering ${list})` };
      });
    },
  };
}

/** Each variant's Dockerfile, source map and combined tests; `dockerfiles` is what the bake files need. */
function variantFiles(
  factory: ResolvedFactory,
  memo: ReturnType<typeof renderMemo>,
  runners: RunnerMemo,
  problems: RenderProblems,
): { files: OutputFile[]; dockerfiles: Map<string, BakeDockerfile>; diagnostics: Diagnostic[] } {
  const files: OutputFile[] = [];
  const diagnostics: Diagnostic[] = [];
  const dockerfiles = new Map<string, BakeDockerfile>();
  const owners = new Map<string, string>();
  const products = [...factory.products].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const p of products) {
    for (const v of p.variants) {
      const key = dockerfileKey(p, v);
      let d: RenderedDockerfile;
      try {
        d = renderDockerfile(p, v, memo);
      } catch (e) {
        problems.failed(e, key);
        continue;
      }
      const owner = owners.get(d.path);
      if (owner !== undefined) {
        diagnostics.push(
          error('variant-path-clash', `variants ${owner} and ${key} would both be written to ${d.path}`, {
            hint: 'matrix values that differ only in characters outside [A-Za-z0-9._-] map to the same directory; make them differ',
            location: p.manifest.locate(['matrix']),
          }),
        );
        continue;
      }
      owners.set(d.path, key);
      dockerfiles.set(key, { path: d.path, text: d.text, stages: d.stages });
      const pools = factory.targets.filter((t) => t.product === p && t.variant === v).map((t) => t.pool.doc);
      files.push(
        { path: d.path, text: d.text },
        { path: `${d.path}.map.json`, text: sourceMapJson(d) },
        ...combinedTestFiles(p, v, key, d, runners, testDevices(pools)),
      );
    }
  }
  return { files, dockerfiles, diagnostics };
}

function combinedTestFiles(p: ResolvedProduct, v: Variant, key: string, d: RenderedDockerfile, runners: RunnerMemo, devices: readonly string[]): OutputFile[] {
  const testDir = combinedTestDir(d.path);
  return [
    { path: `${testDir}/run.sh`, text: combinedRunner(p, v, d.text, runners) },
    {
      path: `${testDir}/Dockerfile`,
      text:
        `# Generated by the container factory: the tests of ${key} on its image, which bake passes\n` +
        `# as the named context "${IMAGE_UNDER_TEST}" (target:<image target>).\n` +
        testStages(IMAGE_UNDER_TEST, `${testDir}/run.sh`, devices),
    },
  ];
}

/** The isolated test of one fragment version: its Dockerfile with the test stages, source map and runner. */
function isolatedTestFiles(plan: FragmentTestPlan, memo: ReturnType<typeof renderMemo>, runners: RunnerMemo, problems: RenderProblems): OutputFile[] {
  let d: RenderedDockerfile;
  try {
    d = renderFragmentTestDockerfile(plan.host, plan.fragment, { variant: plan.variant, base: plan.base }, memo);
  } catch (e) {
    problems.failed(e, `the isolated test of ${plan.ref}`);
    return [];
  }
  const withTests = withTestStages(d, plan);
  return [
    { path: withTests.path, text: withTests.text },
    { path: `${withTests.path}.map.json`, text: sourceMapJson(withTests) },
    {
      path: plan.runnerPath,
      text: generateRunner(
        plan.cases,
        {
          subject: `${plan.ref} (isolated, on ${plan.base.name})`,
          accelerator: plan.accelerator,
          imageUser: dockerfileUser(d.text),
        },
        runners,
      ),
    },
  ];
}

// The test stages map to the fragment's `tests`, which they run: a failing test line points there.
function withTestStages(d: RenderedDockerfile, plan: FragmentTestPlan): RenderedDockerfile {
  const stages = testStages('final', plan.runnerPath, testDevices(plan.platforms.map((a) => a.pool.doc)));
  const testsLine = plan.fragment.meta.locate(['tests']).line;
  const extra = `\n${stages}`.split('\n').slice(0, -1);
  return {
    ...d,
    text: d.text + extra.map((l) => `${l}\n`).join(''),
    sourceMap: [
      ...d.sourceMap,
      ...extra.map((_l, i) => ({ line: d.sourceMap.length + i + 1, file: plan.fragment.meta.file, sourceLine: testsLine, origin: plan.ref })),
    ],
    stages: [...d.stages, 'test-run', 'test-results', 'test-verdict'],
  };
}

/**
 * One bake file per product version (productBakeFile): its image and test targets, the shared
 * stages they pull in, the isolated tests of its fragments on its platforms, every variable.
 * docker-bake.hcl stays the whole factory's, for local builds of everything.
 */
function productBakeFiles(
  factory: ResolvedFactory,
  dockerfiles: ReadonlyMap<string, BakeDockerfile>,
  fragmentTests: readonly FragmentTestPlan[],
): OutputFile[] {
  const byProduct = new Map<ResolvedProduct, Target[]>();
  for (const t of factory.targets) {
    const list = byProduct.get(t.product);
    if (list) list.push(t);
    else byProduct.set(t.product, [t]);
  }
  // Looked up per product rather than scanned: 1,000 products x every fragment test otherwise.
  const testsByRef = new Map(fragmentTests.map((ft) => [ft.ref, ft]));
  return [...byProduct].map(([product, targets]) => {
    const platforms = new Set(targets.map((t) => t.platform));
    // In fragmentTests' order (by ref), as the whole file lists them.
    const tests = [...new Set(product.fragments.map((f) => refOf(f.meta.doc)))]
      .sort()
      .flatMap((ref) => testsByRef.get(ref) ?? [])
      .map((ft) => ({ ...ft, platforms: ft.platforms.filter((p) => platforms.has(p.platform)) }))
      .filter((ft) => ft.platforms.length > 0);
    const mine: ResolvedFactory = { ...factory, products: [product], targets };
    return { path: productBakeFile(product.product.doc), text: generateBake(mine, dockerfiles, tests) };
  });
}

/** The runner of a variant's combined test; the build key hashes it too (src/plan/key.ts). */
export function combinedRunner(
  p: ResolvedProduct,
  v: Variant,
  dockerfileText: string,
  memo: RunnerMemo,
  cases: readonly TestCase[] = combinedTestCases(p),
): string {
  const labels = imageLabels(p, v);
  return generateRunner(
    cases,
    {
      subject: dockerfileKey(p, v),
      accelerator: p.product.doc.accelerator,
      labels: labels.static,
      dynamicLabels: labels.dynamic,
      imageUser: dockerfileUser(dockerfileText),
    },
    memo,
  );
}
