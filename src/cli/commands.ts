// The CLI's commands. Each one loads what it needs, calls the pure core, and does its own I/O.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { generate, GENERATED_DIRS } from '../../generators/index.js';
import { pinnedImage, refOf, resolveId, testTargetName, variantId } from '../core/ids.js';
import { FRAGMENT_META, TEMPLATE_META } from '../core/load.js';
import { checkLock, computeLock, forgetLockEntries, serializeLock } from '../core/lock.js';
import { renderDockerfile, renderMemo } from '../core/render.js';
import { didYouMean, error } from '../core/diagnostics.js';
import type { Diagnostic, OutputFile, ResolvedFactory, SourceFile, Target } from '../core/types.js';
import { FactoryError } from '../core/types.js';
import { diffOutputs, writeOutputs } from '../io/tree.js';
import { mapLimit } from '../plan/index.js';
import { EXIT, UserError } from './errors.js';
import { paint, printJson, type Io } from './output.js';
import { compatCmd, kpi, serve, site } from './obs.js';
import { SIGNING_OPTIONS } from './signing.js';
import { verify } from './verify.js';

export interface CommandContext {
  io: Io;
  root: string;
  json: boolean;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** Reads and builds the factory; `edit` sees the source tree first (e.g. `lock --update`). */
  load(edit?: (files: SourceFile[]) => SourceFile[]): Promise<ResolvedFactory>;
}

interface OptionSpec {
  type: 'string' | 'boolean';
  description?: string;
  default?: string | boolean;
}

export interface Command {
  usage: string;
  summary: string;
  details?: string;
  options?: Record<string, OptionSpec>;
  positionals?: { min: number; max: number };
  run(ctx: CommandContext): Promise<number>;
}

/** Every file `generate` owns: generator outputs plus the lock (new versions get their digest). */
function allOutputs(factory: ResolvedFactory): OutputFile[] {
  const lock: OutputFile = { path: 'factory.lock.json', text: serializeLock(computeLock(factory.loaded)) };
  return [...generate(factory), lock].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Files under generated directories that no generator produces any more. */
async function orphans(root: string, outputs: OutputFile[]): Promise<string[]> {
  const produced = new Set(outputs.map((o) => o.path));
  const found: string[] = [];
  for (const dir of GENERATED_DIRS) {
    const abs = path.join(root, dir);
    if (!existsSync(abs)) continue;
    for (const entry of await fs.readdir(abs, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const rel = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
      if (!produced.has(rel)) found.push(rel);
    }
  }
  return found.sort();
}

/**
 * Output paths that a directory occupies, or whose parent is a file: writing them would fail
 * half-way with EISDIR/ENOTDIR. Checked before anything is written.
 */
async function blockedOutputs(root: string, outputs: OutputFile[]): Promise<Diagnostic[]> {
  // Every path once, all looked up before any is judged: at 10,000 targets that is some 20,000
  // lstat calls, which run side by side instead of one after the other.
  const paths = new Set<string>();
  for (const o of outputs) {
    const parts = o.path.split('/');
    for (let i = 1; i < parts.length; i++) paths.add(parts.slice(0, i).join('/'));
    paths.add(o.path);
  }
  const list = [...paths];
  const looked = await mapLimit(list, 64, async (rel) => {
    const st = await fs.lstat(path.join(root, rel)).catch(() => undefined);
    return !st ? 'none' : st.isDirectory() ? 'dir' : 'other';
  });
  const kinds = new Map(list.map((p, i) => [p, looked[i]!]));
  const found = new Map<string, Diagnostic>();
  for (const o of outputs) {
    const parts = o.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (kinds.get(dir) === 'other' && !found.has(dir)) {
        found.set(
          dir,
          error('not-a-file', `${dir} is a file where generate writes a directory (for ${o.path})`, {
            location: { file: dir, line: 1, column: 1 },
            hint: `remove ${dir} and run 'factory generate' again`,
          }),
        );
      }
    }
    if (kinds.get(o.path) === 'dir' && !found.has(o.path)) {
      found.set(
        o.path,
        error('not-a-file', `${o.path} is a directory where generate writes a file`, {
          location: { file: o.path, line: 1, column: 1 },
          hint: `remove the directory (rm -r ${o.path}) and run 'factory generate' again`,
        }),
      );
    }
  }
  return [...found.values()];
}

function targetsOf(factory: ResolvedFactory, id: string): Target[] {
  const found = resolveId(factory, id);
  if (!found.ok) throw new FactoryError([found.diagnostic]);
  return found.value.targets;
}

function describeTarget(t: Target) {
  return {
    target: t.name,
    id: t.id,
    product: t.product.id,
    variant: t.variant.name,
    platform: t.platform,
    accelerator: t.accelerator,
    pool: t.pool.doc.name,
    template: refOf(t.product.template.meta.doc),
    fragments: t.product.fragments.map((f) => refOf(f.meta.doc)),
    base: pinnedImage(t.product.base.image, t.product.base.digest),
    args: t.variant.args,
    tags: t.tags,
    mergedTags: t.mergedTags,
  };
}

const validate: Command = {
  usage: 'validate',
  summary: 'Load, resolve and render the whole factory; report every problem with file:line:column.',
  details: 'Runs every generator in memory (nothing is written), so it reports every problem `generate` would.',
  async run(ctx) {
    const factory = await ctx.load();
    // Render every Dockerfile, test and workflow as `generate` does, and discard them: template
    // and snippet problems only show when rendering.
    const outputs = allOutputs(factory);
    const blocked = await blockedOutputs(ctx.root, outputs);
    if (blocked.length > 0) throw new FactoryError(blocked);
    const lockProblems = checkLock(factory.loaded);
    if (ctx.json) printJson(ctx.io, { ok: true, products: factory.products.length, targets: factory.targets.length, warnings: lockProblems });
    else {
      for (const d of lockProblems) ctx.io.err(`warning: ${d.message}${d.hint ? ` (${d.hint})` : ''}`);
      ctx.io.out(`${paint(ctx.io, 'green', 'ok')}: ${factory.products.length} products, ${factory.targets.length} targets.`);
    }
    return EXIT.ok;
  },
};

const list: Command = {
  usage: 'list',
  summary: 'List products and their targets.',
  async run(ctx) {
    const factory = await ctx.load();
    if (ctx.json) {
      printJson(ctx.io, factory.targets.map(describeTarget));
      return EXIT.ok;
    }
    for (const p of factory.products) {
      ctx.io.out(paint(ctx.io, 'bold', p.id) + paint(ctx.io, 'dim', `  ${p.product.doc.description ?? ''}`));
      for (const t of factory.targets.filter((x) => x.product === p)) {
        ctx.io.out(`  ${t.name.padEnd(44)} ${t.platform.padEnd(12)} ${t.accelerator.padEnd(5)} pool=${t.pool.doc.name}`);
      }
    }
    return EXIT.ok;
  },
};

const explain: Command = {
  usage: 'explain <id>',
  summary: 'Say in words what an id (name@version[:variant]) resolves to.',
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const factory = await ctx.load();
    const targets = targetsOf(factory, ctx.positionals[0]!);
    if (ctx.json) {
      printJson(ctx.io, targets.map(describeTarget));
      return EXIT.ok;
    }
    const first = targets[0]!;
    const p = first.product;
    const lines = [
      `${paint(ctx.io, 'bold', ctx.positionals[0]!)} is product ${p.id}${p.product.doc.description ? ` (${p.product.doc.description})` : ''},`,
      `built from manifest ${refOf(p.manifest.doc)} on template ${refOf(p.template.meta.doc)},`,
      `starting from base ${p.base.name} = ${p.base.digest ? pinnedImage(p.base.image, p.base.digest) : `${p.base.image} (not pinned: run 'factory lock --resolve-bases')`}.`,
      `Fragments, in build order:`,
      ...p.fragments.map((f) => `  ${f.meta.doc.slot.padEnd(10)} ${refOf(f.meta.doc)}  ${f.meta.doc.description ?? ''}`.trimEnd()),
      `It builds ${targets.length} target${targets.length === 1 ? '' : 's'}:`,
      ...targets.map(
        (t) =>
          `  ${t.name}: variant ${t.variant.name} for ${t.platform} (${t.accelerator}) on pool ${t.pool.doc.name}` +
          (Object.keys(t.variant.args).length
            ? `, args ${Object.entries(t.variant.args)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')}`
            : '') +
          `\n    tags ${t.tags.join(', ')}; published as ${t.mergedTags.join(', ')}`,
      ),
    ];
    ctx.io.out(lines.join('\n'));
    return EXIT.ok;
  },
};

const render: Command = {
  usage: 'render <id>',
  summary: "Print the rendered Dockerfile of an id's variant(s), with --map the source map.",
  positionals: { min: 1, max: 1 },
  options: { map: { type: 'boolean', description: 'print each line with the file:line that produced it' } },
  async run(ctx) {
    const factory = await ctx.load();
    const targets = targetsOf(factory, ctx.positionals[0]!);
    const seen = new Set<string>();
    const rendered = [];
    const memo = renderMemo();
    for (const t of targets) {
      const key = variantId(t.product.id, t.variant.name);
      if (seen.has(key)) continue;
      seen.add(key);
      rendered.push({ id: key, dockerfile: renderDockerfile(t.product, t.variant, memo) });
    }
    if (ctx.json) {
      printJson(
        ctx.io,
        rendered.map((r) => ({ id: r.id, ...r.dockerfile })),
      );
      return EXIT.ok;
    }
    for (const r of rendered) {
      if (rendered.length > 1) ctx.io.out(paint(ctx.io, 'dim', `# ---- ${r.id} (${r.dockerfile.path})`));
      if (ctx.values.map) {
        const lines = r.dockerfile.text.replace(/\n$/, '').split('\n');
        lines.forEach((line, i) => {
          const m = r.dockerfile.sourceMap.find((e) => e.line === i + 1);
          ctx.io.out(`${paint(ctx.io, 'dim', (m ? `${m.file}:${m.sourceLine}` : '').padEnd(48))} ${line}`);
        });
      } else ctx.io.out(r.dockerfile.text);
    }
    return EXIT.ok;
  },
};

const generateCmd: Command = {
  usage: 'generate [--check]',
  summary: 'Write docker-bake.hcl, Dockerfiles, workflows, JSON Schemas and the lock; --check diffs instead.',
  details: 'Outputs are written all or nothing, and only when the factory has no errors; files whose bytes would not change are not touched.',
  options: { check: { type: 'boolean', description: 'fail (exit 3) when a committed generated file is stale, missing or orphaned' } },
  async run(ctx) {
    const factory = await ctx.load();
    const outputs = allOutputs(factory);
    const extra = await orphans(ctx.root, outputs);
    if (ctx.values.check) {
      const stale = [...(await diffOutputs(ctx.root, outputs)), ...extra.map((p) => ({ path: p, status: 'orphaned' as const }))];
      if (ctx.json) printJson(ctx.io, { ok: stale.length === 0, stale });
      else if (stale.length === 0) ctx.io.out(`${paint(ctx.io, 'green', 'ok')}: ${outputs.length} generated files are up to date.`);
      else {
        for (const s of stale) ctx.io.err(`${s.path}: ${s.status}`);
        ctx.io.err(
          paint(
            ctx.io,
            'red',
            `${stale.length} generated file${stale.length === 1 ? ' is' : 's are'} out of date: run 'npm run generate' and commit the result.`,
          ),
        );
      }
      return stale.length === 0 ? EXIT.ok : EXIT.stale;
    }
    const blocked = await blockedOutputs(ctx.root, outputs);
    if (blocked.length > 0) throw new FactoryError(blocked);
    const { written, removed } = await writeOutputs(ctx.root, outputs, { remove: extra });
    if (ctx.json) printJson(ctx.io, { ok: true, written, unchanged: outputs.length - written.length, removed });
    else
      ctx.io.out(
        `${paint(ctx.io, 'green', 'generated')} ${outputs.length} files (${factory.targets.length} targets), ${written.length} changed${removed.length ? `, removed ${removed.length} orphaned` : ''}.`,
      );
    return EXIT.ok;
  },
};

const lockCmd: Command = {
  usage: 'lock [--check] [--resolve-bases] [--update REF,...]',
  summary: 'Write factory.lock.json: template/fragment content digests and base image pins.',
  details:
    "With --resolve-bases, every Base image is resolved to its digest through the registry's HTTP API. --check fails (exit 3) when an entry or pin is stale or missing. " +
    '--update name@version records the new digest of a template or fragment version that was edited in place before it was ever published (a published version gets a new version directory instead); every other entry stays as it is.',
  options: {
    check: { type: 'boolean', description: 'verify instead of writing' },
    'resolve-bases': { type: 'boolean', description: 'pin base images to their current digest (needs the registry)' },
    update: { type: 'string', description: 'name@version[,...]: re-record these unpublished versions after an edit' },
  },
  async run(ctx) {
    const update = typeof ctx.values.update === 'string' ? splitList(ctx.values.update) : [];
    if (ctx.values.check && update.length > 0)
      throw new UserError("--update writes the lock; --check only reads it: use one. See 'factory lock --help'.", EXIT.usage);
    const factory = await ctx.load(
      update.length === 0
        ? undefined
        : (files) => {
            // A mistyped ref is the first thing to say: the edit it meant would fail the load.
            checkUpdateRefs(versionRefs(files), update);
            return forgetLockEntries(files, update);
          },
    );
    const { lockWithBasePins, checkBasePins } = await import('./lock-bases.js');
    if (ctx.values.check) {
      const problems = [...checkLock(factory.loaded), ...(await checkBasePins(factory))];
      if (ctx.json) printJson(ctx.io, { ok: problems.length === 0, problems });
      else if (problems.length === 0) ctx.io.out(`${paint(ctx.io, 'green', 'ok')}: factory.lock.json is up to date.`);
      else for (const d of problems) ctx.io.err(`${d.location ? `${d.location.file}: ` : ''}${d.message}${d.hint ? `\n  hint: ${d.hint}` : ''}`);
      return problems.length === 0 ? EXIT.ok : EXIT.stale;
    }
    const lock = ctx.values['resolve-bases'] ? await lockWithBasePins(factory) : computeLock(factory.loaded);
    await writeOutputs(ctx.root, [{ path: 'factory.lock.json', text: serializeLock(lock) }]);
    if (ctx.json) printJson(ctx.io, lock);
    else
      ctx.io.out(
        `${paint(ctx.io, 'green', 'locked')} ${Object.keys(lock.templates).length} templates, ${Object.keys(lock.fragments).length} fragments, ${Object.keys(lock.bases).length} base pins.` +
          update.map((ref) => `\n  ${ref}: ${lock.templates[ref]?.digest ?? lock.fragments[ref]?.digest}`).join(''),
      );
    return EXIT.ok;
  },
};

/** `lock --update` names template or fragment versions of this tree. */
function checkUpdateRefs(known: readonly string[], update: readonly string[]): void {
  for (const ref of update) {
    if (known.includes(ref)) continue;
    const hint = didYouMean(ref, known);
    throw new UserError(`--update ${ref}: no template or fragment version ${ref} in this factory${hint ? `; ${hint}` : ''}`);
  }
}

/** "name@version" of every templates/<name>/<version>/ and fragments/<name>/<version>/ with its metadata file. */
function versionRefs(files: readonly SourceFile[]): string[] {
  const refs: string[] = [];
  for (const f of files) {
    const [kind, name, version, meta, ...rest] = f.path.split('/');
    if (rest.length === 0 && ((kind === 'templates' && meta === TEMPLATE_META) || (kind === 'fragments' && meta === FRAGMENT_META)))
      refs.push(`${name}@${version}`);
  }
  return refs.sort();
}

function splitList(v: string): string[] {
  return v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

const planCmd: Command = {
  usage: 'plan (--base <ref> [--head <ref>] | --all)',
  summary: 'Compute the targets affected by the git changes base..head, per pool, as JSON matrices.',
  options: {
    base: { type: 'string', description: 'git ref to diff against (e.g. origin/main)' },
    head: { type: 'string', description: 'git ref of the change (default: HEAD)' },
    all: { type: 'boolean', description: 'plan every target (no diff): dispatches and scheduled rebuilds' },
    product: { type: 'string', description: 'only these products (name or name@version, comma-separated)' },
    platforms: { type: 'string', description: 'only these platforms (comma-separated, e.g. linux/arm64)' },
    promote: { type: 'string', description: 'also publish the manifest lists under this tag (e.g. stable)' },
    explain: { type: 'boolean', description: 'print the reason chain of each affected target' },
    force: { type: 'boolean', description: 'build targets even when an image with their build key exists' },
    push: { type: 'boolean', description: 'the run publishes manifest lists: refuse a --platforms subset whose lists would miss a platform' },
    'check-registry': {
      type: 'boolean',
      description: 'skip targets whose build key is already in the registry ($REGISTRY), signed by the factory (see --verify-key, --repository)',
    },
    ...SIGNING_OPTIONS,
    'github-output': { type: 'string', description: 'also append <pool> matrix lines to this file ($GITHUB_OUTPUT)' },
  },
  async run(ctx) {
    const { planCommand } = await import('./plan.js');
    return planCommand(ctx);
  },
};

const basesCmd: Command = {
  usage: 'bases watch [--write] [--json]',
  summary: "The base-image watch: resolve every Base's tag, report moved digests and the targets on them.",
  details:
    "A moved digest (or a base not pinned yet) gets a new pin stamped with when the watch first saw it ('seen', where time to patch starts). --write updates factory.lock.json; regenerate, commit, and the plan of that commit rebuilds exactly the targets on the moved bases. The scheduled workflow runs this (scripts/workflow/base-watch.sh).",
  positionals: { min: 1, max: 1 },
  options: {
    write: { type: 'boolean', description: 'write the new pins to factory.lock.json' },
    base: { type: 'string', description: 'only these Bases (names, comma-separated)' },
    message: { type: 'string', description: 'when a pin moved, write the commit / pull request text (title, one line per base) to this file' },
    previous: { type: 'string', description: "a lock an earlier watch wrote (its branch's factory.lock.json): a digest it already pins keeps its 'seen' time" },
  },
  async run(ctx) {
    const { basesCommand } = await import('./bases.js');
    return basesCommand(ctx);
  },
};

const gc: Command = {
  usage: 'gc [--dry-run] [--json]',
  summary: 'Retention: delete unreferenced bk-<key> tags and cache refs older than Policy retention.keepDays; fold old history.',
  details:
    'Reads the registry ($REGISTRY or --registry; the cache repository is $CACHE_REPO, default $REGISTRY/cache) through its HTTP API. Only bk-<key> tags no current target has and per-target cache tags no current target uses are candidates; a tag a product publishes, a digest any kept tag reaches, and the signatures and attestations of kept digests are never deleted. Deletes are DELETE /v2/<name>/manifests/<digest>, after the whole inventory is read. Without --dry-run it also folds history months past Policy history.rawDays into aggregates.',
  options: {
    'dry-run': { type: 'boolean', description: 'list what would be deleted; delete nothing' },
    registry: { type: 'string', description: 'host[/namespace] the images are under (default $REGISTRY)' },
  },
  async run(ctx) {
    const { gcCommand } = await import('./gc.js');
    return gcCommand(ctx);
  },
};

export function resolveBuildx(): string[] {
  // Prefer the docker CLI plugin (what runners have); the standalone binary works the same.
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'buildx'))) return [path.join(dir, 'buildx')];
  }
  return ['docker', 'buildx'];
}

const build: Command = {
  usage: 'build <id>',
  summary: "Build an id's targets locally with `buildx bake` on the generated docker-bake.hcl.",
  details:
    'Variables (REGISTRY, BASE_<NAME>, CACHE_REPO, SBOM_SCANNER, SOURCE_DATE_EPOCH...) come from the environment. A failing target does not stop the others (bake -j defer-error); each is reported built or failed, exit 1 when any failed.',
  positionals: { min: 1, max: 1 },
  options: {
    push: { type: 'boolean', description: 'push the images (default: build only)' },
    test: { type: 'boolean', description: 'also run the combined test targets' },
    print: { type: 'boolean', description: 'print the bake definition instead of building' },
    builder: { type: 'string', description: 'buildx builder name' },
    'no-device': {
      type: 'boolean',
      description:
        "with --test, on a machine without the pool's device: skip the accelerator checks of device pools (with their reason) instead of failing them",
    },
  },
  async run(ctx) {
    const factory = await ctx.load();
    const targets = targetsOf(factory, ctx.positionals[0]!);
    const stale = await diffOutputs(ctx.root, allOutputs(factory));
    if (stale.some((s) => s.path === 'docker-bake.hcl' || s.path.startsWith('build/')))
      throw new UserError("the generated docker-bake.hcl or Dockerfiles are stale: run 'factory generate' first.");
    const names = targets.map((t) => t.name);
    if (ctx.values.test) names.push(...targets.map((t) => testTargetName(t.name)));
    const { runBuild } = await import('./build.js');
    return runBuild({
      io: ctx.io,
      json: ctx.json,
      root: ctx.root,
      buildx: resolveBuildx(),
      targets: names,
      builder: typeof ctx.values.builder === 'string' ? ctx.values.builder : undefined,
      push: Boolean(ctx.values.push),
      print: Boolean(ctx.values.print),
      extra: deviceArgs(targets, ctx.values.test === true, ctx.values['no-device'] === true),
    });
  },
};

/**
 * The test targets of pools with a CDI device ask for the `device` entitlement, which bake wants
 * granted on its command line (with --no-device too: the targets still ask); --no-device also
 * tells their runners the pool promises nothing, so the GPU checks are skipped, not failed.
 */
function deviceArgs(targets: readonly Target[], test: boolean, noDevice: boolean): string[] {
  const onDevice = test ? targets.filter((t) => t.pool.doc.device !== undefined) : [];
  if (onDevice.length === 0) return [];
  const off = noDevice ? onDevice.flatMap((t) => ['--set', `${testTargetName(t.name)}.args.FACTORY_TEST_POOL_ACCELERATOR=`]) : [];
  return ['--allow', 'device', ...off];
}

const RESULT_OPTIONS: Record<string, OptionSpec> = {
  plan: { type: 'string', description: 'the plan (factory plan --json); default plan.json' },
  results: { type: 'string', description: "directory of the legs' result files (<target>.json); default results" },
};

const merge: Command = {
  usage: 'merge [--plan FILE] [--results DIR] [--dry-run]',
  summary: 'Publish the manifest lists of a plan from the images its legs pushed (buildx imagetools create).',
  details:
    'A list is published only when every platform has an image: pushed and tested in this run (digest from its result file) or in the registry under the same build key, and every one of those images verifies as signed by the factory (--verify-key, or keyless: its workflows on a trusted ref) with provenance naming the repository. Any other list is refused (exit 1); the others are still published. Published lists are appended to $GITHUB_STEP_SUMMARY.',
  options: {
    ...RESULT_OPTIONS,
    ...SIGNING_OPTIONS,
    'dry-run': { type: 'boolean', description: 'print the imagetools commands instead of running them' },
    published: { type: 'string', description: 'write the published lists here, repository@digest one a line (for signing)' },
    checksums: { type: 'string', description: 'with --published: also as "<hex>  <repository>" lines (actions/attest subject-checksums)' },
  },
  async run(ctx) {
    const { mergeCommand } = await import('./publish.js');
    return mergeCommand(ctx, resolveBuildx());
  },
};

const summary: Command = {
  usage: 'summary [--plan FILE] [--results DIR] [--out FILE]',
  summary: "Write the run's Markdown summary (plan, result per target) to --out and $GITHUB_STEP_SUMMARY.",
  options: { ...RESULT_OPTIONS, out: { type: 'string', description: 'where to write the Markdown; default summary.md' } },
  async run(ctx) {
    const { summaryCommand } = await import('./publish.js');
    return summaryCommand(ctx);
  },
};

export const COMMANDS: Record<string, Command> = {
  validate,
  list,
  explain,
  render,
  generate: generateCmd,
  lock: lockCmd,
  bases: basesCmd,
  plan: planCmd,
  build,
  kpi,
  compat: compatCmd,
  site,
  serve,
  verify,
  merge,
  summary,
  gc,
};
