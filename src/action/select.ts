// Phase 1 of a build: what to build for one `target` input, from ONE `bake --print`. The image
// targets of a target or group, the test targets that belong to them, the facts each record
// needs (from the dev.factory.* labels the generator wrote), and the definition the image and
// test bakes then run from, trimmed to exactly those targets and what they pull in.
import { archOf, fragmentTestTargetName, IMAGE_UNDER_TEST, isTestTargetName, splitRef, testTargetName, TESTS_GROUP } from '../core/ids.js';
import { factoryLabels } from '../core/labels.js';
import { ActionError } from './errors.js';
import type { TargetFacts } from './record-paths.js';
import type { BakeDefinition, BakeTarget, BuildInputs } from './types.js';

export interface Selection {
  /** The selected targets and every target their `target:` contexts pull in; the bakes run from it. */
  def: BakeDefinition;
  images: string[];
  tests: string[];
  facts: Map<string, TargetFacts>;
  /** Test target -> the image targets whose result it is part of. */
  owners: Map<string, string[]>;
}

/** What the phase needs of buildx. */
export interface BakePrinter {
  print(files: readonly string[], targets: readonly string[], cwd: string, env: Record<string, string>): Promise<BakeDefinition>;
}

/** Expands groups (nested ones too) into target names, in definition order, without repeats. */
export function expand(def: BakeDefinition, name: string, seen = new Set<string>()): string[] {
  const group = def.group?.[name];
  if (!group || def.target[name]) return [name];
  if (seen.has(name)) return [];
  seen.add(name);
  const out: string[] = [];
  for (const t of group.targets ?? []) for (const x of expand(def, t, seen)) if (!out.includes(x)) out.push(x);
  return out;
}

function label(t: BakeTarget, key: string): string | undefined {
  const v = t.labels?.[key];
  return v === null || v === undefined || v === '' ? undefined : v;
}

/**
 * Facts of an image target from the labels the generator writes (src/core/labels.ts), falling
 * back to the OCI title/version labels.
 */
export function targetFacts(name: string, t: BakeTarget): TargetFacts {
  const factory = factoryLabels(t.labels);
  const facts: TargetFacts = {
    target: name,
    productName: factory.productRef?.name ?? label(t, 'org.opencontainers.image.title') ?? name,
    productVersion: factory.productRef?.version ?? label(t, 'org.opencontainers.image.version') ?? '0.0.0',
    variant: factory.variant ?? 'default',
    platform: t.platforms?.[0] ?? 'linux/amd64',
    fragmentRefs: factory.fragments,
    tags: [...(t.tags ?? [])],
  };
  if (factory.template) facts.templateRef = factory.template;
  const base = t.args?.BASE_IMAGE;
  if (base) facts.baseImage = base;
  return facts;
}

/** The target a named context value pulls in (`target:<name>`), if it is one. */
function contextTarget(v: unknown): string | undefined {
  return typeof v === 'string' && v.startsWith('target:') ? v.slice('target:'.length) : undefined;
}

/** The targets a target's named contexts pull in. */
function contextTargets(t: BakeTarget): string[] {
  return Object.values(t.contexts ?? {}).flatMap((v) => contextTarget(v) ?? []);
}

/**
 * Which image targets a test target belongs to: a combined test names its image through its
 * image-under-test context; an isolated fragment test belongs to every image on its arch that
 * uses that fragment version.
 */
export function testOwners(test: string, def: BakeDefinition, facts: ReadonlyMap<string, TargetFacts>): string[] {
  const image = contextTarget(def.target[test]?.contexts?.[IMAGE_UNDER_TEST]);
  if (image && facts.has(image)) return [image];
  return [...facts.values()]
    .filter((f) =>
      f.fragmentRefs.some((ref) => {
        const r = splitRef(ref);
        return r !== undefined && fragmentTestTargetName(r, archOf(f.platform)) === test;
      }),
    )
    .map((f) => f.target);
}

/** The auto tests of the images, in a stable order: each image's combined test, then its fragments' isolated ones. */
export function autoTests(images: readonly string[], def: BakeDefinition, facts: ReadonlyMap<string, TargetFacts>): string[] {
  const out: string[] = [];
  const add = (n: string) => {
    if (def.target[n] && !out.includes(n)) out.push(n);
  };
  for (const t of images) {
    add(testTargetName(t));
    const f = facts.get(t)!;
    for (const ref of f.fragmentRefs) {
      const r = splitRef(ref);
      if (r) add(fragmentTestTargetName(r, archOf(f.platform)));
    }
  }
  return out;
}

/** The definition restricted to `roots` and the targets their contexts pull in, transitively. */
export function trim(def: BakeDefinition, roots: readonly string[]): BakeDefinition {
  const keep = new Set<string>();
  const visit = (n: string) => {
    if (keep.has(n) || !def.target[n]) return;
    keep.add(n);
    for (const c of contextTargets(def.target[n]!)) visit(c);
  };
  roots.forEach(visit);
  return { target: Object.fromEntries([...keep].sort().map((n) => [n, def.target[n]!])) };
}

function printNames(inputs: Pick<BuildInputs, 'target' | 'tests'>): string[] {
  if (inputs.tests === 'none') return [inputs.target];
  if (inputs.tests === 'auto') return [inputs.target, TESTS_GROUP];
  return [inputs.target, ...inputs.tests];
}

export async function selectTargets(
  inputs: Pick<BuildInputs, 'target' | 'tests' | 'files' | 'workdir'>,
  env: Record<string, string>,
  buildx: BakePrinter,
): Promise<Selection> {
  let printed: BakeDefinition;
  try {
    printed = await buildx.print(inputs.files, printNames(inputs), inputs.workdir, env);
  } catch (e) {
    // A hand-written bake file may have no `tests` group: then there are no auto tests.
    if (inputs.tests !== 'auto' || !(e instanceof ActionError) || !e.message.includes(`"${TESTS_GROUP}"`)) throw e;
    printed = await buildx.print(inputs.files, [inputs.target], inputs.workdir, env);
  }
  const images = expand(printed, inputs.target).filter((t) => !isTestTargetName(t));
  if (images.length === 0) {
    throw new ActionError(
      `input \`target\`: "${inputs.target}" names only test targets; name an image target or group (its tests run with it, see input \`tests\`)`,
    );
  }
  const facts = new Map(images.map((t) => [t, targetFacts(t, printed.target[t] ?? {})]));
  const named = expand(printed, inputs.target).filter(isTestTargetName);
  const tests =
    inputs.tests === 'none'
      ? []
      : inputs.tests === 'auto'
        ? [...named, ...autoTests(images, printed, facts).filter((t) => !named.includes(t))]
        : [...named, ...inputs.tests.filter((t) => !named.includes(t))];
  const owners = new Map(tests.map((t) => [t, testOwners(t, printed, facts)]));
  return { def: trim(printed, [...images, ...tests]), images, tests, facts, owners };
}

export function dockerfileOf(t: BakeTarget): string | undefined {
  if (!t.dockerfile) return undefined;
  const ctx = t.context ?? '.';
  if (t.dockerfile.startsWith('/') || ctx === '.' || ctx === '') return t.dockerfile;
  return `${ctx.replace(/\/+$/, '')}/${t.dockerfile}`;
}
