// Build keys: a content address for what a target's image is made of. Two builds with the same
// key produce equivalent images, so an image already pushed under `bk-<key>` need not be built
// again. Pure.
//
// In the key: the rendered Dockerfile (template + fragment snippets + args as rendered), the
// files the snippets may COPY, the base image reference and pinned digest, platform and
// accelerator, build args, the product's identity, image labels and the template/fragment
// refs (they become image labels), and every test the image must pass (a key claims "built
// and tested"; new tests mean it must be tested again).
// Not in the key: the git revision, the time, tags, runner and pool. They do not change what
// is built, and including the revision would make every commit rebuild everything.
import { createHash } from 'node:crypto';
import { contentDigest } from '../core/digest.js';
import { renderDockerfile, renderMemo } from '../core/render.js';
import type { RenderedDockerfile, ResolvedProduct, Target, Variant } from '../core/types.js';

export const BUILD_KEY_VERSION = 'factory-build-key/v1';
/** Tag prefix of the content-addressed tag every pushed target also gets. */
export const KEY_TAG_PREFIX = 'bk-';

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

export interface BuildKeyInputs {
  version: string;
  dockerfile: string;
  context: string;
  base: { image: string; digest: string | null };
  platform: string;
  accelerator: string;
  args: Record<string, string>;
  product: { id: string; image: string; labels: Record<string, string> };
  template: string;
  fragments: string[];
  tests: unknown;
}

function sortedRecord(r: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(r ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function buildKeyInputs(target: Target, rendered: RenderedDockerfile): BuildKeyInputs {
  const p = target.product;
  const refOf = (d: { name: string; version: string }) => `${d.name}@${d.version}`;
  return {
    version: BUILD_KEY_VERSION,
    dockerfile: rendered.text,
    context: contentDigest(p.fragments.flatMap((f) => f.files.map((file) => ({ path: file.path, bytes: file.bytes, link: file.link })))),
    base: { image: p.base.image, digest: p.base.digest ?? null },
    platform: target.platform,
    accelerator: target.accelerator,
    args: sortedRecord(target.variant.args),
    product: { id: p.id, image: p.product.doc.image, labels: sortedRecord(p.product.doc.labels) },
    template: refOf(p.template.meta.doc),
    fragments: p.fragments.map((f) => refOf(f.meta.doc)),
    tests: {
      product: p.product.doc.tests,
      fragments: p.fragments.map((f) => [refOf(f.meta.doc), f.meta.doc.tests]),
    },
  };
}

/** Hex sha256 of the canonical key inputs. */
export function buildKey(target: Target, rendered: RenderedDockerfile): string {
  return createHash('sha256').update(canonicalJson(buildKeyInputs(target, rendered))).digest('hex');
}

export function keyTag(key: string): string {
  return `${KEY_TAG_PREFIX}${key}`;
}

/**
 * Renders each (product, variant) once: both platforms of a variant share one Dockerfile, so a
 * plan over N targets renders about N/2 Dockerfiles.
 */
export class Renderer {
  private readonly cache = new Map<string, RenderedDockerfile>();
  private readonly memo = renderMemo();
  render(product: ResolvedProduct, variant: Variant): RenderedDockerfile {
    const id = `${product.id}:${variant.name}`;
    let r = this.cache.get(id);
    if (!r) {
      r = renderDockerfile(product, variant, this.memo);
      this.cache.set(id, r);
    }
    return r;
  }
  key(target: Target): string {
    return buildKey(target, this.render(target.product, target.variant));
  }
}
