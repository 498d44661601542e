// The image labels the factory writes (the `dev.factory.*` provenance labels and the OCI ones),
// and their one reader. The generator puts them on every image target (bake `labels` and, for
// ANNOTATED_LABELS, `annotations`); the build key hashes them as written (src/plan/key.ts); the
// action, `factory verify` and the supply-chain checks read them back with factoryLabels().
import type { HclPart } from './escape.js';
import { baseVariable, refOf, splitRef } from './ids.js';
import type { ResolvedProduct, Variant } from './types.js';

/** The factory's own labels: product id (`name@version`), variant name, template ref, fragment refs (comma-separated). */
export const FACTORY_LABELS = {
  product: 'dev.factory.product',
  variant: 'dev.factory.variant',
  template: 'dev.factory.template',
  fragments: 'dev.factory.fragments',
} as const;

const EPOCH_EXPR = 'timeadd("1970-01-01T00:00:00Z", "${SOURCE_DATE_EPOCH}s")';

export interface ImageLabels {
  readonly parts: Readonly<Record<string, readonly HclPart[]>>;
  readonly static: Readonly<Record<string, string>>;
  readonly dynamic: readonly string[];
}

/** Labels of an image target; values are HCL template parts (some are bake variables). */
export function imageLabels(p: ResolvedProduct, variant: Variant): ImageLabels {
  const parts: Record<string, HclPart[]> = {};
  // The product's own labels first: the factory's provenance labels below always win.
  for (const [k, v] of Object.entries(p.product.doc.labels ?? {})) parts[k] = [v];
  parts['org.opencontainers.image.title'] ??= [p.product.doc.name];
  if (p.product.doc.description !== undefined) parts['org.opencontainers.image.description'] ??= [p.product.doc.description];
  parts['org.opencontainers.image.version'] = [p.product.doc.version];
  parts['org.opencontainers.image.source'] = [{ ref: 'SOURCE_URL' }];
  parts['org.opencontainers.image.revision'] = [{ ref: 'REVISION' }];
  parts['org.opencontainers.image.created'] = [{ expr: EPOCH_EXPR }];
  parts['org.opencontainers.image.base.name'] = [{ ref: baseVariable(p.base.name) }];
  parts[FACTORY_LABELS.product] = [p.id];
  parts[FACTORY_LABELS.variant] = [variant.name];
  parts[FACTORY_LABELS.template] = [refOf(p.template.meta.doc)];
  parts[FACTORY_LABELS.fragments] = [p.fragments.map((f) => refOf(f.meta.doc)).join(',')];
  const stat: Record<string, string> = {};
  const dynamic: string[] = [];
  for (const k of Object.keys(parts).sort()) {
    const v = parts[k]!;
    if (v.every((x) => typeof x === 'string')) stat[k] = v.join('');
    else dynamic.push(k);
  }
  return { parts, static: stat, dynamic };
}

// Annotations carried to the OCI index and manifest (registries show these, labels live in the
// image config): the provenance subset of the labels.
export const ANNOTATED_LABELS: readonly string[] = [
  FACTORY_LABELS.fragments,
  FACTORY_LABELS.product,
  FACTORY_LABELS.template,
  FACTORY_LABELS.variant,
  'org.opencontainers.image.created',
  'org.opencontainers.image.revision',
  'org.opencontainers.image.source',
  'org.opencontainers.image.title',
  'org.opencontainers.image.version',
];

/** What an image's (or a bake target's) labels say of its factory origin; a label that is absent or empty is undefined. */
export interface FactoryLabels {
  /** `name@version` as written */
  product?: string;
  /** the product id split, when it is one */
  productRef?: { name: string; version: string };
  variant?: string;
  template?: string;
  fragments: string[];
}

export function factoryLabels(labels: Readonly<Record<string, string | null | undefined>> | undefined): FactoryLabels {
  const get = (key: string): string | undefined => {
    const v = labels?.[key];
    return v === null || v === undefined || v === '' ? undefined : v;
  };
  const product = get(FACTORY_LABELS.product);
  const out: FactoryLabels = { fragments: (get(FACTORY_LABELS.fragments) ?? '').split(/[\s,]+/).filter(Boolean) };
  if (product !== undefined) out.product = product;
  const productRef = product !== undefined ? splitRef(product) : undefined;
  if (productRef) out.productRef = productRef;
  const variant = get(FACTORY_LABELS.variant);
  if (variant !== undefined) out.variant = variant;
  const template = get(FACTORY_LABELS.template);
  if (template !== undefined) out.template = template;
  return out;
}
