// Change detection, pure: the resolved factories of both revisions plus the changed files in,
// the affected targets (each with the reason chains that affect it) out.
//
// Targets are matched by bake target name between the revisions, and everything a target is
// made from is compared as parsed documents, not as files: editing one document of a multi-
// document manifest file affects that document's products only, a renamed file whose
// documents did not change affects nothing, and a comment-only edit affects nothing. The
// changed-file list classifies factory-wide and generated paths (src/core/path-classes.ts) and names the files
// behind each reason.
import { pinnedImage, refOf } from '../core/ids.js';
import { LOCK_PATH } from '../core/load.js';
import { dockerfilePath } from '../core/render.js';
import type { FragmentSource, Located, ResolvedFactory, Target, TemplateSource } from '../core/types.js';
import type { ChangedFile } from './git.js';
import { canonicalJson } from './key.js';
import { classifyPath } from '../core/path-classes.js';

export type ReasonKind =
  'requested' | 'factory-wide' | 'base-unavailable' | 'added' | 'product' | 'manifest' | 'template' | 'fragment' | 'base' | 'pool' | 'generated';

export interface Reason {
  kind: ReasonKind;
  /** One line, e.g. "fragment python@1.1.0 changed". */
  summary: string;
  /** From the change to the target, one step per line, for `--explain`. */
  chain: string[];
  /** Changed files behind the reason (repository paths). */
  files: string[];
}

export interface IgnoredFile {
  path: string;
  why: string;
}

export interface Detection {
  /** Target name -> reasons, for every affected head target. */
  affected: Map<string, Reason[]>;
  /** Targets of the base revision that no longer exist. */
  removed: { target: string; id: string }[];
  /** Changed files that affect no target, with why. */
  ignored: IgnoredFile[];
}

export interface DetectInput {
  head: ResolvedFactory;
  /** The base revision's factory; undefined when it could not be built (baseProblem says why). */
  base?: ResolvedFactory;
  baseProblem?: string;
  changed: ChangedFile[];
}

function describe(f: ChangedFile): string {
  return f.from ? `${f.from} -> ${f.path} (${f.status})` : `${f.path} (${f.status})`;
}

/** Top-level fields whose values differ, for "manifest x changed (fields: args, matrix)". */
function changedFields(a: object, b: object): string[] {
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  return [...keys].filter((k) => canonicalJson(ra[k]) !== canonicalJson(rb[k])).sort();
}

function same(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function targetSteps(t: Target): string[] {
  return [`product ${t.product.id}, variant ${t.variant.name}, ${t.platform}`, `target ${t.name}`];
}

export function detectAffected(input: DetectInput): Detection {
  const { head, base, changed } = input;
  const tally = new Tally(changed);
  addFactoryWide(tally, head, changed);
  if (!base) addBaseUnavailable(tally, head, input.baseProblem);
  else compareFactories(tally, head, base);
  addGeneratedEdits(tally, head, changed);
  const headNames = new Set(head.targets.map((t) => t.name));
  const removed = (base?.targets ?? []).filter((t) => !headNames.has(t.name)).map((t) => ({ target: t.name, id: t.id }));
  return { affected: tally.affected, removed, ignored: ignoredFiles(changed, tally.used) };
}

/** The affected targets with their reasons (each summary once), and the changed files some reason names. */
class Tally {
  readonly affected = new Map<string, Reason[]>();
  readonly used = new Set<string>();
  constructor(private readonly changed: ChangedFile[]) {}

  add(t: Target, reason: Reason): void {
    const list = this.affected.get(t.name) ?? [];
    if (!list.some((r) => r.summary === reason.summary)) list.push(reason);
    this.affected.set(t.name, list);
    for (const f of reason.files) this.used.add(f);
  }

  /** Changed files under a directory (a renamed file by either path). */
  filesUnder(dir: string): ChangedFile[] {
    return this.changed.filter((f) => f.path.startsWith(`${dir}/`) || (f.from !== undefined && f.from.startsWith(`${dir}/`)));
  }

  filesAt(path: string): ChangedFile[] {
    return this.changed.filter((f) => f.path === path || f.from === path);
  }

  /** The repository paths of changed files, a rename's both, sorted. */
  pathsOf(fs: ChangedFile[]): string[] {
    return [...new Set(fs.flatMap((f) => (f.from ? [f.path, f.from] : [f.path])))].sort();
  }
}

function addFactoryWide(tally: Tally, head: ResolvedFactory, changed: ChangedFile[]): void {
  const factoryWide = changed.filter((f) => classifyPath(f.path) === 'factory-wide' || (f.from && classifyPath(f.from) === 'factory-wide'));
  if (factoryWide.length === 0) return;
  const summary =
    factoryWide.length === 1
      ? `factory-wide file ${factoryWide[0]!.path} changed`
      : `${factoryWide.length} factory-wide files changed (${factoryWide[0]!.path}, ...)`;
  for (const t of head.targets) {
    tally.add(t, {
      kind: 'factory-wide',
      summary,
      chain: [...factoryWide.map(describe), 'factory-wide: can change how every target is generated or built', ...targetSteps(t)],
      files: factoryWide.map((f) => f.path),
    });
  }
}

function addBaseUnavailable(tally: Tally, head: ResolvedFactory, baseProblem: string | undefined): void {
  for (const t of head.targets) {
    tally.add(t, {
      kind: 'base-unavailable',
      summary: 'the base revision cannot be compared',
      chain: [baseProblem ?? 'the base revision has no factory', 'every target is planned', ...targetSteps(t)],
      files: [],
    });
  }
}

/** Rendered Dockerfiles are generated, but a hand edit to one must not go unbuilt. */
function addGeneratedEdits(tally: Tally, head: ResolvedFactory, changed: ChangedFile[]): void {
  const byDir = new Map<string, Target[]>();
  for (const t of head.targets) {
    const dir = dockerfilePath(t.product, t.variant).replace(/\/Dockerfile$/, '/');
    byDir.set(dir, [...(byDir.get(dir) ?? []), t]);
  }
  for (const f of changed.filter((c) => classifyPath(c.path) === 'generated')) {
    const dir = [...byDir.keys()].find((d) => f.path.startsWith(d));
    if (!dir) continue;
    for (const t of byDir.get(dir)!) {
      tally.add(t, {
        kind: 'generated',
        summary: `generated file ${f.path} changed`,
        chain: [describe(f), `generated for variant ${t.variant.name} of ${t.product.id}`, ...targetSteps(t)],
        files: [f.path],
      });
    }
  }
}

/** Changed files no reason names, with why, sorted by path. */
function ignoredFiles(changed: ChangedFile[], used: ReadonlySet<string>): IgnoredFile[] {
  const ignored: IgnoredFile[] = [];
  for (const f of changed) {
    if (used.has(f.path)) continue;
    const cls = classifyPath(f.path);
    const why =
      cls === 'other'
        ? 'not a factory input'
        : cls === 'generated'
          ? 'generated from the sources (factory generate --check keeps it in sync); no target maps to it'
          : cls === 'factory-wide'
            ? 'factory-wide, but the factory has no targets'
            : 'no target depends on what changed here';
    ignored.push({ path: f.path, why });
  }
  return ignored.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function located(l: Located<unknown>): string {
  return `${l.file}:${l.location.line}`;
}

function compareFactories(tally: Tally, head: ResolvedFactory, base: ResolvedFactory): void {
  const baseTargets = new Map(base.targets.map((t) => [t.name, t]));
  const baseProducts = new Set(base.products.map((p) => p.product.doc.name));
  for (const t of head.targets) {
    const b = baseTargets.get(t.name);
    if (!b) {
      addNewTarget(tally, t, baseProducts);
      continue;
    }
    compareDocuments(tally, t, b);
    compareTemplate(tally, t, t.product.template, b.product.template);
    const baseFragments = new Map(b.product.fragments.map((f) => [refOf(f.meta.doc), f]));
    for (const f of t.product.fragments) {
      const bf = baseFragments.get(refOf(f.meta.doc));
      if (bf && bf.digest !== f.digest) compareFragment(tally, t, f);
      // A version the base did not use comes with the manifest change reported above; its own
      // files (often new in the same commit) and its lock entry are that change too.
      if (!bf) adopted(tally, t, 'fragment', f);
    }
    if (refOf(t.product.template.meta.doc) !== refOf(b.product.template.meta.doc)) adopted(tally, t, 'template', t.product.template);
    compareBase(tally, head, t, b);
    comparePool(tally, t, b);
  }
}

function addNewTarget(tally: Tally, t: Target, baseProducts: ReadonlySet<string>): void {
  const productFile = tally.filesAt(t.product.product.file);
  const what = baseProducts.has(t.product.product.doc.name)
    ? `${t.platform} or variant ${t.variant.name} added to ${t.product.id}`
    : `product ${t.product.id} added`;
  tally.add(t, {
    kind: 'added',
    summary: `new target: ${what}`,
    chain: [`${located(t.product.product)}: ${what}`, ...targetSteps(t)],
    files: tally.pathsOf(productFile.length > 0 ? productFile : tally.filesAt(t.product.manifest.file)),
  });
}

/** The target's product and manifest documents. */
function compareDocuments(tally: Tally, t: Target, b: Target): void {
  const hp = t.product;
  const bp = b.product;
  if (!same(hp.product.doc, bp.product.doc)) {
    const fields = changedFields(hp.product.doc, bp.product.doc);
    tally.add(t, {
      kind: 'product',
      summary: `product ${hp.id} changed (${fields.join(', ')})`,
      chain: [`${located(hp.product)}: product ${hp.id} changed: ${fields.join(', ')}`, ...targetSteps(t)],
      files: tally.pathsOf([...tally.filesAt(hp.product.file), ...tally.filesAt(bp.product.file)]),
    });
  }
  if (!same(hp.manifest.doc, bp.manifest.doc)) {
    const fields = changedFields(hp.manifest.doc, bp.manifest.doc);
    const mref = refOf(hp.manifest.doc);
    tally.add(t, {
      kind: 'manifest',
      summary: `manifest ${mref} changed (${fields.join(', ')})`,
      chain: [`${located(hp.manifest)}: manifest ${mref} changed: ${fields.join(', ')}`, `product ${hp.id} uses manifest ${mref}`, ...targetSteps(t)],
      files: tally.pathsOf([...tally.filesAt(hp.manifest.file), ...tally.filesAt(bp.manifest.file)]),
    });
  }
}

function compareBase(tally: Tally, head: ResolvedFactory, t: Target, b: Target): void {
  const hp = t.product;
  const bp = b.product;
  if (same(hp.base, bp.base)) return;
  const what =
    hp.base.name !== bp.base.name
      ? `base ${bp.base.name} replaced by ${hp.base.name}`
      : `base ${hp.base.name} changed: ${pinnedImage(bp.base.image, bp.base.digest)} -> ${pinnedImage(hp.base.image, hp.base.digest)}`;
  const baseDoc = head.loaded.bases.find((x) => x.doc.name === hp.base.name);
  tally.add(t, {
    kind: 'base',
    summary: what,
    chain: [what, `template ${refOf(hp.template.meta.doc)} / manifest ${refOf(hp.manifest.doc)} of ${hp.id} builds on it`, ...targetSteps(t)],
    files: tally.pathsOf([...(baseDoc ? tally.filesAt(baseDoc.file) : []), ...tally.filesAt('factory.lock.json')]),
  });
}

function comparePool(tally: Tally, t: Target, b: Target): void {
  if (t.pool.doc.name !== b.pool.doc.name) {
    tally.add(t, {
      kind: 'pool',
      summary: `moved from pool ${b.pool.doc.name} to pool ${t.pool.doc.name}`,
      chain: [`${located(t.pool)}: pool ${t.pool.doc.name} now takes ${t.platform}/${t.accelerator} targets (was ${b.pool.doc.name})`, ...targetSteps(t)],
      files: tally.pathsOf([...tally.filesAt(t.pool.file), ...tally.filesAt(b.pool.file)]),
    });
  } else if (!same(t.pool.doc, b.pool.doc)) {
    const fields = changedFields(t.pool.doc, b.pool.doc);
    tally.add(t, {
      kind: 'pool',
      summary: `pool ${t.pool.doc.name} changed (${fields.join(', ')})`,
      chain: [`${located(t.pool)}: pool ${t.pool.doc.name} changed: ${fields.join(', ')}`, `the target runs in pool ${t.pool.doc.name}`, ...targetSteps(t)],
      files: tally.pathsOf([...tally.filesAt(t.pool.file), ...tally.filesAt(b.pool.file)]),
    });
  }
}

function compareTemplate(tally: Tally, t: Target, h: TemplateSource, b: TemplateSource): void {
  // A different template version comes from a manifest change, reported as such.
  if (refOf(h.meta.doc) !== refOf(b.meta.doc) || h.digest === b.digest) return;
  const files = tally.filesUnder(h.dir);
  const tref = refOf(h.meta.doc);
  tally.add(t, {
    kind: 'template',
    summary: `template ${tref} changed`,
    chain: [
      ...(files.length > 0 ? files.map(describe) : [`${h.dir}/ content changed`]),
      `template ${tref}`,
      `manifest ${refOf(t.product.manifest.doc)} uses template ${tref}`,
      ...targetSteps(t),
    ],
    files: tally.pathsOf(files),
  });
}

/** A template or fragment version a target takes up in this change (a manifest now pins it). */
function adopted(tally: Tally, t: Target, kind: 'template' | 'fragment', src: TemplateSource | FragmentSource): void {
  const files = [...tally.filesUnder(src.dir), ...tally.filesAt(LOCK_PATH)];
  const sref = refOf(src.meta.doc);
  tally.add(t, {
    kind,
    summary: `adopts ${kind} ${sref}`,
    chain: [
      ...(files.length > 0 ? files.map(describe) : [`${src.dir}/ (unchanged, already in the base revision)`]),
      `${kind} ${sref}`,
      `manifest ${refOf(t.product.manifest.doc)} now uses ${kind} ${sref}`,
      ...targetSteps(t),
    ],
    files: tally.pathsOf(files),
  });
}

function compareFragment(tally: Tally, t: Target, f: FragmentSource): void {
  const files = tally.filesUnder(f.dir);
  const fref = refOf(f.meta.doc);
  tally.add(t, {
    kind: 'fragment',
    summary: `fragment ${fref} changed`,
    chain: [
      ...(files.length > 0 ? files.map(describe) : [`${f.dir}/ content changed`]),
      `fragment ${fref}`,
      `manifest ${refOf(t.product.manifest.doc)} uses fragment ${fref}`,
      ...targetSteps(t),
    ],
    files: tally.pathsOf(files),
  });
}
