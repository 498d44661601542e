// Step 2 of the pipeline: LoadedFactory -> ResolvedFactory. Checks every reference (templates,
// fragments, bases, manifests, pools), slots, requirements, cycles, platforms/accelerators,
// paths and lock digests, then expands matrices into variants and variants x platforms into
// targets. Reports every problem it can find in one pass.
import { closeMatches, didYouMean, error, hasErrors, sortDiagnostics } from './diagnostics.js';
import { archOf, refOf, splitRef, targetName, variantId, variantName } from './ids.js';
import { FailedDocuments, type DocumentKind } from './failed-documents.js';
import { lockDigestErrors } from './lock.js';
import { snippetSourceProblems } from './dockerfile-check.js';
import type {
  Base,
  Diagnostic,
  FragmentSource,
  LoadedFactory,
  Located,
  Manifest,
  PlatformName,
  Pool,
  Product,
  ResolvedFactory,
  ResolvedProduct,
  SourceLocation,
  Target,
  TemplateSource,
  Variant,
} from './types.js';
import { NAME_RE, Policy as PolicySchema, RESERVED_ARGS, USER_ARG_RE, type Policy } from './schema.js';

const SAFE_VALUE_RE = /^[A-Za-z0-9][A-Za-z0-9._:/@+=,-]*$/;
// Docker's tag grammar.
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const MATRIX_REF_RE = /\{matrix\.([a-z][a-z0-9_]*)\}/g;
// Keeps a pathological matrix from producing millions of variants.
const MAX_VARIANTS = 4096;
// A variant name is a directory under build/ (255 bytes at most on every file system) and goes
// into tags (128 characters at most); matrix values are ASCII, so characters are bytes.
const VARIANT_MAX = 128;

export interface ResolveOptions {
  /** Documents that exist but failed to load (from `loadDetailed`): references to them are not reported again as unknown. */
  failed?: FailedDocuments;
}

export function resolve(loaded: LoadedFactory, opts: ResolveOptions = {}): { factory?: ResolvedFactory; diagnostics: Diagnostic[] } {
  const r = new Resolver(loaded, opts.failed ?? new FailedDocuments());
  r.run();
  const diagnostics = sortDiagnostics(r.diagnostics);
  if (hasErrors(diagnostics)) return { diagnostics };
  return { factory: { loaded, products: r.products, targets: r.targets, pools: r.poolList, policy: r.policy }, diagnostics };
}

interface ResolvedManifest {
  manifest: Located<Manifest>;
  template: TemplateSource;
  fragments: FragmentSource[];
  base: Located<Base>;
  variants: Variant[];
}

function sameLocation(a: SourceLocation, b: SourceLocation): boolean {
  return a.file === b.file && a.line === b.line && a.column === b.column;
}

function at(l: SourceLocation): string {
  return `${l.file}:${l.line}:${l.column}`;
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

class Resolver {
  readonly diagnostics: Diagnostic[] = [];
  products: ResolvedProduct[] = [];
  targets: Target[] = [];
  poolList: Located<Pool>[] = [];
  policy: Policy = PolicySchema.parse({ kind: 'Policy' });

  private readonly templates = new Map<string, TemplateSource>();
  private readonly fragments = new Map<string, FragmentSource>();
  private readonly fragmentVersions = new Map<string, string[]>();
  private readonly templateVersions = new Map<string, string[]>();
  private readonly manifests = new Map<string, Located<Manifest>>();
  private readonly bases = new Map<string, Located<Base>>();
  private readonly resolvedManifests = new Map<string, ResolvedManifest | undefined>();
  /** Fragment names on a requirement cycle: their ordering errors are reported as the cycle. */
  private readonly inCycle = new Set<string>();

  constructor(
    private readonly loaded: LoadedFactory,
    private readonly failed: FailedDocuments,
  ) {}

  /** Whether a reference may point at a document that failed to load (already reported). */
  private failedToLoad(kind: DocumentKind, ref: string): boolean {
    return this.failed.has(kind, ref);
  }

  run(): void {
    this.index();
    this.diagnostics.push(...lockDigestErrors(this.loaded));
    this.checkTemplates();
    this.checkFragments();
    this.checkPools();
    for (const m of this.manifests.values()) this.resolvedManifests.set(refOf(m.doc), this.resolveManifest(m));
    const seenProducts = new Map<string, Located<Product>>();
    for (const p of this.loaded.products) {
      const id = refOf(p.doc);
      const first = seenProducts.get(id);
      if (first) {
        this.duplicate('product', id, p, first);
        continue;
      }
      seenProducts.set(id, p);
      const rp = this.resolveProduct(p);
      if (rp) this.products.push(rp);
    }
    this.products.sort((a, b) => byString(a.id, b.id));
    this.checkTargetCollisions();
    this.checkTagCollisions();
    this.targets.sort((a, b) => byString(a.name, b.name));
  }

  private err(code: string, message: string, location: SourceLocation, field?: string, hint?: string): void {
    this.diagnostics.push(error(code, message, { location, ...(field !== undefined ? { field } : {}), ...(hint !== undefined ? { hint } : {}) }));
  }

  private duplicate(kind: string, id: string, later: Located<unknown>, first: Located<unknown>): void {
    this.err(
      'duplicate-id',
      `${kind} "${id}" is defined twice`,
      later.locate(['name']),
      'name',
      // Pools and bases have no version: a new version is no way out for them.
      `first defined at ${at(first.locate(['name']))}; ${id.includes('@') ? 'rename one or give it a new version' : 'rename one or remove it'}`,
    );
  }

  // -------------------------------------------------------------------------------- indexes

  private index(): void {
    for (const t of this.loaded.templates) {
      this.templates.set(refOf(t.meta.doc), t);
      pushTo(this.templateVersions, t.meta.doc.name, t.meta.doc.version);
    }
    for (const f of this.loaded.fragments) {
      this.fragments.set(refOf(f.meta.doc), f);
      pushTo(this.fragmentVersions, f.meta.doc.name, f.meta.doc.version);
    }
    for (const m of this.loaded.manifests) {
      const id = refOf(m.doc);
      const first = this.manifests.get(id);
      if (first) this.duplicate('manifest', id, m, first);
      else this.manifests.set(id, m);
    }
    for (const b of this.loaded.bases) {
      const first = this.bases.get(b.doc.name);
      if (first) this.duplicate('base', b.doc.name, b, first);
      else this.bases.set(b.doc.name, b);
    }
    const pools = new Map<string, Located<Pool>>();
    for (const p of this.loaded.pools) {
      const first = pools.get(p.doc.name);
      if (first) this.duplicate('pool', p.doc.name, p, first);
      else pools.set(p.doc.name, p);
    }
    this.poolList = [...pools.values()].sort((a, b) => byString(a.doc.name, b.doc.name));
    const [policy, ...extra] = this.loaded.policies;
    for (const p of extra) {
      this.err(
        'duplicate-policy',
        'a factory has one Policy document',
        p.locate(['kind']),
        'kind',
        `merge its settings into the Policy at ${at(policy!.locate(['kind']))}`,
      );
    }
    if (policy) {
      this.policy = policy.doc;
      // A retention setting for a pool or product that does not exist would silently never apply.
      const products = new Set(this.loaded.products.map((x) => x.doc.name));
      this.unknownRetentionNames(policy, 'poolArtifactDays', 'pool', 'Pool', new Set(pools.keys()));
      this.unknownRetentionNames(policy, 'productArtifactDays', 'product', 'Product', products);
    }
  }

  private unknownRetentionNames(
    policy: Located<Policy>,
    field: 'poolArtifactDays' | 'productArtifactDays',
    what: 'pool' | 'product',
    kind: string,
    known: ReadonlySet<string>,
  ): void {
    for (const name of Object.keys(policy.doc.retention[field])) {
      if (known.has(name)) continue;
      this.err(
        `unknown-${what}`,
        `retention.${field} names ${what} "${name}", which no ${kind} document defines`,
        policy.locate(['retention', field, name]),
        `retention.${field}.${name}`,
        `use one of: ${[...known].sort().join(', ') || `(no ${what}s)`}`,
      );
    }
  }

  /** Reports an unknown `name@version` reference, listing the versions that do exist. */
  private unknownRef(kind: 'template' | 'fragment' | 'manifest', ref: string, versions: Map<string, string[]>, loc: SourceLocation, field: string): void {
    if (this.failedToLoad(kind, ref)) return;
    const parts = splitRef(ref);
    const name = parts?.name ?? ref;
    const existing = versions.get(name);
    if (existing && existing.length > 0) {
      this.err(
        `unknown-${kind}`,
        `${kind} "${name}" has no version ${parts?.version ?? ''}`,
        loc,
        field,
        `versions that exist: ${sortVersions(existing).join(', ')}`,
      );
      return;
    }
    const near = closeMatches(name, [...versions.keys()]);
    this.err(
      `unknown-${kind}`,
      `unknown ${kind} "${ref}"`,
      loc,
      field,
      near.length > 0
        ? `did you mean ${near.map((n) => `"${n}@${sortVersions(versions.get(n) ?? []).at(-1) ?? ''}"`).join(' or ')}?`
        : kind === 'manifest'
          ? // Manifests are documents in manifests/*.yaml; templates and fragments are directories.
            `no manifest named "${name}" exists; add a document "kind: Manifest", "name: ${name}", "version: ${ref.slice(name.length + 1) || '<version>'}" to a file in manifests/`
          : `no ${kind} named "${name}" exists; create ${kind}s/${name}/<version>/`,
    );
  }

  private unknownBase(name: string, loc: SourceLocation, field: string): void {
    if (this.failedToLoad('base', name)) return;
    const near = closeMatches(name, [...this.bases.keys()]);
    this.err(
      'unknown-base',
      `unknown base "${name}"`,
      loc,
      field,
      near.length > 0
        ? `did you mean ${near.map((n) => `"${n}"`).join(' or ')}?`
        : `add a "kind: Base" document named ${name} under manifests/ (known: ${[...this.bases.keys()].sort().join(', ') || 'none'})`,
    );
  }

  // -------------------------------------------------------------------------------- templates, fragments, pools

  private checkTemplates(): void {
    for (const t of this.loaded.templates) {
      const doc = t.meta.doc;
      if (!this.bases.has(doc.base)) this.unknownBase(doc.base, t.meta.locate(['base']), 'base');
      this.checkSnippetPaths({ dir: t.dir, snippet: t.dockerfile, files: t.files }, 'template');
      const seen = new Set<string>();
      doc.slots.forEach((s, i) => {
        if (seen.has(s)) this.err('duplicate-slot', `slot "${s}" is listed twice`, t.meta.locate(['slots', i]), `slots[${i}]`, 'list each slot once');
        seen.add(s);
      });
      const written = !sameLocation(t.meta.locate(['platforms']), t.meta.location);
      for (const [i, p] of doc.platforms.entries()) {
        const base = this.bases.get(doc.base);
        if (base && !base.doc.platforms.includes(p)) {
          this.err(
            'unsupported-platform',
            `template ${refOf(doc)} ${written ? 'lists' : 'defaults to'} ${p} but its base "${base.doc.name}" does not support it`,
            written ? t.meta.locate(['platforms', i]) : t.meta.locate(['base']),
            written ? `platforms[${i}]` : 'platforms',
            `${written ? `drop ${p} here` : `set platforms: [${doc.platforms.filter((x) => base.doc.platforms.includes(x)).join(', ')}]`} or add ${p} to the base's platforms (${at(base.locate(['platforms']))})`,
          );
        }
      }
    }
  }

  private checkFragments(): void {
    const names = [...this.fragmentVersions.keys()];
    for (const f of this.loaded.fragments) {
      const doc = f.meta.doc;
      doc.requires.forEach((req, i) => {
        if (!this.fragmentVersions.has(req) && !this.failedToLoad('fragment', `${req}@*`)) {
          const near = closeMatches(req, names);
          this.err(
            'unknown-fragment',
            `${refOf(doc)} requires "${req}", which is not a fragment`,
            f.meta.locate(['requires', i]),
            `requires[${i}]`,
            near.length > 0 ? `did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : 'requires lists fragment names (without version)',
          );
        }
      });
      this.checkSnippetPaths(f, 'fragment');
    }
    this.findCycles();
  }

  /** Requirement cycles between fragment names (edges from every version). */
  private findCycles(): void {
    const edges = new Map<string, { to: string; from: FragmentSource; index: number }[]>();
    for (const f of this.loaded.fragments) {
      f.meta.doc.requires.forEach((to, index) => pushTo(edges, f.meta.doc.name, { to, from: f, index }));
    }
    const state = new Map<string, 'active' | 'done'>();
    const stack: string[] = [];
    const reported = new Set<string>();
    const visitNode = (n: string): void => {
      state.set(n, 'active');
      stack.push(n);
      for (const e of [...(edges.get(n) ?? [])].sort((a, b) => byString(a.to, b.to))) {
        const s = state.get(e.to);
        if (s === 'active') {
          const cycle = [...stack.slice(stack.indexOf(e.to)), e.to];
          const key = [...new Set(cycle)].sort().join(',');
          for (const c of cycle) this.inCycle.add(c);
          if (!reported.has(key)) {
            reported.add(key);
            this.err(
              'cycle',
              `requirement cycle: ${cycle.join(' -> ')}`,
              e.from.meta.locate(['requires', e.index]),
              `requires[${e.index}]`,
              `remove one of these requirements; a fragment cannot (indirectly) require itself`,
            );
          }
        } else if (s === undefined && this.fragmentVersions.has(e.to)) visitNode(e.to);
      }
      stack.pop();
      state.set(n, 'done');
    };
    for (const n of [...edges.keys()].sort()) if (!state.has(n)) visitNode(n);
  }

  /**
   * COPY/ADD and RUN --mount=type=bind sources of a snippet are resolved against the fragment's
   * version directory and must stay under its files/: anything else would read outside what the
   * lock digests. In a template, sources must not leave the template's directory. Lines with EJS
   * tags are checked once rendered (render.ts).
   */
  private checkSnippetPaths(f: { dir: string; snippet: { path: string; text: string }; files: { path: string }[] }, kind: 'template' | 'fragment'): void {
    const present = f.files.map((x) => x.path.slice(f.dir.length + 1));
    this.diagnostics.push(...snippetSourceProblems(f.snippet.path, f.snippet.text, { kind, dir: f.dir, present }));
  }

  private checkPools(): void {
    const seen = new Map<string, Located<Pool>>();
    for (const p of this.poolList) {
      const key = `${p.doc.platform} ${p.doc.accelerator}`;
      const first = seen.get(key);
      if (first) {
        this.err(
          'ambiguous-pool',
          `pools "${first.doc.name}" and "${p.doc.name}" both serve ${p.doc.platform} with accelerator ${p.doc.accelerator}`,
          p.locate(['platform']),
          'platform',
          `keep one pool per platform and accelerator (the other is at ${at(first.location)})`,
        );
      } else seen.set(key, p);
    }
  }

  private poolFor(platform: PlatformName, accelerator: string): Located<Pool> | undefined {
    return this.poolList.find((p) => p.doc.platform === platform && p.doc.accelerator === accelerator);
  }

  // -------------------------------------------------------------------------------- manifests

  private resolveManifest(m: Located<Manifest>): ResolvedManifest | undefined {
    const doc = m.doc;
    const template = this.templates.get(doc.template);
    if (!template) this.unknownRef('template', doc.template, this.templateVersions, m.locate(['template']), 'template');
    const frags = this.manifestFragments(m);
    const position = new Map<string, number>();
    // Every check runs (each reports its own problems) before the verdict.
    const checks = [
      this.checkFragmentNamesOnce(m, position),
      template ? this.checkSlotOrder(m, template, frags) : true,
      this.checkRequirements(m, frags, position),
    ];
    const base = this.manifestBase(m, template);
    const known = frags.filter((f): f is FragmentSource => f !== undefined);
    const variants = this.expandMatrix(m, known, known.length === frags.length);
    if (!template || known.length !== frags.length || checks.includes(false) || !base || !variants) return undefined;
    if (!this.checkUserArg(m, template, variants)) return undefined;
    return { manifest: m, template, fragments: known, base, variants };
  }

  /** A template `user: {args.NAME}` needs that arg in every variant, with a user name for value. */
  private checkUserArg(m: Located<Manifest>, template: TemplateSource, variants: readonly Variant[]): boolean {
    const arg = USER_ARG_RE.exec(template.meta.doc.user ?? '')?.[1];
    if (arg === undefined) return true;
    const loc = template.meta.locate(['user']);
    for (const v of variants) {
      const value = v.args[arg];
      const problem =
        value === undefined
          ? `user ${template.meta.doc.user}: no fragment of manifest ${refOf(m.doc)} declares build arg ${arg}`
          : NAME_RE.test(value)
            ? undefined
            : `user ${template.meta.doc.user} is "${value}" in variant ${v.name} of manifest ${refOf(m.doc)}, which is not a user name`;
      if (problem === undefined) continue;
      this.err(
        'bad-user',
        problem,
        loc,
        'user',
        value === undefined
          ? `declare ${arg} with a default in the args: of a fragment the manifest uses`
          : 'a user name is lower-case letters, digits, ".", "_" or "-"',
      );
      return false;
    }
    return true;
  }

  /** The manifest's fragments in its order; an unknown one is reported and left undefined. */
  private manifestFragments(m: Located<Manifest>): (FragmentSource | undefined)[] {
    return m.doc.fragments.map((ref, i) => {
      const f = this.fragments.get(ref);
      if (!f) this.unknownRef('fragment', ref, this.fragmentVersions, m.locate(['fragments', i]), `fragments[${i}]`);
      return f;
    });
  }

  /** Each fragment name once: two versions of one fragment in one image would fight. Fills `position` (name -> index). */
  private checkFragmentNamesOnce(m: Located<Manifest>, position: Map<string, number>): boolean {
    let ok = true;
    m.doc.fragments.forEach((ref, i) => {
      // Unresolved entries count too: their own error is enough, requirements on them are met.
      const name = splitRef(ref)?.name ?? ref;
      const prev = position.get(name);
      if (prev !== undefined) {
        this.err(
          'duplicate-fragment',
          `fragment "${name}" is listed twice (fragments[${prev}] and fragments[${i}])`,
          m.locate(['fragments', i]),
          `fragments[${i}]`,
          'keep one version of each fragment',
        );
        ok = false;
      } else position.set(name, i);
    });
    return ok;
  }

  /** Every fragment fills a slot of the template, listed in the template's slot order. */
  private checkSlotOrder(m: Located<Manifest>, template: TemplateSource, frags: (FragmentSource | undefined)[]): boolean {
    const slots = template.meta.doc.slots;
    let ok = true;
    let maxSlot = -1;
    let maxAt = -1;
    frags.forEach((f, i) => {
      if (!f) return;
      const slot = f.meta.doc.slot;
      const si = slots.indexOf(slot);
      if (si < 0) {
        this.err(
          'unknown-slot',
          `fragment ${refOf(f.meta.doc)} fills slot "${slot}", which template ${m.doc.template} does not have`,
          m.locate(['fragments', i]),
          `fragments[${i}]`,
          `the template's slots are: ${slots.join(', ')} (${at(template.meta.locate(['slots']))})`,
        );
        ok = false;
        return;
      }
      if (si < maxSlot) {
        const prevFrag = frags[maxAt]!;
        this.err(
          'slot-order',
          `fragment ${refOf(f.meta.doc)} (slot "${slot}") comes after ${refOf(prevFrag.meta.doc)} (slot "${slots[maxSlot]}")`,
          m.locate(['fragments', i]),
          `fragments[${i}]`,
          `list fragments in the template's slot order: ${slots.join(', ')}`,
        );
        ok = false;
      } else {
        maxSlot = si;
        maxAt = i;
      }
    });
    return ok;
  }

  /** What each fragment requires is in the manifest, before it. */
  private checkRequirements(m: Located<Manifest>, frags: (FragmentSource | undefined)[], position: Map<string, number>): boolean {
    let ok = true;
    frags.forEach((f, i) => {
      if (!f) return;
      for (const req of f.meta.doc.requires) {
        if (!this.fragmentVersions.has(req)) continue; // reported at the fragment
        if (this.inCycle.has(req) && this.inCycle.has(f.meta.doc.name)) continue; // reported as the cycle
        const j = position.get(req);
        if (j === undefined) {
          const latest = sortVersions(this.fragmentVersions.get(req) ?? []).at(-1);
          this.err(
            'unmet-requirement',
            `${refOf(f.meta.doc)} requires fragment "${req}", which this manifest does not include`,
            m.locate(['fragments', i]),
            `fragments[${i}]`,
            `add "${req}@${latest ?? '<version>'}" before fragments[${i}]`,
          );
          ok = false;
        } else if (j > i) {
          this.err(
            'unmet-requirement',
            `${refOf(f.meta.doc)} requires "${req}", which comes after it (fragments[${j}])`,
            m.locate(['fragments', i]),
            `fragments[${i}]`,
            `move ${m.doc.fragments[j]} before ${m.doc.fragments[i]}`,
          );
          ok = false;
        }
      }
    });
    return ok;
  }

  /** The manifest's own base, else its template's; an unknown one is reported (the template's at the template). */
  private manifestBase(m: Located<Manifest>, template: TemplateSource | undefined): Located<Base> | undefined {
    if (m.doc.base !== undefined) {
      const base = this.bases.get(m.doc.base);
      if (!base) this.unknownBase(m.doc.base, m.locate(['base']), 'base');
      return base;
    }
    return template ? this.bases.get(template.meta.doc.base) : undefined;
  }

  /** `complete`: every fragment of the manifest resolved, so the args they declare are all known. */
  private expandMatrix(m: Located<Manifest>, frags: FragmentSource[], complete: boolean): Variant[] | undefined {
    const points = this.matrixPoints(m);
    if (!points) return undefined;
    // Fragment defaults (in build order, later wins) < manifest args.
    const defaults: Record<string, string> = {};
    for (const f of frags) Object.assign(defaults, f.meta.doc.args ?? {});
    // Every check runs (each reports its own problems) before the verdict.
    const checks = [this.checkMatrixRefs(m), this.checkReservedArgs(m, frags), complete ? this.checkArgsDeclared(m, defaults) : true];
    if (checks.includes(false)) return undefined;
    return this.variantsOf(m, points, defaults);
  }

  /** The matrix's points (keys sorted, the first key varying slowest); undefined when there are too many. */
  private matrixPoints(m: Located<Manifest>): Record<string, string>[] | undefined {
    const matrix = m.doc.matrix ?? {};
    const keys = Object.keys(matrix).sort();
    let count = 1;
    for (const k of keys) count *= matrix[k]!.length;
    if (count > MAX_VARIANTS) {
      this.err(
        'matrix-too-large',
        `the matrix expands into ${count} variants (limit ${MAX_VARIANTS})`,
        m.locate(['matrix']),
        'matrix',
        'split the manifest or drop matrix values',
      );
      return undefined;
    }
    let points: Record<string, string>[] = [{}];
    for (const k of keys) {
      const next: Record<string, string>[] = [];
      for (const p of points) for (const v of matrix[k]!) next.push({ ...p, [k]: v });
      points = next;
    }
    return points;
  }

  /** Every `{matrix.KEY}` in the manifest's args names a key of its matrix. */
  private checkMatrixRefs(m: Located<Manifest>): boolean {
    const matrix = m.doc.matrix ?? {};
    const keys = Object.keys(matrix).sort();
    let ok = true;
    for (const [name, value] of Object.entries(m.doc.args ?? {})) {
      for (const ref of value.matchAll(MATRIX_REF_RE)) {
        if (!(ref[1]! in matrix)) {
          this.err(
            'bad-matrix-ref',
            `args.${name} refers to {matrix.${ref[1]}}, which the matrix does not define`,
            m.locate(['args', name]),
            `args.${name}`,
            keys.length > 0 ? `matrix keys: ${keys.join(', ')}` : 'add a matrix or write the value out',
          );
          ok = false;
        }
      }
    }
    return ok;
  }

  /**
   * No fragment or manifest sets a build arg the factory sets itself. Also checked by bake, but
   * only `generate` gets there: here `validate` reports it too.
   */
  private checkReservedArgs(m: Located<Manifest>, frags: FragmentSource[]): boolean {
    let ok = true;
    for (const f of frags) {
      for (const name of Object.keys(f.meta.doc.args ?? {})) {
        if (RESERVED_ARGS.has(name)) {
          this.err(
            'reserved-arg',
            `build arg ${name} is set by the factory and cannot be set by a fragment`,
            f.meta.locate(['args', name]),
            `args.${name}`,
            'rename the arg',
          );
          ok = false;
        }
      }
    }
    for (const name of Object.keys(m.doc.args ?? {})) {
      if (RESERVED_ARGS.has(name)) {
        this.err(
          'reserved-arg',
          `build arg ${name} is set by the factory and cannot be set by a manifest`,
          m.locate(['args', name]),
          `args.${name}`,
          'rename the arg',
        );
        ok = false;
      }
    }
    return ok;
  }

  /**
   * Only fragments declare build args (templates have no args:); a manifest key none of them
   * declares would reach no ARG, so the build would silently ignore it.
   */
  private checkArgsDeclared(m: Located<Manifest>, defaults: Record<string, string>): boolean {
    let ok = true;
    const declared = Object.keys(defaults).sort();
    for (const name of Object.keys(m.doc.args ?? {})) {
      if (name in defaults || RESERVED_ARGS.has(name)) continue;
      const hint = [
        didYouMean(name, declared),
        declared.length > 0 ? `the fragments of this manifest declare: ${declared.join(', ')}` : 'no fragment of this manifest declares any args',
        'or declare it under args: in the fragment that uses it',
      ]
        .filter(Boolean)
        .join('; ');
      this.err('unknown-arg', `args.${name} is not declared by any fragment of ${refOf(m.doc)}`, m.locate(['args', name]), `args.${name}`, hint);
      ok = false;
    }
    return ok;
  }

  /** One variant per matrix point: its name (unique, not too long) and its args (plain words). */
  private variantsOf(m: Located<Manifest>, points: Record<string, string>[], defaults: Record<string, string>): Variant[] | undefined {
    let ok = true;
    const variants: Variant[] = [];
    const names = new Map<string, Record<string, string>>();
    for (const point of points) {
      const name = variantName(point);
      const prev = names.get(name);
      if (prev) {
        this.err(
          'variant-collision',
          `matrix points ${JSON.stringify(prev)} and ${JSON.stringify(point)} both get the variant name "${name}"`,
          m.locate(['matrix']),
          'matrix',
          'use matrix values that do not contain "-" followed by another key name',
        );
        ok = false;
        continue;
      }
      names.set(name, point);
      if (name.length > VARIANT_MAX) {
        this.err(
          'variant-too-long',
          `the variant name "${name.slice(0, 40)}..." is ${name.length} characters (limit ${VARIANT_MAX})`,
          m.locate(['matrix']),
          'matrix',
          'use shorter matrix keys or values: the variant name is a directory under build/ and part of tags and bake targets',
        );
        ok = false;
        continue;
      }
      const args = this.variantArgs(m, name, point, defaults);
      if (!args) ok = false;
      else variants.push({ name, matrix: point, args });
    }
    return ok ? variants : undefined;
  }

  /** A variant's args: fragment defaults, then the manifest's with `{matrix.KEY}` filled in. */
  private variantArgs(m: Located<Manifest>, name: string, point: Record<string, string>, defaults: Record<string, string>): Record<string, string> | undefined {
    let ok = true;
    const args: Record<string, string> = { ...defaults };
    for (const [k, v] of Object.entries(m.doc.args ?? {})) {
      const value = v.replace(MATRIX_REF_RE, (_s, key: string) => point[key] ?? '');
      if (!SAFE_VALUE_RE.test(value)) {
        this.err(
          'unsafe-value',
          `args.${k} becomes "${value}" for variant ${name}, which is not a plain word`,
          m.locate(['args', k]),
          `args.${k}`,
          'start the value with a letter or digit',
        );
        ok = false;
      }
      args[k] = value;
    }
    return ok ? sortRecord(args) : undefined;
  }

  // -------------------------------------------------------------------------------- products

  private resolveProduct(p: Located<Product>): ResolvedProduct | undefined {
    const doc = p.doc;
    if (!this.manifests.has(doc.manifest)) {
      this.unknownRef('manifest', doc.manifest, versionsOf(this.manifests), p.locate(['manifest']), 'manifest');
      return undefined;
    }
    const rm = this.resolvedManifests.get(doc.manifest);
    if (!rm) return undefined; // its problems are reported at the manifest
    // Every check runs (each reports its own problems) before the verdict.
    const checks = [this.checkPlatforms(p, rm), this.checkAccelerator(p, rm)];
    const tagsByVariant = this.expandTags(p, rm.variants);
    if (checks.includes(false) || !tagsByVariant) return undefined;
    const rp: ResolvedProduct = {
      id: refOf(doc),
      product: p,
      manifest: rm.manifest,
      template: rm.template,
      fragments: rm.fragments,
      base: this.pinnedBase(rm.base),
      variants: rm.variants,
    };
    this.addTargets(rp, tagsByVariant);
    return rp;
  }

  /** Template, base and fragments support each of the product's platforms, and a pool runs it. */
  private checkPlatforms(p: Located<Product>, rm: ResolvedManifest): boolean {
    const doc = p.doc;
    const tmeta = rm.template.meta;
    let ok = true;
    // `platforms` may be left to its default: then point at the product's name and say so.
    const platformsWritten = !sameLocation(p.locate(['platforms']), p.location);
    const defaultNote = platformsWritten ? '' : ` (platforms is not set, so it defaults to ${doc.platforms.join(', ')})`;
    doc.platforms.forEach((platform, i) => {
      const loc = platformsWritten ? p.locate(['platforms', i]) : p.locate(['name']);
      const field = platformsWritten ? `platforms[${i}]` : 'platforms';
      const lacking: string[] = [];
      if (!tmeta.doc.platforms.includes(platform)) lacking.push(`template ${refOf(tmeta.doc)} (${at(tmeta.locate(['platforms']))})`);
      if (!rm.base.doc.platforms.includes(platform)) lacking.push(`base ${rm.base.doc.name} (${at(rm.base.locate(['platforms']))})`);
      for (const f of rm.fragments) {
        if (!f.meta.doc.platforms.includes(platform)) lacking.push(`fragment ${refOf(f.meta.doc)} (${at(f.meta.locate(['platforms']))})`);
      }
      if (lacking.length > 0) {
        this.err(
          'unsupported-platform',
          `${refOf(doc)} is built for ${platform}${defaultNote}, which ${lacking.map((l) => l.replace(/ \(.*\)$/, '')).join(', ')} ${lacking.length === 1 ? 'does' : 'do'} not support`,
          loc,
          field,
          `drop ${platform} from platforms, or use versions that support it: ${lacking.join(', ')}`,
        );
        ok = false;
        return;
      }
      if (!this.poolFor(platform, doc.accelerator)) {
        ok = false;
        if (this.failedToLoad('pool', '*')) return;
        this.err(
          'no-pool',
          `no pool runs ${platform} with accelerator ${doc.accelerator}${defaultNote}`,
          loc,
          field,
          `add a "kind: Pool" document with platform: ${platform} and accelerator: ${doc.accelerator}`,
        );
      }
    });
    return ok;
  }

  /** Template and fragments support the product's accelerator. */
  private checkAccelerator(p: Located<Product>, rm: ResolvedManifest): boolean {
    const doc = p.doc;
    const tmeta = rm.template.meta;
    const accLacking: string[] = [];
    if (!tmeta.doc.accelerators.includes(doc.accelerator)) accLacking.push(`template ${refOf(tmeta.doc)} (${at(tmeta.locate(['accelerators']))})`);
    for (const f of rm.fragments) {
      if (!f.meta.doc.accelerators.includes(doc.accelerator)) accLacking.push(`fragment ${refOf(f.meta.doc)} (${at(f.meta.locate(['accelerators']))})`);
    }
    if (accLacking.length === 0) return true;
    this.err(
      'unsupported-accelerator',
      `${refOf(doc)} uses accelerator ${doc.accelerator}, which ${accLacking.map((l) => l.replace(/ \(.*\)$/, '')).join(', ')} ${accLacking.length === 1 ? 'does' : 'do'} not support`,
      p.locate(['accelerator']),
      'accelerator',
      `change the accelerator, or use versions that support it: ${accLacking.join(', ')}`,
    );
    return false;
  }

  /** The base image, with the lock's digest when the lock pins this very image. */
  private pinnedBase(b: Located<Base>): ResolvedProduct['base'] {
    const pin = this.loaded.lock?.doc.bases[b.doc.name];
    const base: ResolvedProduct['base'] = { name: b.doc.name, image: b.doc.image };
    // A pin recorded for another image is stale (checkLock says so); never apply it.
    if (pin && pin.image === b.doc.image) base.digest = pin.digest;
    return base;
  }

  /** One target per variant x platform, with its per-arch and merged tags. */
  private addTargets(rp: ResolvedProduct, tagsByVariant: Map<string, string[]>): void {
    const doc = rp.product.doc;
    for (const v of rp.variants) {
      const tags = tagsByVariant.get(v.name)!;
      for (const platform of doc.platforms) {
        const arch = archOf(platform);
        this.targets.push({
          name: targetName(doc.name, v.name, arch),
          id: variantId(rp.id, v.name),
          product: rp,
          variant: v,
          platform,
          arch,
          accelerator: doc.accelerator,
          pool: this.poolFor(platform, doc.accelerator)!,
          tags: tags.map((t) => `${doc.image}:${t}-${arch}`),
          mergedTags: tags.map((t) => `${doc.image}:${t}`),
        });
      }
    }
  }

  /** Tag patterns -> tags per variant; placeholders {version} {major} {minor} {patch} {variant} {matrix.KEY}. */
  private expandTags(p: Located<Product>, variants: Variant[]): Map<string, string[]> | undefined {
    const doc = p.doc;
    const [major = '', minor = '', patchPre = ''] = doc.version.split('.');
    const fixed = { version: doc.version, major, minor, patch: patchPre.split('-')[0] ?? '' };
    const longestArch = Math.max(...doc.platforms.map((x) => archOf(x).length));
    const out = new Map<string, string[]>();
    const owner = new Map<string, string>();
    let ok = true;
    // Every entry is checked, so one run reports each bad pattern.
    doc.tags.forEach((entry, i) => {
      if (!this.expandTagEntry(p, entry, i, variants, { fixed, longestArch, out, owner })) ok = false;
    });
    return ok && this.everyVariantTagged(p, variants, out) ? out : undefined;
  }

  private expandTagEntry(
    p: Located<Product>,
    entry: Product['tags'][number],
    i: number,
    variants: readonly Variant[],
    acc: { fixed: Record<string, string>; longestArch: number; out: Map<string, string[]>; owner: Map<string, string> },
  ): boolean {
    const { fixed, longestArch, out, owner } = acc;
    const at: TagAt =
      typeof entry === 'string'
        ? { pattern: entry, loc: p.locate(['tags', i]), field: `tags[${i}]` }
        : { pattern: entry.pattern, loc: p.locate(['tags', i, 'pattern']), field: `tags[${i}].pattern` };
    const only = typeof entry === 'string' ? undefined : this.tagVariants(p, i, entry.variants, variants);
    if (only === null || !this.balancedTag(at)) return false;
    for (const v of variants) {
      if (only && !only.has(v.name)) continue;
      const tag = this.variantTag(at, v, fixed, longestArch);
      if (tag === undefined || !this.ownTag(owner, tag, v, at)) return false;
      const list = out.get(v.name) ?? [];
      if (!list.includes(tag)) list.push(tag);
      out.set(v.name, list);
    }
    return true;
  }

  private balancedTag(at: TagAt): boolean {
    if (!/[{}]/.test(at.pattern.replace(/\{[^{}]*\}/g, ''))) return true;
    this.err(
      'bad-tag',
      `tag pattern "${at.pattern}" has unbalanced braces`,
      at.loc,
      at.field,
      'placeholders are {version} {major} {minor} {patch} {variant} {matrix.KEY}',
    );
    return false;
  }

  /** One variant's tag from a pattern; undefined (reported) for an unknown placeholder or an invalid tag. */
  private variantTag(at: TagAt, v: Variant, fixed: Record<string, string>, longestArch: number): string | undefined {
    let bad = false;
    const tag = at.pattern.replace(/\{([^{}]*)\}/g, (whole, key: string) => {
      if (key === 'variant') return v.name;
      if (key in fixed) return fixed[key]!;
      const mm = /^matrix\.(.+)$/.exec(key);
      if (mm && mm[1]! in v.matrix) return v.matrix[mm[1]!]!;
      bad = true;
      return whole;
    });
    if (bad) {
      const keys = Object.keys(v.matrix);
      this.err(
        'bad-tag',
        `tag pattern "${at.pattern}" uses an unknown placeholder`,
        at.loc,
        at.field,
        `placeholders are {version} {major} {minor} {patch} {variant}${keys.length > 0 ? ` and ${keys.map((k) => `{matrix.${k}}`).join(' ')}` : ' (the manifest has no matrix)'}`,
      );
      return undefined;
    }
    if (TAG_RE.test(`${tag}-${'x'.repeat(longestArch)}`)) return tag;
    this.err(
      'bad-tag',
      `tag "${tag}" (from "${at.pattern}") is not a valid image tag`,
      at.loc,
      at.field,
      'a tag starts with a letter, digit or _, has only letters, digits, _ . -, and is at most 128 characters with the -<arch> suffix',
    );
    return undefined;
  }

  /** Records that `v` publishes `tag`; false (reported) when another variant already does. */
  private ownTag(owner: Map<string, string>, tag: string, v: Variant, at: TagAt): boolean {
    const prev = owner.get(tag);
    if (prev !== undefined && prev !== v.name) {
      this.err(
        'tag-collision',
        `tag "${tag}" is produced by variants ${prev} and ${v.name}`,
        at.loc,
        at.field,
        `add {variant} (or the differing {matrix.KEY}) to the pattern so each variant gets its own tag, or give the tag to one variant: { pattern: '${at.pattern}', variants: [${prev}] }`,
      );
      return false;
    }
    owner.set(tag, v.name);
    return true;
  }

  private everyVariantTagged(p: Located<Product>, variants: readonly Variant[], out: ReadonlyMap<string, string[]>): boolean {
    const untagged = variants.find((v) => !out.has(v.name));
    if (!untagged) return true;
    this.err(
      'bad-tag',
      `variant ${untagged.name} of ${refOf(p.doc)} gets no tag: every tag entry names other variants`,
      p.locate(['tags']),
      'tags',
      'add a pattern for every variant, such as {version}-{variant}',
    );
    return false;
  }

  /** The variant names a `{ pattern, variants }` tag entry gives its tag to; null when one is unknown (reported). */
  private tagVariants(p: Located<Product>, i: number, names: readonly string[], variants: readonly Variant[]): Set<string> | null {
    const known = variants.map((v) => v.name);
    let ok = true;
    names.forEach((name, j) => {
      if (known.includes(name)) return;
      const hint = didYouMean(name, known);
      this.err(
        'bad-tag',
        `tag entry names variant "${name}", which ${refOf(p.doc)} does not have`,
        p.locate(['tags', i, 'variants', j]),
        `tags[${i}].variants[${j}]`,
        `${hint ? `${hint} ` : ''}variants: ${known.join(', ')}`,
      );
      ok = false;
    });
    return ok ? new Set(names) : null;
  }

  private checkTargetCollisions(): void {
    const seen = new Map<string, Target>();
    const reported = new Set<string>();
    for (const t of this.targets) {
      const first = seen.get(t.name);
      if (!first) {
        seen.set(t.name, t);
        continue;
      }
      const key = `${first.product.id} ${t.product.id}`;
      if (reported.has(key)) continue;
      reported.add(key);
      const same = first.product === t.product;
      this.err(
        'target-collision',
        same
          ? `variants ${first.variant.name} and ${t.variant.name} of ${t.product.id} both become target "${t.name}"`
          : `${first.product.id} and ${t.product.id} both produce target "${t.name}"`,
        t.product.product.locate(['name']),
        'name',
        same
          ? 'matrix values that differ only in characters outside [A-Za-z0-9_-] collide; change one'
          : first.product.product.doc.name === t.product.product.doc.name
            ? // Target names carry no version (docs/architecture.md): one version per product.
              `two versions of one product cannot coexist (target names are <product>-<variant>-<arch>, without the version): keep one, or give a release line its own product name such as ${t.product.product.doc.name}-${t.product.product.doc.version.split('.')[0]} (the other is at ${at(first.product.product.location)})`
            : `target names are <product>-<variant>-<arch>; rename one product (the other is at ${at(first.product.product.location)})`,
      );
    }
  }

  private checkTagCollisions(): void {
    const seen = new Map<string, Target>();
    for (const t of [...this.targets].sort((a, b) => byString(a.product.id, b.product.id))) {
      for (const tag of t.mergedTags) {
        const first = seen.get(tag);
        if (!first) {
          seen.set(tag, t);
          continue;
        }
        if (first.product === t.product) continue;
        seen.set(tag, t);
        this.err(
          'tag-collision',
          `${first.product.id} and ${t.product.id} both publish ${tag}`,
          t.product.product.locate(['image']),
          'image',
          `give one of them another image or tag pattern (the other is at ${at(first.product.product.location)})`,
        );
        return;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** A tag pattern with where it was written. */
interface TagAt {
  pattern: string;
  loc: SourceLocation;
  field: string;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function versionsOf(manifests: Map<string, Located<Manifest>>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of manifests.values()) pushTo(out, m.doc.name, m.doc.version);
  return out;
}

/** Semantic-version order (pre-releases before their release). */
export function sortVersions(vs: readonly string[]): string[] {
  const parse = (v: string): [number, number, number, string] => {
    const [core = '', pre = ''] = v.split(/-(.*)/s);
    const [a = 0, b = 0, c = 0] = core.split('.').map(Number);
    return [a, b, c, pre];
  };
  return [...vs].sort((x, y) => {
    const a = parse(x);
    const b = parse(y);
    return a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || (a[3] === b[3] ? 0 : a[3] === '' ? 1 : b[3] === '' ? -1 : byString(a[3], b[3]));
  });
}

function sortRecord(r: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k]!;
  return out;
}
