// docker-bake.hcl from a resolved factory (docs/architecture.md "Bake"). Pure and deterministic:
// targets in name order, attributes in a fixed order, map keys sorted.
import { createHash } from 'node:crypto';
import { error } from '../src/core/diagnostics.js';
import { hclTemplate } from '../src/core/escape.js';
import { DEFAULT_SBOM_SCANNER, RESERVED_ARGS } from '../src/core/schema.js';
import { FactoryError } from '../src/core/types.js';
import type { Diagnostic, Located, Base, Pool, RenderedDockerfile, ResolvedFactory, ResolvedProduct, Target, Variant } from '../src/core/types.js';
import { expr, list, map, str, writeBlock, writeHcl, type HclBlock, type HclExpr, type HclValue } from './hcl.js';
import { planFragmentTests, poolTestArgs, type FragmentTestPlan } from './testrunner.js';
import { baseVariable, fragmentTestTargetName, IMAGE_UNDER_TEST, pinnedImage, testTargetName, TESTS_GROUP, variantId } from '../src/core/ids.js';
import { ANNOTATED_LABELS, imageLabels } from '../src/core/labels.js';

/**
 * What bake reads of a rendered Dockerfile. Not its source map: callers keep only these, so
 * the 175,000 source-map entries of a 10,000-target factory die young instead of being
 * copied by every GC until the bake file is written.
 */
export type BakeDockerfile = Pick<RenderedDockerfile, 'path' | 'text' | 'stages'>;

/** Key of a rendered Dockerfile in the map given to generateBake: `name@version:variant`. */
export function dockerfileKey(product: ResolvedProduct, variant: Variant): string {
  return variantId(product.id, variant.name);
}

/** Path of the combined test Dockerfile (and its runner next to it) of a variant. */
export function combinedTestDir(dockerfilePath: string): string {
  return `${dockerfilePath.slice(0, dockerfilePath.lastIndexOf('/'))}/test`;
}

/** The default of a Base's variable: its image, digest-pinned when the lock pins that image. */
export function baseDefault(base: Base, lock: ResolvedFactory['loaded']['lock']): string {
  const pin = lock?.doc.bases?.[base.name];
  return pinnedImage(base.image, pin && pin.image === base.image ? pin.digest : undefined);
}

export const TEST_RESULTS_VARIABLE = 'TEST_RESULTS_DIR';
export const DEFAULT_TEST_RESULTS_DIR = '.factory/test-results';

const VARIABLES: readonly { name: string; default: HclExpr; description: string }[] = [
  { name: 'REGISTRY', default: str('localhost:5000'), description: 'registry (host[/path]) the image tags are under' },
  {
    name: 'CACHE_REPO',
    default: expr(hclTemplate([{ ref: 'REGISTRY' }, '/cache'])),
    description: 'repository of the registry build cache (one tag per target and arch)',
  },
  { name: 'CACHE_DIR', default: str('.factory/cache'), description: 'directory of the build cache for pools with cache: local' },
  { name: 'TAG_SUFFIX', default: str(''), description: 'appended to every tag, e.g. "-pr123"' },
  { name: 'SOURCE_DATE_EPOCH', default: str('0'), description: 'reproducible timestamps: seconds since the epoch (the commit time in CI)' },
  { name: 'REVISION', default: str(''), description: 'source revision (git commit) recorded in labels and annotations' },
  { name: 'SOURCE_URL', default: str(''), description: 'source repository URL recorded in labels and annotations' },
  {
    name: TEST_RESULTS_VARIABLE,
    default: str(DEFAULT_TEST_RESULTS_DIR),
    description: 'where test targets export results.json (one directory per test target)',
  },
];

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const sortedKeys = (o: Record<string, unknown>): string[] => Object.keys(o).sort();

/** A cache tag from a target name: tags are at most 128 characters. */
export function cacheTag(name: string): string {
  if (name.length <= 128) return name;
  return `${name.slice(0, 115)}-${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
}

/**
 * cache-from / cache-to of one target: its own per-target, per-arch ref, so parallel targets
 * never overwrite each other's cache. What products share comes through the `stage-*` targets,
 * each with a ref of its own (below); there is no factory-wide ref that nothing would write.
 */
export function cacheAttrs(name: string, cache: Pool['cache']): { from: HclExpr[]; to: HclExpr[] } {
  const own = cacheTag(name);
  switch (cache) {
    case 'gha':
      return { from: [str(`type=gha,scope=${own}`)], to: [str(`type=gha,scope=${own},mode=max`)] };
    case 'local':
      return {
        from: [expr(hclTemplate(['type=local,src=', { ref: 'CACHE_DIR' }, `/${own}`]))],
        to: [expr(hclTemplate(['type=local,dest=', { ref: 'CACHE_DIR' }, `/${own},mode=max`]))],
      };
    default:
      return {
        from: [expr(hclTemplate(['type=registry,ref=', { ref: 'CACHE_REPO' }, `:${own}`]))],
        to: [expr(hclTemplate(['type=registry,ref=', { ref: 'CACHE_REPO' }, `:${own},mode=max,image-manifest=true,oci-mediatypes=true`]))],
      };
  }
}

// Attribute values every target repeats: escaped once, shared (HclExpr values are immutable).
const CONTEXT = str('.');
const TARGET_FINAL = str('final');
const TARGET_TEST_RESULTS = str('test-results');
// The scanner is a variable (the Policy's, or BuildKit's default): an offline or mirror-only
// build sets SBOM_SCANNER instead of overriding attest on every target with --set '*.attest',
// which would also scan the stage-* targets. Only image targets carry attest.
const SBOM_SCANNER_VARIABLE = 'SBOM_SCANNER';
const ATTEST = list([expr(hclTemplate(['type=sbom,generator=', { ref: SBOM_SCANNER_VARIABLE }])), str('type=provenance,mode=max')]);

function argsMap(baseName: string, args: Record<string, string>): HclValue {
  const entries: [string, HclExpr][] = [
    ['BASE_IMAGE', expr(hclTemplate([{ ref: baseVariable(baseName) }]))],
    ['SOURCE_DATE_EPOCH', expr(hclTemplate([{ ref: 'SOURCE_DATE_EPOCH' }]))],
  ];
  for (const k of sortedKeys(args)) if (!RESERVED_ARGS.has(k)) entries.push([k, str(args[k]!)]);
  return map(entries);
}

// ---------------------------------------------------------------------------------------------
// Shared stages.
//
// Products whose Dockerfiles start the same way (same base variable, same first stages, same
// args, same platform) would each build those stages. The deepest stage that two or more
// products share becomes a `stage-*` target, and each of them takes it through a named context
// with the stage's own name: `contexts = { "core-python" = "target:stage-..." }`. BuildKit
// replaces a Dockerfile stage by a named context of the same name ("When Dockerfile defines a
// stage with the same name it's overwritten", docs.docker.com/build/ci/github-actions/
// named-contexts; buildx bake passes `target:` contexts as `context:<name>` inputs, see
// buildx build/build.go), so every later stage builds on the one shared result. Verified for
// real (buildx v0.38.2, BuildKit v0.34.2) in test/generators/build-files.itg.test.ts: the overridden stage's
// own RUN never executes.

interface StageShare {
  key: string;
  stage: string;
  /** The build args the shared stages declare (the same for every user, by the key). */
  args: Record<string, string>;
  /** Targets (image targets) whose deepest shared stage this is, sorted by name. */
  users: Target[];
  products: Set<string>;
}

/** Offset in `text` of each stage's FROM line, in the order of `stages`. */
function stageStarts(text: string, stages: readonly string[]): number[] {
  const starts: number[] = [];
  let s = 0;
  for (let at = 0; s < stages.length;) {
    const nl = text.indexOf('\n', at);
    // Most lines are not FROM lines: look at the first letter before running the pattern.
    const c = text.charCodeAt(at);
    if (c === 0x46 || c === 0x66) {
      const m = FROM_AS.exec(text.slice(at, nl < 0 ? text.length : nl));
      if (m && m[1]!.toLowerCase() === stages[s]) {
        starts.push(at);
        s++;
      }
    }
    if (nl < 0) break;
    at = nl + 1;
  }
  return starts;
}
const FROM_AS = /^FROM\s+\S+\s+AS\s+(\S+)\s*$/i;

interface StagePrefix {
  stage: string;
  /** Digest of the Dockerfile text up to the end of this stage and the args it declares. */
  digest: string;
  args: Record<string, string>;
}

/** The fragment-stage prefixes of one rendered Dockerfile (shared by all its platforms). */
function stagePrefixes(d: BakeDockerfile, variantArgs: Record<string, string>): StagePrefix[] {
  const starts = stageStarts(d.text, d.stages);
  const out: StagePrefix[] = [];
  const prefixArgs: Record<string, string> = {};
  let h = '';
  // Fragment stages only: `base` alone is a FROM, `final` is the product's own.
  for (let i = 0; i + 1 < starts.length; i++) {
    // The stage's lines (the first chunk from the top of the file), without the newline
    // before the next FROM.
    const chunk = d.text.slice(i === 0 ? 0 : starts[i]!, starts[i + 1]! - 1);
    const declared = declaredArgs(chunk).map((k) => [k, variantArgs[k] ?? null] as const);
    for (const [k, v] of declared) if (v !== null) prefixArgs[k] = v;
    // One update of the joined pieces hashes the same bytes as one update per piece.
    h = createHash('sha256')
      .update(`${h}\u0000${chunk}\u0000${JSON.stringify(declared)}`)
      .digest('hex');
    if (i > 0) out.push({ stage: d.stages[i]!, digest: h, args: { ...prefixArgs } });
  }
  return out;
}

function planSharedStages(targets: readonly Target[], dockerfiles: ReadonlyMap<string, BakeDockerfile>): Map<Target, StageShare> {
  // What makes a prefix build the same: platform, base variable, cache kind, the text of its
  // stages, and the values of the build args those stages declare (an arg a stage does not
  // declare with ARG cannot change it, so products with different unrelated args still share).
  const prefixesByDockerfile = new Map<string, StagePrefix[]>();
  const keysOf = new Map<Target, { key: string; prefix: StagePrefix }[]>();
  const productsByKey = new Map<string, Set<string>>();
  for (const t of targets) {
    const dk = dockerfileKey(t.product, t.variant);
    let prefixes = prefixesByDockerfile.get(dk);
    if (!prefixes) prefixesByDockerfile.set(dk, (prefixes = stagePrefixes(dockerfiles.get(dk)!, t.variant.args)));
    const seed = `${t.platform}|${baseVariable(t.product.base.name)}|${t.pool.doc.cache}|`;
    const keys = prefixes.map((prefix) => ({ key: seed + prefix.digest, prefix }));
    for (const { key } of keys) {
      let set = productsByKey.get(key);
      if (!set) productsByKey.set(key, (set = new Set()));
      set.add(t.product.id);
    }
    keysOf.set(t, keys);
  }
  const shares = new Map<string, StageShare>();
  const out = new Map<Target, StageShare>();
  for (const t of targets) {
    const keys = keysOf.get(t)!;
    for (let i = keys.length - 1; i >= 0; i--) {
      const { key, prefix } = keys[i]!;
      if (productsByKey.get(key)!.size < 2) continue;
      let share = shares.get(key);
      if (!share) {
        const id = createHash('sha256').update(key).digest('hex');
        shares.set(key, (share = { key: id, stage: prefix.stage, args: prefix.args, users: [], products: productsByKey.get(key)! }));
      }
      share.users.push(t);
      out.set(t, share);
      break;
    }
  }
  return out;
}

/** Names declared by ARG instructions in a piece of Dockerfile, sorted. */
export function declaredArgs(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/^[ \t]*ARG[ \t]+(.*)$/gim)) {
    for (const w of m[1]!.trim().split(/\s+/)) {
      const n = /^([A-Za-z_][A-Za-z0-9_]*)/.exec(w);
      if (n) names.add(n[1]!);
    }
  }
  return [...names].sort();
}

/** `_<product>-<variant>`: the target the platforms of a variant inherit from. */
export function variantTargetName(t: Target): string {
  return `_${t.product.product.doc.name}-${t.variant.name}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

function stageTargetName(share: StageShare): string {
  const t = share.users[0]!;
  return `stage-${share.stage}-${t.arch}-${share.key.slice(0, 10)}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

// ---------------------------------------------------------------------------------------------

/** `fragmentTests`: planFragmentTests(factory), when the caller has it already. */
export function generateBake(
  factory: ResolvedFactory,
  dockerfiles: ReadonlyMap<string, BakeDockerfile>,
  fragmentTests: readonly FragmentTestPlan[] = planFragmentTests(factory),
): string {
  const targets = [...factory.targets].sort(byName);
  const argDiagnostics = reservedArgDiagnostics(targets, dockerfiles);
  const baseVars = baseVariables(factory.loaded.bases);
  const variables = variableBlocks(factory, baseVars.byVariable);
  const shares = planSharedStages(targets, dockerfiles);
  const groups = groupMembers(targets, fragmentTests);
  const targetBlocks = [
    ...imageTargets(targets, dockerfiles, shares),
    ...sharedStageTargets(targets, dockerfiles, shares),
    ...combinedTestTargets(targets, dockerfiles),
    ...fragmentTests.flatMap((ft) => fragmentTestBlocks(ft).map(writeTarget)),
  ];
  // Every problem is reported at once, in the order the checks run, rather than one per try.
  const diagnostics = [...argDiagnostics, ...baseVars.diagnostics, ...groupNameClashes(groups, targetBlocks)];
  if (diagnostics.length > 0) throw new FactoryError(diagnostics);
  return renderBake([...variables, ...groupBlocks(groups)], targetBlocks);
}

/** A target block already written out, with the label it sorts by. */
interface WrittenTarget {
  label: string;
  text: string;
}

// Each target block is written as soon as it is built: 25,000 blocks of attribute objects
// kept alive until the end made every young-generation GC copy them all.
function writeTarget(b: HclBlock): WrittenTarget {
  return { label: b.label, text: writeBlock(b) };
}

/** Also makes sure every target has its rendered Dockerfile: the rest of the bake relies on it. */
function reservedArgDiagnostics(targets: readonly Target[], dockerfiles: ReadonlyMap<string, BakeDockerfile>): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const checked = new Set<string>();
  for (const t of targets) {
    const key = dockerfileKey(t.product, t.variant);
    if (!dockerfiles.has(key)) throw new Error(`internal: no rendered Dockerfile for ${t.id}`);
    // Once per variant, not per platform.
    if (checked.has(key)) continue;
    checked.add(key);
    for (const k of sortedKeys(t.variant.args)) {
      if (RESERVED_ARGS.has(k)) {
        diagnostics.push(
          error('reserved-arg', `build arg ${k} is set by the factory and cannot be set by a manifest or fragment`, {
            field: `args.${k}`,
            hint: 'rename the arg',
            location: t.product.manifest.locate(['args', k]),
          }),
        );
      }
    }
  }
  return diagnostics;
}

/** The Base documents by their bake variable; when two share one, the later (by name) wins. */
function baseVariables(bases: readonly Located<Base>[]): { byVariable: Map<string, Located<Base>>; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const byVariable = new Map<string, Located<Base>>();
  for (const b of [...bases].sort((x, y) => byName(x.doc, y.doc))) {
    const v = baseVariable(b.doc.name);
    const other = byVariable.get(v);
    if (other) {
      diagnostics.push(
        error('base-variable-clash', `bases "${other.doc.name}" and "${b.doc.name}" both map to the bake variable ${v}`, {
          field: 'name',
          hint: 'rename one of them',
          location: b.locate(['name']),
        }),
      );
    }
    byVariable.set(v, b);
  }
  return { byVariable, diagnostics };
}

function variableBlock(label: string, description: string, value: HclExpr): HclBlock {
  return {
    type: 'variable',
    label,
    attrs: [
      ['description', str(description)],
      ['default', value],
    ],
  };
}

/** The factory's own variables, then one per base image. */
function variableBlocks(factory: ResolvedFactory, baseVars: ReadonlyMap<string, Located<Base>>): HclBlock[] {
  const blocks = VARIABLES.map((v) => variableBlock(v.name, v.description, v.default));
  blocks.push(
    variableBlock(
      SBOM_SCANNER_VARIABLE,
      'the BuildKit SBOM scanner image of the image targets (Policy sbom.scanner)',
      str(factory.policy.sbom.scanner ?? DEFAULT_SBOM_SCANNER),
    ),
  );
  for (const [v, b] of [...baseVars.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
    blocks.push(variableBlock(v, `image of the base "${b.doc.name}"`, str(baseDefault(b.doc, factory.loaded.lock))));
  }
  // A product may use a base given only by the resolver (no Base document): still a variable.
  const resolverOnly = new Set<string>();
  for (const p of [...factory.products].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const v = baseVariable(p.base.name);
    if (baseVars.has(v) || resolverOnly.has(v)) continue;
    resolverOnly.add(v);
    const image = pinnedImage(p.base.image, p.base.digest);
    blocks.push(variableBlock(v, `image of the base "${p.base.name}"`, str(image)));
  }
  return blocks;
}

/** Group name -> its members, in the order they were added (duplicates kept; groupBlocks drops them). */
function groupMembers(targets: readonly Target[], fragmentTests: readonly FragmentTestPlan[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  const addTo = (g: string, name: string) => {
    let l = groups.get(g);
    if (!l) groups.set(g, (l = []));
    l.push(name);
  };
  for (const t of targets) {
    addTo('default', t.name);
    addTo(t.product.product.doc.name.replace(/[^A-Za-z0-9_-]/g, '_'), t.name);
    addTo(`pool-${t.pool.doc.name}`.replace(/[^A-Za-z0-9_-]/g, '_'), t.name);
    addTo(TESTS_GROUP, testTargetName(t.name));
  }
  for (const ft of fragmentTests) for (const a of ft.platforms) addTo(TESTS_GROUP, fragmentTestTargetName(ft.fragment.meta.doc, a.arch));
  return groups;
}

/** `default` first, `tests` last, the others by name; members deduplicated and sorted. */
function groupBlocks(groups: ReadonlyMap<string, string[]>): HclBlock[] {
  const order = ['default', ...[...groups.keys()].filter((g) => g !== 'default' && g !== TESTS_GROUP).sort(), TESTS_GROUP];
  const blocks: HclBlock[] = [];
  for (const g of order) {
    const members = groups.get(g);
    if (!members) continue;
    blocks.push({ type: 'group', label: g, attrs: [['targets', list([...new Set(members)].sort().map(str))]] });
  }
  return blocks;
}

// `docker buildx bake <name>` could then mean either.
function groupNameClashes(groups: ReadonlyMap<string, string[]>, targetBlocks: readonly WrittenTarget[]): Diagnostic[] {
  const names = new Set(targetBlocks.map((b) => b.label));
  return [...groups.keys()]
    .filter((g) => names.has(g))
    .map((g) =>
      error('bake-name-clash', `the bake group "${g}" has the name of a target`, {
        hint: 'rename the product or pool so that its group name differs from every target name',
      }),
    );
}

/**
 * What the platforms of one variant have in common lives in one `_<product>-<variant>` target
 * that theirs inherit: the file stays about half as long, and a variant's labels are written
 * (and reviewed) once.
 */
function imageTargets(targets: readonly Target[], dockerfiles: ReadonlyMap<string, BakeDockerfile>, shares: ReadonlyMap<Target, StageShare>): WrittenTarget[] {
  const out: WrittenTarget[] = [];
  const commons = new Set<string>();
  for (const t of targets) {
    const common = variantTargetName(t);
    if (!commons.has(common)) {
      commons.add(common);
      out.push(writeTarget(variantCommonTarget(t, dockerfiles.get(dockerfileKey(t.product, t.variant))!)));
    }
    out.push(writeTarget(platformTarget(t, shares.get(t))));
  }
  return out;
}

function variantCommonTarget(t: Target, d: BakeDockerfile): HclBlock {
  const labels = imageLabels(t.product, t.variant);
  return {
    type: 'target',
    label: variantTargetName(t),
    attrs: [
      ['description', str(`${t.id}: what its platforms share`)],
      ['context', CONTEXT],
      ['dockerfile', str(d.path)],
      ['target', TARGET_FINAL],
      ['args', argsMap(t.product.base.name, t.variant.args)],
      ['labels', map(sortedKeys(labels.parts).map((k) => [k, expr(hclTemplate(labels.parts[k]!))]))],
      ['annotations', list(ANNOTATED_LABELS.map((k) => expr(hclTemplate([`index,manifest:${k}=`, ...labels.parts[k]!]))))],
      ['attest', ATTEST],
    ],
  };
}

function platformTarget(t: Target, share: StageShare | undefined): HclBlock {
  const cache = cacheAttrs(t.name, t.pool.doc.cache);
  return {
    type: 'target',
    label: t.name,
    attrs: [
      ['description', str(`${t.id} for ${t.platform}`)],
      ['inherits', list([str(variantTargetName(t))])],
      ['contexts', share ? map([[share.stage, str(`target:${stageTargetName(share)}`)]]) : undefined],
      ['platforms', list([str(t.platform)])],
      ['tags', list(t.tags.map((tag) => expr(hclTemplate([{ ref: 'REGISTRY' }, `/${tag}`, { ref: 'TAG_SUFFIX' }]))))],
      ['cache-from', list(cache.from)],
      ['cache-to', list(cache.to)],
    ],
  };
}

/** One target per shared stage, built from the Dockerfile of its first user. */
function sharedStageTargets(
  targets: readonly Target[],
  dockerfiles: ReadonlyMap<string, BakeDockerfile>,
  shares: ReadonlyMap<Target, StageShare>,
): WrittenTarget[] {
  const out: WrittenTarget[] = [];
  const seen = new Set<StageShare>();
  for (const t of targets) {
    const share = shares.get(t);
    if (!share || seen.has(share)) continue;
    seen.add(share);
    const first = share.users[0]!;
    out.push(writeTarget(sharedStageTarget(share, dockerfiles.get(dockerfileKey(first.product, first.variant))!)));
  }
  return out;
}

function sharedStageTarget(share: StageShare, d: BakeDockerfile): HclBlock {
  const first = share.users[0]!;
  const name = stageTargetName(share);
  // Every user writes the same content to this ref: the stage's inputs are identical by construction.
  const cache = cacheAttrs(name, first.pool.doc.cache);
  return {
    type: 'target',
    label: name,
    attrs: [
      ['description', str(`stage ${share.stage} shared by ${[...share.products].sort().join(', ')} (${first.platform})`)],
      ['context', CONTEXT],
      ['dockerfile', str(d.path)],
      ['target', str(share.stage)],
      ['platforms', list([str(first.platform)])],
      ['args', argsMap(first.product.base.name, share.args)],
      ['cache-from', list(cache.from)],
      ['cache-to', list(cache.to)],
    ],
  };
}

/** Combined tests: the variant's fragment tests and the product tests on the final image. */
function combinedTestTargets(targets: readonly Target[], dockerfiles: ReadonlyMap<string, BakeDockerfile>): WrittenTarget[] {
  return targets.map((t) => writeTarget(combinedTestTarget(t, dockerfiles.get(dockerfileKey(t.product, t.variant))!)));
}

function combinedTestTarget(t: Target, d: BakeDockerfile): HclBlock {
  const name = testTargetName(t.name);
  const poolArgs = poolTestArgs(t.pool.doc);
  return {
    type: 'target',
    label: name,
    attrs: [
      ['description', str(`tests of ${t.id} on ${t.platform}`)],
      ['context', CONTEXT],
      ['dockerfile', str(`${combinedTestDir(d.path)}/Dockerfile`)],
      ['target', TARGET_TEST_RESULTS],
      ['contexts', map([[IMAGE_UNDER_TEST, str(`target:${t.name}`)]])],
      ['platforms', list([str(t.platform)])],
      ['args', poolArgs ? map(poolArgs.map(([k, v]) => [k, str(v)])) : undefined],
      ...deviceEntitlement(t.pool.doc),
      ['output', list([expr(hclTemplate(['type=local,dest=', { ref: TEST_RESULTS_VARIABLE }, `/${name}`]))])],
    ],
  };
}

/**
 * The `device` entitlement of a test target whose pool has a device: BuildKit gives a RUN step a
 * CDI device only when the build is entitled to it, and bake asks for `--allow device` (the
 * action passes it for exactly these targets, see testArgs in src/action/context.ts).
 */
function deviceEntitlement(pool: Pool): [string, HclValue][] {
  return pool.device === undefined ? [] : [['entitlements', list([str('device')])]];
}

/** The head (comment, variables, groups), then the target blocks sorted by label. */
function renderBake(blocks: readonly HclBlock[], targetBlocks: WrittenTarget[]): string {
  targetBlocks.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  const head = writeHcl(
    blocks,
    [
      'Generated by the container factory from manifests/, templates/ and fragments/.',
      'Do not edit: run `factory generate`. Override any variable from the environment,',
      'e.g. REGISTRY=ghcr.io/acme REVISION=$(git rev-parse HEAD) docker buildx bake py-app',
    ].join('\n'),
  );
  // writeHcl's layout: blocks separated by one blank line.
  const parts = [head];
  for (const b of targetBlocks) parts.push(b.text);
  return parts.join('\n');
}

/** Isolated fragment tests: the fragment and what it requires on the template's base. */
function fragmentTestBlocks(ft: FragmentTestPlan): HclBlock[] {
  return ft.platforms.map((a) => {
    const name = fragmentTestTargetName(ft.fragment.meta.doc, a.arch);
    const cache = cacheAttrs(name, a.pool.doc.cache);
    return {
      type: 'target',
      label: name,
      attrs: [
        ['description', str(`isolated tests of fragment ${ft.ref} on ${a.platform}`)],
        ['context', CONTEXT],
        ['dockerfile', str(ft.dockerfilePath)],
        ['target', TARGET_TEST_RESULTS],
        ['platforms', list([str(a.platform)])],
        ['args', argsMap(ft.base.name, { ...ft.variant.args, ...Object.fromEntries(poolTestArgs(a.pool.doc) ?? []) })],
        ...deviceEntitlement(a.pool.doc),
        ['cache-from', list(cache.from)],
        ['cache-to', list(cache.to)],
        ['output', list([expr(hclTemplate(['type=local,dest=', { ref: TEST_RESULTS_VARIABLE }, `/${name}`]))])],
      ],
    } satisfies HclBlock;
  });
}
