// `factory plan`: which targets a change affects, which of those are already built (by build
// key), and the per-pool matrices, manifest lists and reasons the workflow and `--explain` use.
// I/O here is git (git.ts) and the registry (through the injected registryCheck); detection
// and keys are pure (detect.ts, key.ts).
import { buildFactory } from '../core/index.js';
import { formatDiagnostics, hasErrors } from '../core/diagnostics.js';
import type { KeyCheck } from '../core/key-check.js';
import { FactoryError, type ResolvedFactory, type Target } from '../core/types.js';
import type { Policy } from '../core/schema.js';
import { productBakeFile, splitRef } from '../core/ids.js';
import { detectAffected, type IgnoredFile, type Reason } from './detect.js';
import { diffFiles, readTreeAt, resolveCommit, type ChangedFile } from './git.js';
import { keyTag, Renderer } from './key.js';
import { PLAN_OUTPUTS, poolOutputNames, poolShards, poolSlug, splitLegs } from '../core/plan-outputs.js';
import { classifyPath } from '../core/path-classes.js';

export type { ChangedFile, ChangeStatus } from './git.js';
export { GitError } from './git.js';
export type { KeyCheck } from '../core/key-check.js';
export type { IgnoredFile, Reason, ReasonKind } from './detect.js';

/** A mistake in the plan's arguments (unknown product, bad platform, bad promote tag). */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

export interface PlanOptions {
  repoRoot: string;
  /** Revision to diff against; required unless `all`. */
  base?: string;
  /** Revision of the change (default HEAD: the committed tree, not the working tree). */
  head?: string;
  /** Plan every target instead of diffing (scheduled rebuilds, dispatches). */
  all?: boolean;
  /** Keep only these products: "name" or "name@version". */
  products?: string[];
  /** Keep only these platforms, e.g. ["linux/arm64"]. */
  platforms?: string[];
  /** Build even when an image with the target's build key exists. */
  force?: boolean;
  /** Registry the images live in (bake's REGISTRY); default localhost:5000. */
  registry?: string;
  /** Extra tag for the manifest lists (dispatch `promote`), e.g. "stable". */
  promote?: string;
  /**
   * The run publishes manifest lists. With a platform filter, a list whose other platforms have
   * no image under their build key is then refused here, before anything is built.
   */
  push?: boolean;
  /**
   * Is there a trusted image under this build-key reference? A boolean says whether one exists
   * (nothing verified); a KeyCheck also names its digest, or why it may not be reused (an
   * unsigned or foreign image planted under the tag). Without it no target is skipped.
   */
  registryCheck?: (ref: string) => Promise<boolean | KeyCheck>;
}

/**
 * One leg of a pool's build matrix; the workflow reads these as `matrix.<field>`. A projection of
 * the PlannedTarget (its fields, with workflow spellings) and what the leg needs besides.
 */
export type MatrixEntry = Pick<PlannedTarget, 'target' | 'id' | 'product' | 'variant' | 'platform' | 'arch' | 'pool' | 'image' | 'key'> & {
  'key-tag': PlannedTarget['keyTag'];
  /** The product's own bake file (productBakeFile): the only one the leg's action parses. */
  'bake-file': string;
  /** retention-days of the leg's uploads: Policy retention.productArtifactDays, poolArtifactDays, artifactDays. */
  'artifact-days': number;
};

export interface PlannedTarget {
  target: string;
  id: string;
  product: string;
  variant: string;
  platform: string;
  arch: string;
  pool: string;
  image: string;
  key: string;
  keyTag: string;
  keyRef: string;
  /** build: not in the registry (or --force); skip: an image with this build key exists. */
  status: 'build' | 'skip';
  /** The reused image's digest (skip, when the lookup resolved it). */
  digest?: string;
  /** Why the image under the build key is not reused (build): not signed by the factory, ... */
  untrusted?: string;
  reasons: Reason[];
}

export interface MergeSource {
  target: string;
  platform: string;
  /** build: comes from this run; existing: in the registry under keyTag; missing: neither. */
  status: 'build' | 'existing' | 'missing';
  keyTag: string;
  /** existing: the verified image the list takes, by digest (the tag can move after the plan). */
  digest?: string;
  /** missing: an image is under keyTag, but it was refused, and why. */
  untrusted?: string;
}

/** One multi-arch manifest list to publish: every platform of one product variant. */
export interface MergeEntry {
  product: string;
  variant: string;
  image: string;
  tags: string[];
  sources: MergeSource[];
}

export interface PlanPool {
  name: string;
  slug: string;
  platform: string;
  accelerator: string;
  runsOn: string[];
  /** Targets of the pool in the head factory (affected or not): sets the number of shards. */
  targets: number;
  /** Jobs the pool's matrix is split into (GitHub allows 256 legs per matrix). */
  shards: number;
  build: number;
  skipped: number;
}

export interface PlanResult {
  version: 1;
  mode: 'diff' | 'all';
  base?: { ref: string; commit: string };
  head: { ref: string; commit: string };
  filters: { products: string[]; platforms: string[] };
  force: boolean;
  registry: string;
  changed: ChangedFile[];
  ignored: IgnoredFile[];
  /** Every affected target, built or skipped, sorted by name. */
  affected: PlannedTarget[];
  build: string[];
  skipped: string[];
  removed: { target: string; id: string }[];
  pools: PlanPool[];
  /** Pool name -> `{include: [...]}` for `strategy.matrix: fromJSON(...)`; every pool present. */
  matrices: Record<string, { include: MatrixEntry[] }>;
  merges: MergeEntry[];
  warnings: string[];
  summary: { targets: number; affected: number; build: number; skipped: number; removed: number };
}

const DEFAULT_REGISTRY = 'localhost:5000';
const PLATFORM_RE = /^linux\/(amd64|arm64)$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}$/;
const REGISTRY_CONCURRENCY = 8;

function byName<T extends { target: string }>(a: T, b: T): number {
  return a.target < b.target ? -1 : a.target > b.target ? 1 : 0;
}

function factoryOrThrow(files: Parameters<typeof buildFactory>[0], what: string): ResolvedFactory {
  const { factory, diagnostics } = buildFactory(files);
  if (!factory || hasErrors(diagnostics)) {
    throw new FactoryError(diagnostics.length > 0 ? diagnostics : [{ severity: 'error', code: 'empty', message: `${what} has no factory` }]);
  }
  return factory;
}

/** fn over items, at most `limit` at a time; results in item order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function applyFilters(targets: Target[], opts: PlanOptions, head: ResolvedFactory): Target[] {
  let kept = targets;
  const products = opts.products ?? [];
  if (products.length > 0) {
    const known = head.products.map((p) => p.id);
    for (const p of products) {
      if (!head.products.some((x) => x.id === p || x.product.doc.name === p)) {
        throw new PlanError(`unknown product "${p}"; known products: ${known.join(', ') || '(none)'}`);
      }
    }
    kept = kept.filter((t) => products.includes(t.product.id) || products.includes(t.product.product.doc.name));
  }
  const platforms = opts.platforms ?? [];
  if (platforms.length > 0) {
    for (const p of platforms) {
      if (!PLATFORM_RE.test(p)) throw new PlanError(`unknown platform "${p}"; use linux/amd64 or linux/arm64`);
    }
    kept = kept.filter((t) => platforms.includes(t.platform));
  }
  return kept;
}

/** The variant part of a promoted tag: "stable" for one-variant products, else "stable-<variant>". */
function promotedTag(promote: string, t: Target): string {
  return t.product.variants.length === 1 ? promote : `${promote}-${t.variant.name.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

function splitTag(ref: string): { image: string; tag: string } {
  const i = ref.lastIndexOf(':');
  return { image: ref.slice(0, i), tag: ref.slice(i + 1) };
}

export async function planChanges(opts: PlanOptions): Promise<PlanResult> {
  const registry = (opts.registry ?? DEFAULT_REGISTRY).replace(/\/+$/, '');
  checkOptions(opts);
  const headRef = opts.head ?? 'HEAD';
  const headCommit = await resolveCommit(opts.repoRoot, headRef);
  const head = factoryOrThrow(await readTreeAt(opts.repoRoot, headCommit), `revision ${headRef}`);
  const found = opts.all ? everyTarget(head) : await diffAgainstBase(opts, opts.base!, head, headCommit);
  const selected = selectTargets(head, found.reasons, opts);
  const lookup = keyLookup(opts, registry);
  const affected = await planTargets(selected, found.reasons, lookup, opts);
  const merges = await planMerges(head, selected, affected, lookup, opts.promote);
  if (opts.push && (opts.platforms ?? []).length > 0) refuseIncompleteLists(merges, opts.platforms!);
  const { pools, matrices } = planPools(head, affected);

  const build = affected.filter((p) => p.status === 'build').map((p) => p.target);
  const skipped = affected.filter((p) => p.status === 'skip').map((p) => p.target);
  return {
    version: 1,
    mode: opts.all ? 'all' : 'diff',
    ...(found.base ? { base: found.base } : {}),
    head: { ref: headRef, commit: headCommit },
    filters: { products: [...(opts.products ?? [])], platforms: [...(opts.platforms ?? [])] },
    force: Boolean(opts.force),
    registry,
    changed: found.changed,
    ignored: found.ignored,
    affected,
    build,
    skipped,
    removed: found.removed,
    pools,
    matrices,
    merges,
    // Registry checks run concurrently: sort so the same plan always prints the same way.
    warnings: [...new Set(lookup.warnings)].sort(),
    summary: { targets: head.targets.length, affected: affected.length, build: build.length, skipped: skipped.length, removed: found.removed.length },
  };
}

// Before any git call, so that a bad argument fails fast and says so.
function checkOptions(opts: PlanOptions): void {
  if (opts.promote !== undefined && opts.promote !== '' && !TAG_RE.test(opts.promote)) {
    throw new PlanError(`--promote "${opts.promote}" is not a valid image tag (letters, digits, _ . -; at most 101 characters)`);
  }
  if (!opts.all && !opts.base) throw new PlanError('give --base <ref> to diff against, or --all to plan every target');
}

/** What detection found: the affected head targets with their reasons, and what the diff held. */
interface Found {
  base?: PlanResult['base'];
  changed: ChangedFile[];
  reasons: Map<string, Reason[]>;
  removed: PlanResult['removed'];
  ignored: IgnoredFile[];
}

/** `--all`: every head target, with no diff behind it. */
function everyTarget(head: ResolvedFactory): Found {
  const reasons = new Map(
    head.targets.map((t) => [
      t.name,
      [{ kind: 'requested' as const, summary: 'every target requested (--all)', chain: ['--all: every target is planned', `target ${t.name}`], files: [] }],
    ]),
  );
  return { changed: [], reasons, removed: [], ignored: [] };
}

async function diffAgainstBase(opts: PlanOptions, baseRef: string, head: ResolvedFactory, headCommit: string): Promise<Found> {
  const baseCommit = await resolveCommit(opts.repoRoot, baseRef);
  const changed = await diffFiles(opts.repoRoot, baseCommit, headCommit);
  const relevant = changed.some((f) => classifyPath(f.path) !== 'other' || (f.from !== undefined && classifyPath(f.from) !== 'other'));
  // Nothing the factory reads changed: compare head with itself rather than load the base.
  const { base, baseProblem } = relevant ? loadBase(baseRef, await readTreeAt(opts.repoRoot, baseCommit)) : { base: head };
  const detection = detectAffected({ head, base, baseProblem, changed });
  return { base: { ref: baseRef, commit: baseCommit }, changed, reasons: detection.affected, removed: detection.removed, ignored: detection.ignored };
}

// A base that does not load fails no plan: detectAffected then plans every target, with the
// problem as the reason.
function loadBase(baseRef: string, files: Parameters<typeof buildFactory>[0]): { base?: ResolvedFactory; baseProblem?: string } {
  const built = buildFactory(files);
  if (built.factory && !hasErrors(built.diagnostics)) return { base: built.factory };
  const errors = built.diagnostics.filter((d) => d.severity === 'error');
  return { baseProblem: `base revision ${baseRef} does not load (${errors.length} error(s), first: ${formatDiagnostics(errors.slice(0, 1)).trim()})` };
}

/** The affected targets the --product and --platform filters keep, sorted by name. */
function selectTargets(head: ResolvedFactory, reasons: ReadonlyMap<string, Reason[]>, opts: PlanOptions): Target[] {
  const byTarget = new Map(head.targets.map((t) => [t.name, t]));
  return applyFilters(
    [...reasons.keys()].map((n) => byTarget.get(n)!),
    opts,
    head,
  ).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Build keys and registry look-ups, with the warnings the look-ups left. */
interface KeyLookup {
  keyed(t: Target): { key: string; tag: string; ref: string; image: string };
  exists(ref: string): Promise<KeyCheck>;
  warnings: string[];
}

function keyLookup(opts: PlanOptions, registry: string): KeyLookup {
  // One renderer for the whole plan: the platforms of a variant share one rendered Dockerfile.
  const renderer = new Renderer();
  const warnings: string[] = [];
  return {
    warnings,
    keyed(t) {
      const key = renderer.key(t);
      const image = t.product.product.doc.image;
      return { key, tag: keyTag(key), ref: `${registry}/${image}:${keyTag(key)}`, image };
    },
    async exists(ref) {
      if (!opts.registryCheck) return { found: false };
      try {
        const r = await opts.registryCheck(ref);
        if (typeof r === 'boolean') return r ? { found: true } : { found: false };
        if ('untrusted' in r) warnings.push(`not reusing ${ref}: ${r.untrusted}; planning a build`);
        return r;
      } catch (e) {
        // An unreachable registry must not fail the plan: building again is always safe.
        warnings.push(`registry check of ${ref} failed (${(e as Error).message}); planning a build`);
        return { found: false };
      }
    },
  };
}

/** Each selected target with its build key, and whether an image under that key exists. */
async function planTargets(selected: Target[], reasons: ReadonlyMap<string, Reason[]>, lookup: KeyLookup, opts: PlanOptions): Promise<PlannedTarget[]> {
  const affected = await mapLimit(selected, REGISTRY_CONCURRENCY, async (t): Promise<PlannedTarget> => {
    const k = lookup.keyed(t);
    const check: KeyCheck = opts.force ? { found: false } : await lookup.exists(k.ref);
    const reusable = check.found && !('untrusted' in check);
    return {
      target: t.name,
      id: t.id,
      product: t.product.id,
      variant: t.variant.name,
      platform: t.platform,
      arch: t.arch,
      pool: t.pool.doc.name,
      image: k.image,
      key: k.key,
      keyTag: k.tag,
      keyRef: k.ref,
      status: reusable ? 'skip' : 'build',
      ...(reusable && check.digest ? { digest: check.digest } : {}),
      ...('untrusted' in check ? { untrusted: check.untrusted } : {}),
      reasons: reasons.get(t.name) ?? [],
    };
  });
  return affected.sort(byName);
}

/** Manifest lists: every platform of each affected variant, wherever its image comes from. */
async function planMerges(
  head: ResolvedFactory,
  selected: readonly Target[],
  affected: readonly PlannedTarget[],
  lookup: KeyLookup,
  promote: string | undefined,
): Promise<MergeEntry[]> {
  const plannedByName = new Map(affected.map((p) => [p.target, p]));
  const variantKeys = [...new Set(selected.map((t) => `${t.product.id}\u0000${t.variant.name}`))].sort();
  const merges: MergeEntry[] = [];
  for (const vk of variantKeys) {
    const [productId, variantName] = vk.split('\u0000') as [string, string];
    const siblings = head.targets.filter((t) => t.product.id === productId && t.variant.name === variantName);
    const sources = await mapLimit(siblings, REGISTRY_CONCURRENCY, async (t): Promise<MergeSource> => {
      const planned = plannedByName.get(t.name);
      if (planned) {
        const status = planned.status === 'build' ? 'build' : 'existing';
        return { target: t.name, platform: t.platform, status, keyTag: planned.keyTag, ...(planned.digest ? { digest: planned.digest } : {}) };
      }
      const k = lookup.keyed(t);
      return mergeSource(t, k.tag, await lookup.exists(k.ref));
    });
    const first = siblings[0]!;
    const split = first.mergedTags.map(splitTag);
    const tags = split.map((s) => s.tag);
    if (promote) tags.push(promotedTag(promote, first));
    merges.push({
      product: productId,
      variant: variantName,
      image: split[0]?.image ?? first.product.product.doc.image,
      tags: [...new Set(tags)],
      sources: sources.sort((a, b) => (a.platform < b.platform ? -1 : a.platform > b.platform ? 1 : 0)),
    });
  }
  return merges;
}

/** The merge source of a target this run does not build: the image under its key, if trusted. */
function mergeSource(t: Target, keyTag: string, check: KeyCheck): MergeSource {
  const base = { target: t.name, platform: t.platform, keyTag };
  if (!check.found) return { ...base, status: 'missing' };
  if ('untrusted' in check) return { ...base, status: 'missing', untrusted: check.untrusted };
  return { ...base, status: 'existing', ...(check.digest ? { digest: check.digest } : {}) };
}

/** Every pool of the head factory, affected or not, with its build matrix; sorted by name. */
function planPools(head: ResolvedFactory, affected: readonly PlannedTarget[]): { pools: PlanPool[]; matrices: PlanResult['matrices'] } {
  const matrices: PlanResult['matrices'] = {};
  const pools: PlanPool[] = [];
  for (const pool of [...head.pools].sort((a, b) => (a.doc.name < b.doc.name ? -1 : a.doc.name > b.doc.name ? 1 : 0))) {
    const name = pool.doc.name;
    const mine = affected.filter((p) => p.pool === name);
    matrices[name] = { include: mine.filter((p) => p.status === 'build').map((p) => matrixEntry(p, head.policy.retention)) };
    const runsOn = pool.doc['runs-on'];
    const targets = head.targets.filter((t) => t.pool.doc.name === name).length;
    pools.push({
      name,
      slug: poolSlug(name),
      platform: pool.doc.platform,
      accelerator: pool.doc.accelerator,
      runsOn: typeof runsOn === 'string' ? [runsOn] : [...runsOn],
      targets,
      shards: poolShards(targets),
      build: matrices[name].include.length,
      skipped: mine.length - matrices[name].include.length,
    });
  }
  return { pools, matrices };
}

function matrixEntry(p: PlannedTarget, retention: Policy['retention']): MatrixEntry {
  const product = splitRef(p.product)!;
  return {
    target: p.target,
    id: p.id,
    product: p.product,
    variant: p.variant,
    platform: p.platform,
    arch: p.arch,
    pool: p.pool,
    image: p.image,
    key: p.key,
    'key-tag': p.keyTag,
    'bake-file': productBakeFile(product),
    'artifact-days': retention.productArtifactDays[product.name] ?? retention.poolArtifactDays[p.pool] ?? retention.artifactDays,
  };
}

/**
 * A dispatch limited to some platforms publishes lists that hold the other platforms too: the
 * images already in the registry under the same build key (the same inputs), so the list stays
 * whole for every consumer of its tags. When one of those is missing (never built, or its inputs
 * changed since), no list can be both whole and true to the inputs: a list of the built
 * platforms alone would drop the others from the tag, and an older image would mix inputs. The
 * release manager chooses, and the plan says so before an hour of building is spent.
 */
function refuseIncompleteLists(merges: MergeEntry[], platforms: string[]): void {
  const problems = merges.flatMap((m) => {
    const missing = m.sources.filter((s) => s.status === 'missing');
    if (missing.length === 0) return [];
    const what = missing
      .map(
        (s) =>
          `${s.platform} (target ${s.target}, ${s.untrusted ? `the image tagged ${s.keyTag} is not trusted: ${s.untrusted}` : `no image tagged ${s.keyTag}`})`,
      )
      .join(', ');
    return [`${m.image}:${m.tags[0]} also needs ${what}`];
  });
  if (problems.length === 0) return;
  const need = [...new Set(merges.flatMap((m) => m.sources.filter((s) => s.status === 'missing').map((s) => s.platform)))].sort();
  throw new PlanError(
    `--platforms ${platforms.join(',')} with push would publish incomplete manifest lists: ${problems.join('; ')}. ` +
      `The registry has no image of those platforms built from the same inputs, and a list without them would drop them from the tag. ` +
      `Dispatch again with platforms empty (every platform) or adding ${need.join(',')}, or with push off to build and test ${platforms.join(',')} only.`,
  );
}

/** `name=value` lines for $GITHUB_OUTPUT, named as the generated workflow reads them. */
export function githubOutputLines(result: PlanResult): string {
  const lines = [`${PLAN_OUTPUTS.build}=${result.build.length}`, `${PLAN_OUTPUTS.merges}=${result.merges.length}`];
  for (const pool of result.pools) {
    const chunks = splitLegs(result.matrices[pool.name]?.include ?? [], pool.shards);
    chunks.forEach((include, i) => {
      const names = poolOutputNames(pool.name, i + 1);
      lines.push(`${names.matrix}=${JSON.stringify({ include })}`);
      lines.push(`${names.count}=${include.length}`);
    });
  }
  return `${lines.join('\n')}\n`;
}

const short = (c: string): string => c.slice(0, 12);

/** Human-readable plan; `explain` adds every target's reason chains. */
export function formatPlan(result: PlanResult, opts: { explain?: boolean } = {}): string {
  const out: string[] = [];
  const range =
    result.mode === 'all'
      ? `every target at ${result.head.ref} (${short(result.head.commit)})`
      : `${result.base!.ref} (${short(result.base!.commit)}) .. ${result.head.ref} (${short(result.head.commit)}), ${result.changed.length} changed file(s)`;
  out.push(`plan: ${range}`);
  const s = result.summary;
  out.push(`${s.affected} of ${s.targets} target(s) affected: ${s.build} to build, ${s.skipped} already built${result.force ? ' (--force)' : ''}`);
  const width = Math.max(0, ...result.affected.map((p) => p.target.length));
  for (const p of result.affected) {
    const first = p.reasons[0]?.summary ?? '';
    const more = p.reasons.length > 1 ? ` (+${p.reasons.length - 1} more)` : '';
    out.push(`  ${p.status === 'build' ? 'build' : 'skip '}  ${p.target.padEnd(width)}  ${p.pool.padEnd(8)} ${first}${more}`);
    if (p.untrusted) out.push(`      rebuilt: ${p.keyRef} exists, but is not reused: ${p.untrusted}`);
    if (opts.explain) {
      if (p.status === 'skip') out.push(`      already built: ${p.keyRef}${p.digest ? ` (${p.digest}, signature verified)` : ''}`);
      for (const r of p.reasons) {
        out.push(`      because ${r.summary}:`);
        r.chain.forEach((step, i) => out.push(`        ${i === 0 ? '  ' : '-> '}${step}`));
      }
    }
  }
  for (const r of result.removed) out.push(`  gone   ${r.target} (${r.id} no longer exists)`);
  if (opts.explain && result.ignored.length > 0) {
    out.push('changed files that affect no target:');
    for (const i of result.ignored) out.push(`  ${i.path}: ${i.why}`);
  }
  for (const pool of result.pools) if (pool.build > 0) out.push(`pool ${pool.name} (${pool.runsOn.join(', ')}): ${pool.build} to build`);
  for (const w of result.warnings) out.push(`warning: ${w}`);
  return `${out.join('\n')}\n`;
}
