// What to run for one `target` input: the image targets of a target or group, their test
// targets, and the facts each record needs, all read from the bake definition. Pure.
import type { TargetFacts } from './record.js';
import type { BakeDefinition, BakeTarget } from './types.js';

/** Every character outside [A-Za-z0-9_-] becomes "_" (docs/architecture.md, Identifiers). */
export function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_');
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

export function isTestTarget(name: string): boolean {
  return name.startsWith('test-');
}

function label(t: BakeTarget, key: string): string | undefined {
  const v = t.labels?.[key];
  return v === null || v === undefined || v === '' ? undefined : v;
}

function splitRef(ref: string): [string, string] | undefined {
  const at = ref.lastIndexOf('@');
  return at > 0 ? [ref.slice(0, at), ref.slice(at + 1)] : undefined;
}

/**
 * Facts of an image target from the labels the generator writes (dev.factory.product =
 * name@version, dev.factory.variant, dev.factory.template, dev.factory.fragments = comma-separated
 * refs), falling back to the OCI title/version labels.
 */
export function targetFacts(name: string, t: BakeTarget): TargetFacts {
  const product = splitRef(label(t, 'dev.factory.product') ?? '');
  const productName = product?.[0] ?? label(t, 'org.opencontainers.image.title') ?? name;
  const productVersion = product?.[1] ?? label(t, 'org.opencontainers.image.version') ?? '0.0.0';
  const facts: TargetFacts = {
    target: name,
    productName,
    productVersion,
    variant: label(t, 'dev.factory.variant') ?? 'default',
    platform: t.platforms?.[0] ?? 'linux/amd64',
    fragmentRefs: (label(t, 'dev.factory.fragments') ?? '').split(/[\s,]+/).filter(Boolean),
    tags: [...(t.tags ?? [])],
  };
  const template = label(t, 'dev.factory.template');
  if (template) facts.templateRef = template;
  const base = t.args?.BASE_IMAGE;
  if (base) facts.baseImage = base;
  return facts;
}

/**
 * The test targets to run for image targets under tests: auto: the combined `test-<target>`
 * and the isolated `test-fragment-<name>-<version>-<arch>` of each fragment, where the bake file
 * defines them.
 */
export function autoTests(imageTargets: readonly string[], facts: ReadonlyMap<string, TargetFacts>, known: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const add = (n: string) => {
    if (known.has(n) && !out.includes(n)) out.push(n);
  };
  for (const t of imageTargets) {
    add(`test-${t}`);
    const f = facts.get(t);
    const arch = f?.platform.split('/')[1] ?? '';
    for (const ref of f?.fragmentRefs ?? []) {
      const parts = splitRef(ref);
      if (parts) add(sanitize(`test-fragment-${parts[0]}-${parts[1]}-${arch}`));
    }
  }
  return out;
}

export function dockerfileOf(t: BakeTarget): string | undefined {
  if (!t.dockerfile) return undefined;
  const ctx = t.context ?? '.';
  if (t.dockerfile.startsWith('/') || ctx === '.' || ctx === '') return t.dockerfile;
  return `${ctx.replace(/\/+$/, '')}/${t.dockerfile}`;
}
