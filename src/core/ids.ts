// The one identifier: `name@version[:variant]`, and the names derived from it (variant names,
// bake target names, per-arch tags). See docs/architecture.md "Identifiers".
import { closeMatches, error } from './diagnostics.js';
import type { Diagnostic, ResolvedFactory, ResolvedProduct, Target, Variant } from './types.js';

export interface ParsedId {
  name: string;
  /** Absent for a bare product name (`llm-runtime`), which resolves when one version exists. */
  version?: string;
  variant?: string;
}

const NAME = '[a-z0-9]+(?:[._-][a-z0-9]+)*';
const VERSION = '(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)(?:-[0-9A-Za-z.-]+)?';
const VARIANT = '[A-Za-z0-9][A-Za-z0-9._:/@+=,-]*';
const ID_RE = new RegExp(`^(${NAME})(?:@(${VERSION})(?::(${VARIANT}))?)?$`);

/** Parses `name`, `name@version` or `name@version:variant`; undefined when malformed. */
export function parseId(id: string): ParsedId | undefined {
  const m = ID_RE.exec(id.trim());
  if (!m) return undefined;
  const out: ParsedId = { name: m[1]! };
  if (m[2] !== undefined) out.version = m[2];
  if (m[3] !== undefined) out.variant = m[3];
  return out;
}

export function formatId(id: { name: string; version: string; variant?: string }): string {
  return `${id.name}@${id.version}${id.variant !== undefined ? `:${id.variant}` : ''}`;
}

/** `name@version` of a versioned document. */
export function refOf(doc: { name: string; version: string }): string {
  return `${doc.name}@${doc.version}`;
}

/**
 * `build/<name>/<version>/docker-bake.hcl`: the bake file of one product version, holding only
 * its targets and what they pull in, so a build job never parses the whole factory's file.
 */
export function productBakeFile(product: { name: string; version: string }): string {
  return `build/${product.name}/${product.version}/docker-bake.hcl`;
}

/** Splits `name@version`; undefined when there is no `@`. */
export function splitRef(ref: string): { name: string; version: string } | undefined {
  const at = ref.lastIndexOf('@');
  if (at <= 0) return undefined;
  return { name: ref.slice(0, at), version: ref.slice(at + 1) };
}

/** The bake group every generated bake file has: all of its test targets. */
export const TESTS_GROUP = 'tests';

/** The named context through which a combined test target receives its image target (`target:<image target>`). */
export const IMAGE_UNDER_TEST = 'factory-image-under-test';

/** The id of a product's variant: `name@version:variant`. */
export function variantId(productId: string, variant: string): string {
  return `${productId}:${variant}`;
}

/** An image reference pinned to a digest (`image@digest`), unless there is no digest or the image names one already. */
export function pinnedImage(image: string, digest: string | undefined): string {
  return digest && !image.includes('@') ? `${image}@${digest}` : image;
}

/** `BASE_<NAME>`: the bake variable that overrides a Base image. */
export function baseVariable(name: string): string {
  return `BASE_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Matrix keys sorted, each `${key}${value}`, joined with `-`; `default` without a matrix. */
export function variantName(matrix: Readonly<Record<string, string>>): string {
  const keys = Object.keys(matrix).sort();
  if (keys.length === 0) return 'default';
  return keys.map((k) => `${k}${matrix[k]}`).join('-');
}

/** Bake target name: `${product}-${variant}-${arch}`, every char outside [A-Za-z0-9_-] replaced by `_`. */
export function targetName(product: string, variant: string, arch: string): string {
  return sanitizeTargetName(`${product}-${variant}-${arch}`);
}

export function sanitizeTargetName(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The combined test target of an image target: its fragments' and product's tests on the image. */
export function testTargetName(imageTarget: string): string {
  return `test-${imageTarget}`;
}

/** The isolated test target of a fragment version on one arch: `test-fragment-<name>-<version>-<arch>`. */
export function fragmentTestTargetName(fragment: { name: string; version: string }, arch: string): string {
  return sanitizeTargetName(`test-fragment-${fragment.name}-${fragment.version}-${arch}`);
}

/** Test targets (combined and isolated) are named `test-*`; image and stage targets never are. */
export function isTestTargetName(name: string): boolean {
  return name.startsWith('test-');
}

/** `linux/amd64` -> `amd64`. */
export function archOf(platform: string): string {
  const i = platform.lastIndexOf('/');
  return i < 0 ? platform : platform.slice(i + 1);
}

export interface IdResolution {
  product: ResolvedProduct;
  /** Set when the id named a variant. */
  variant?: Variant;
  /** The targets the id designates (all variants and platforms of the product, or one variant's). */
  targets: Target[];
}

/**
 * What an id designates in a resolved factory. Accepts `name` (when only one version exists),
 * `name@version` and `name@version:variant`; a bake target name is accepted too.
 */
export function resolveId(factory: ResolvedFactory, id: string): { ok: true; value: IdResolution } | { ok: false; diagnostic: Diagnostic } {
  const byTarget = factory.targets.find((t) => t.name === id);
  if (byTarget) return { ok: true, value: { product: byTarget.product, variant: byTarget.variant, targets: [byTarget] } };

  const allIds = factory.products.flatMap((p) => [p.id, ...p.variants.map((v) => variantId(p.id, v.name))]);
  const fail = (message: string, hint?: string): { ok: false; diagnostic: Diagnostic } => {
    const near = closeMatches(id, allIds);
    const h =
      hint ?? (near.length > 0 ? `did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : `known ids: ${listSome(factory.products.map((p) => p.id))}`);
    return { ok: false, diagnostic: error('unknown-id', message, { hint: h }) };
  };

  const parsed = parseId(id);
  if (!parsed) return fail(`"${id}" is not an id: write name@version or name@version:variant (e.g. "llm-runtime@1.4.0:python3.11")`);

  const sameName = factory.products.filter((p) => p.product.doc.name === parsed.name);
  if (sameName.length === 0) return fail(`no product named "${parsed.name}"`);

  let product: ResolvedProduct | undefined;
  if (parsed.version === undefined) {
    if (sameName.length > 1) {
      return fail(`"${parsed.name}" has ${sameName.length} versions; say which`, `one of: ${sameName.map((p) => p.id).join(', ')}`);
    }
    product = sameName[0];
  } else {
    product = sameName.find((p) => p.product.doc.version === parsed.version);
    if (!product) {
      return fail(`no version ${parsed.version} of product "${parsed.name}"`, `versions that exist: ${sameName.map((p) => p.product.doc.version).join(', ')}`);
    }
  }
  if (!product) return fail(`no product "${id}"`);
  const targets = factory.targets.filter((t) => t.product === product);
  if (parsed.variant === undefined) return { ok: true, value: { product, targets } };
  const variant = product.variants.find((v) => v.name === parsed.variant);
  if (!variant) {
    const names = product.variants.map((v) => v.name);
    const near = closeMatches(parsed.variant, names);
    return {
      ok: false,
      diagnostic: error('unknown-id', `product ${product.id} has no variant "${parsed.variant}"`, {
        hint:
          near.length > 0
            ? `did you mean ${near.map((n) => `"${variantId(product.id, n)}"`).join(' or ')}? variants: ${names.join(', ')}`
            : `variants: ${names.join(', ')}`,
      }),
    };
  }
  return { ok: true, value: { product, variant, targets: targets.filter((t) => t.variant === variant) } };
}

function listSome(xs: string[], max = 10): string {
  if (xs.length === 0) return '(none)';
  return xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')}, ... (${xs.length} in all)`;
}
