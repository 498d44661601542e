// Test targets (docs/architecture.md "Bake"): the fragment and product tests become a generated
// POSIX sh runner that runs inside BuildKit on the image under test, plus the Dockerfile stages
// around it. The runner must work on dash and busybox sh, never fails its own RUN (a failing
// test is a result), and writes (the shared part lives in build/factory-test-lib.sh):
//   /factory-test/out/results.json  { version: 1, subject, summary: {passed, failed, skipped,
//                                     total}, tests: [{ name, origin, status, exitCode,
//                                     durationMs, output, message }] }
//   /factory-test/out/summary        passed=N / failed=N / skipped=N / total=N (sh-sourceable)
//   /factory-test/out/failures       one "name: message" line per failed test
// The `test-verdict` stage re-runs the script with --verdict, which fails when failed > 0.
import { shQuote } from '../src/core/escape.js';
import { fragmentDockerfilePath } from '../src/core/render.js';
import type {
  AcceleratorName,
  FragmentSource,
  Located,
  Pool,
  PlatformName,
  ResolvedFactory,
  ResolvedProduct,
  Target,
  Test,
  Variant,
} from '../src/core/types.js';
import { refOf } from '../src/core/ids.js';
import { RUNNER_LIB_TEXT } from './sh/runner-lib.js';

export const RUNNER_IN_IMAGE = '/factory-test/run.sh';
export const RUNNER_LIB_IN_IMAGE = '/factory-test/lib.sh';
/** Repository path of the runner library (one for the whole factory). */
export const RUNNER_LIB_PATH = 'build/factory-test-lib.sh';
const OUT = '/factory-test/out';
/** Seconds one test may run before `timeout` (where the image has it) stops it; sh/factory-test-lib.sh spells it out. */
export const TEST_TIMEOUT_S = 900;

export interface TestCase {
  test: Test;
  /** Who declared it: a fragment ref (`python@1.0.0`) or a product id (`py-app@1.0.0`). */
  origin: string;
  /** Where it is declared (fragment.yaml or the product's manifest file). */
  source?: { file: string; line: number };
}

export interface RunnerOptions {
  /** What is tested, for results.json: `py-app@1.0.0:python3.11 (linux/amd64)`. */
  subject: string;
  accelerator: AcceleratorName;
  /**
   * The labels the image will carry, known at generation time: label tests are decided here.
   * Undefined where the image carries no factory labels (isolated fragment tests): skipped.
   */
  labels?: Readonly<Record<string, string>>;
  /** Label keys whose value is only known at build time (bake variables such as REVISION). */
  dynamicLabels?: readonly string[];
  /**
   * The image's default user as the Dockerfile sets it (see `dockerfileUser`); empty when the
   * Dockerfile never sets one, and the runner falls back to what the probe RUN recorded.
   */
  imageUser?: string;
}

/**
 * The user the last USER instruction of a rendered Dockerfile sets (the chain is linear, so the
 * last one is the image's), without its group; '' when there is none or it uses a variable.
 */
export function dockerfileUser(text: string): string {
  let user = '';
  for (const m of text.matchAll(/^[ \t]*USER[ \t]+(\S+)/gim)) user = m[1]!.split(':')[0]!;
  return user.includes('$') ? '' : user;
}

/**
 * The build args a test target of a pool with a device passes to its test step: which pool it
 * runs on and what that pool promises. The runner fails (not skips) a test that needs the
 * promised accelerator when the step sees no device (sh/factory-test-lib.sh).
 */
export const POOL_TEST_ARGS = ['FACTORY_TEST_POOL', 'FACTORY_TEST_POOL_ACCELERATOR', 'FACTORY_TEST_DEVICE'] as const;

/** The values of POOL_TEST_ARGS for a pool; undefined for a pool without a device (nothing changes there). */
export function poolTestArgs(pool: Pool): [string, string][] | undefined {
  if (pool.device === undefined) return undefined;
  return [
    ['FACTORY_TEST_POOL', pool.name],
    ['FACTORY_TEST_POOL_ACCELERATOR', pool.accelerator],
    ['FACTORY_TEST_DEVICE', pool.device],
  ];
}

/** The CDI devices a test Dockerfile requests: those of the pools its test targets run on, sorted. */
export function testDevices(pools: readonly Pool[]): string[] {
  return [...new Set(pools.flatMap((p) => (p.device === undefined ? [] : [p.device])))].sort();
}

/**
 * The Dockerfile stages that run a runner on `image` (a stage name or a named context). With
 * `devices`, the test step requests them (BuildKit CDI, `RUN --device`), optional ones: a builder
 * without the device still runs the step, and the runner says what is missing.
 */
export function testStages(image: string, runnerPath: string, devices: readonly string[] = []): string {
  const run = `RUN ["/bin/sh", "${RUNNER_IN_IMAGE}"]`;
  const deviceRun = [
    "# The pool's device (CDI), and which pool this is (bake args of the test target): where the",
    '# pool promises an accelerator, a test that needs it fails when the step sees no device.',
    ...POOL_TEST_ARGS.map((a) => `ARG ${a}=''`),
    `RUN ${devices.map((d) => `--device=${d}`).join(' ')} ["/bin/sh", "${RUNNER_IN_IMAGE}"]`,
  ];
  return [
    `FROM ${image} AS test-run`,
    '# The tests run as root so that each can switch to the user it names (the image user by',
    '# default). The image user is known from the Dockerfile; where it sets none, it is the base',
    "# image's, recorded here before switching (where /tmp is writable).",
    'RUN ["/bin/sh", "-c", "{ id -un 2>/dev/null || id -u; } > /tmp/factory-image-user 2>/dev/null || true"]',
    'USER 0:0',
    // Both 0755: COPY --chmod also sets the mode of the /factory-test directory it creates,
    // which the users the tests switch to must be able to enter.
    `COPY --chmod=0755 ${RUNNER_LIB_PATH} ${RUNNER_LIB_IN_IMAGE}`,
    `COPY --chmod=0755 ${runnerPath} ${RUNNER_IN_IMAGE}`,
    ...(devices.length > 0 ? deviceRun : [run]),
    '',
    'FROM scratch AS test-results',
    `COPY --from=test-run ${OUT}/ /`,
    '',
    'FROM test-run AS test-verdict',
    `RUN ["/bin/sh", "${RUNNER_IN_IMAGE}", "--verdict"]`,
    '',
  ].join('\n');
}

/**
 * Test blocks already written in one run (a generate, a plan), by test and where it is
 * declared: a block depends on the runner's options only for label checks, so every other
 * block is the same in each of the thousands of runners a fragment's tests appear in.
 */
export type RunnerMemo = Map<Test, Map<string, string>>;

export function runnerMemo(): RunnerMemo {
  return new Map();
}

/** The runner script for these tests, in declaration order. */
export function generateRunner(cases: readonly TestCase[], opts: RunnerOptions, memo: RunnerMemo = runnerMemo()): string {
  const body = cases.map((c) => testBlock(c, opts, memo)).join('\n');
  return (
    '#!/bin/sh\n' +
    `# Generated by the container factory: the tests of ${opts.subject.replace(/[^\x20-\x7e]/g, '?')}. Do not edit.\n` +
    `# shellcheck disable=SC2034 # read by ${RUNNER_LIB_IN_IMAGE}\n` +
    `_f_subject=${shQuote(JSON.stringify(opts.subject))}\n` +
    `_f_image_user=${shQuote(opts.imageUser ?? '')}\n` +
    `# shellcheck source=/dev/null\n` +
    `. "\${FACTORY_TEST_LIB:-${RUNNER_LIB_IN_IMAGE}}"\n\n` +
    `${body}${body ? '\n' : ''}_f_finish\n`
  );
}

/** The library every runner sources: build/factory-test-lib.sh, copied next to the runner. */
export function generateRunnerLib(): string {
  return RUNNER_LIB_TEXT;
}

function q(s: string): string {
  return shQuote(s);
}

function testBlock(c: TestCase, opts: RunnerOptions, memo: RunnerMemo): string {
  if ('label' in c.test) return writeTestBlock(c, opts);
  let byCase = memo.get(c.test);
  if (!byCase) memo.set(c.test, (byCase = new Map()));
  const key = c.source ? `${c.origin}\u0000${c.source.file}\u0000${c.source.line}` : c.origin;
  let block = byCase.get(key);
  if (block === undefined) byCase.set(key, (block = writeTestBlock(c, opts)));
  return block;
}

function writeTestBlock(c: TestCase, opts: RunnerOptions): string {
  const t = c.test;
  const head = `# ${t.name.replace(/[^\x20-\x7e]/g, '?')} (${c.origin})\n`;
  // The record's fixed fields, as JSON: name, origin, and where the test is declared.
  const fixed = `"name": ${JSON.stringify(t.name)}, "origin": ${JSON.stringify(c.origin)}${c.source ? `, "source": {"file": ${JSON.stringify(c.source.file)}, "line": ${c.source.line}}` : ''}`;
  const id = `${q(t.name)} ${q(fixed)}`;
  const skipped = t.skip ? `_f_record ${id} skipped null '' ${q(`skipped: ${t.skip.reason}`)} 0\n` : '';
  if (t.skip && t.skip.accelerator === undefined) return head + skipped;
  const body = checkBlock(c, id, opts);
  // An accelerator skip is decided where the tests run, not where they are generated: a CUDA
  // image's GPU checks run on a GPU builder and are skipped, with the reason, on a CPU one.
  // Where the pool promises an accelerator the test needs, _f_skip_accelerator fails it instead.
  if (t.skip?.accelerator) {
    const list = q(t.skip.accelerator.join(' '));
    return `${head}if _f_accelerator_in ${list}; then _f_skip_accelerator ${id} ${list} ${q(`skipped: ${t.skip.reason}`)}; else\n${body}fi\n`;
  }
  return head + body;
}

function checkBlock(c: TestCase, id: string, opts: RunnerOptions): string {
  const t = c.test;
  if ('label' in t) return labelBlock(id, t.label, opts);
  if ('runs-as' in t) {
    const want = t['runs-as'];
    return (
      `if [ "$_f_image_user" = ${q(want)} ]; then _f_record ${id} passed null '' '' 0; ` +
      `else _f_record ${id} failed null '' "the image runs as \${_f_image_user:-an unknown user}, expected ${want}" 0; fi\n`
    );
  }
  const user = q(t.user ?? '');
  if ('command' in t) {
    const env = t.env
      ? Object.keys(t.env)
          .sort()
          .map((k) => `${k}=${q(t.env![k]!)}`)
      : [];
    const script = `${env.length ? `export ${env.join(' ')}\n` : ''}${t.command}\n`;
    return `_f_run ${id} ${user} ${q(script)} ${t.exit ?? 0} ${q(t.stdout?.contains ?? '')} ${q(t.stdout?.matches ?? '')} ${q(t.stderr?.contains ?? '')} ${q(t.stderr?.matches ?? '')}\n`;
  }
  if ('file' in t) {
    const p = q(t.file);
    let script: string;
    if (t.exists === false) {
      script = `if [ -e ${p} ] || [ -L ${p} ]; then echo ${q(`${t.file} exists, expected it not to`)} >&2; exit 1; fi\n`;
    } else {
      script = `if [ ! -e ${p} ] && [ ! -L ${p} ]; then echo ${q(`${t.file} does not exist`)} >&2; exit 1; fi\n`;
      if (t.mode !== undefined) {
        const want = t.mode.replace(/^0+(?=.)/, '');
        script +=
          `m=$(stat -c %a ${p} 2>/dev/null) || { echo ${q(`cannot read the mode of ${t.file} (no stat in the image)`)} >&2; exit 1; }\n` +
          `[ "$m" = ${q(want)} ] || { echo ${q(`${t.file} has mode `)}"$m"${q(`, expected ${want}`)} >&2; exit 1; }\n`;
      }
    }
    return `_f_run ${id} ${user} ${q(script)} 0 '' '' '' ''\n`;
  }
  if ('env-equals' in t) {
    const env = t['env-equals'];
    let script = '_f_ok=0\n';
    for (const k of Object.keys(env).sort()) {
      // Names are validated as shell identifiers by the schema.
      script +=
        `if [ "\${${k}+set}" != set ]; then echo ${q(`${k} is not set, expected `)}${q(env[k]!)} >&2; _f_ok=1; ` +
        `elif [ "$${k}" != ${q(env[k]!)} ]; then echo ${q(`${k}=`)}"$${k}"${q(', expected ')}${q(env[k]!)} >&2; _f_ok=1; fi\n`;
    }
    script += 'exit $_f_ok\n';
    return `_f_run ${id} ${user} ${q(script)} 0 '' '' '' ''\n`;
  }
  return `_f_record ${id} failed null '' 'unknown kind of test' 0\n`;
}

function labelBlock(id: string, want: Readonly<Record<string, string>>, opts: RunnerOptions): string {
  if (opts.labels === undefined) {
    return `_f_record ${id} skipped null '' 'skipped: labels are checked on product images (the combined test)' 0\n`;
  }
  const problems: string[] = [];
  for (const k of Object.keys(want).sort()) {
    const have = opts.labels[k];
    if (opts.dynamicLabels?.includes(k)) problems.push(`${k} is set at build time (a bake variable) and cannot be checked here`);
    else if (have === undefined) problems.push(`${k} is not set, expected ${JSON.stringify(want[k])}`);
    else if (have !== want[k]) problems.push(`${k}=${JSON.stringify(have)}, expected ${JSON.stringify(want[k])}`);
  }
  // Decided at generation time from the labels the bake target sets; recorded like any result.
  return problems.length === 0 ? `_f_record ${id} passed null '' '' 0\n` : `_f_record ${id} failed null '' ${q(problems.join('; '))} 0\n`;
}

// ---------------------------------------------------------------------------------------------
// Which tests run where.

/** The combined test of a target: its fragments' tests in build order, then the product's. */
export function combinedTestCases(product: ResolvedProduct): TestCase[] {
  const cases: TestCase[] = [];
  for (const f of product.fragments) {
    f.meta.doc.tests.forEach((test, i) => cases.push({ test, origin: refOf(f.meta.doc), source: sourceOf(f.meta, i) }));
  }
  (product.product.doc.tests ?? []).forEach((test, i) => cases.push({ test, origin: product.id, source: sourceOf(product.product, i) }));
  return cases;
}

function sourceOf(doc: Located<unknown>, index: number): { file: string; line: number } {
  const loc = doc.locate(['tests', index]);
  return { file: loc.file, line: loc.line };
}

export interface FragmentTestPlan {
  /** `name@version` */
  ref: string;
  fragment: FragmentSource;
  /** The first product (by id) using this fragment version: its template, pins and locals. */
  host: ResolvedProduct;
  variant: Variant;
  /** The template's base (what the isolated test builds on). */
  base: ResolvedProduct['base'];
  /** The platforms the fragment is built for by some product, with a pool for each. */
  platforms: { platform: PlatformName; arch: string; pool: Located<Pool> }[];
  accelerator: AcceleratorName;
  dockerfilePath: string;
  runnerPath: string;
  cases: TestCase[];
}

/** The base the host's template names (a manifest's `base:` override is the product's, not the fragment's). */
function templateBase(factory: ResolvedFactory, host: ResolvedProduct): ResolvedProduct['base'] {
  const name = host.template.meta.doc.base;
  const doc = factory.loaded.bases.find((b) => b.doc.name === name)?.doc;
  const pin = factory.loaded.lock?.doc.bases?.[name];
  return doc === undefined ? host.base : { name: doc.name, image: doc.image, ...(pin && pin.image === doc.image ? { digest: pin.digest } : {}) };
}

/** One isolated test per fragment version in use, sorted by ref. */
export function planFragmentTests(factory: ResolvedFactory): FragmentTestPlan[] {
  const products = [...factory.products].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const byRef = new Map<string, { fragment: FragmentSource; host: ResolvedProduct; targets: Target[] }>();
  for (const p of products) {
    for (const f of p.fragments) {
      const ref = refOf(f.meta.doc);
      if (!byRef.has(ref)) byRef.set(ref, { fragment: f, host: p, targets: [] });
    }
  }
  // Every product's fragments, once per product rather than once per target.
  const refsOf = new Map<ResolvedProduct, string[]>();
  for (const t of factory.targets) {
    let refs = refsOf.get(t.product);
    if (!refs) refsOf.set(t.product, (refs = t.product.fragments.map((f) => refOf(f.meta.doc))));
    for (const ref of refs) byRef.get(ref)!.targets.push(t);
  }
  const plans: FragmentTestPlan[] = [];
  for (const ref of [...byRef.keys()].sort()) {
    const { fragment, host, targets } = byRef.get(ref)!;
    const fdoc = fragment.meta.doc;
    const accelerator: AcceleratorName = (fdoc.accelerators ?? ['cpu']).includes('cpu') ? 'cpu' : 'cuda';
    // Per platform, the target first by name (no need to sort hundreds of them for that).
    const firstOn = new Map<string, Target>();
    for (const t of targets) {
      const seen = firstOn.get(t.platform);
      if (!seen || t.name < seen.name) firstOn.set(t.platform, t);
    }
    const platforms: FragmentTestPlan['platforms'] = [];
    for (const t of firstOn.values()) {
      // Prefer a pool of the test's accelerator (a CPU pool for a fragment that runs on CPU).
      const pool = factory.pools.find((pl) => pl.doc.platform === t.platform && pl.doc.accelerator === accelerator) ?? t.pool;
      platforms.push({ platform: t.platform, arch: t.arch, pool });
    }
    platforms.sort((a, b) => (a.platform < b.platform ? -1 : 1));
    // A fragment that runs on CPU is tested on the template's own base, whichever product hosts
    // it; one that cannot (cuda-env) on its host's base, which the resolver checked fits it (the
    // CUDA base), never on the template's Debian.
    const base = accelerator === 'cpu' ? templateBase(factory, host) : host.base;
    const dockerfilePath = fragmentDockerfilePath(fragment);
    plans.push({
      ref,
      fragment,
      host,
      variant: host.variants[0]!,
      base,
      platforms,
      accelerator,
      dockerfilePath,
      runnerPath: `${dockerfilePath.slice(0, dockerfilePath.lastIndexOf('/'))}/run.sh`,
      cases: fdoc.tests.map((test, i) => ({ test, origin: ref, source: sourceOf(fragment.meta, i) })),
    });
  }
  return plans;
}
