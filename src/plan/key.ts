// Build keys: a content address for what a target's image is made of. Two builds with the same
// key produce equivalent images, so an image already pushed under `bk-<key>` need not be built
// again. Pure.
//
// In the key: the rendered Dockerfile (template + fragment snippets + args as rendered), the
// files the snippets may COPY, the base image reference and pinned digest, platform and
// accelerator, build args, the product's identity, the image labels as the generator writes
// them (bake-variable labels by the variable, not its value), the template/fragment refs, and
// every test the image must pass, with the generated runner and its library (a key claims
// "built and tested"; new tests, or tests run differently, mean it must be tested again).
// What the generators add is hashed as generated, so a generator change that alters labels or
// the runner changes the keys it affects with no hand bump of BUILD_KEY_VERSION.
// Not in the key: the git revision, the time, tags, the CI runner and pool. They do not change what
// is built, and including the revision would make every commit rebuild everything.
import { createHash } from 'node:crypto';
import { combinedRunner } from '../../generators/build-files.js';
import { combinedTestCases, generateRunnerLib, runnerMemo, type RunnerMemo } from '../../generators/testrunner.js';
import { contentDigest } from '../core/digest.js';
import { refOf, variantId } from '../core/ids.js';
import { imageLabels } from '../core/labels.js';
import type { HclPart } from '../core/escape.js';
import { renderDockerfile, renderMemo } from '../core/render.js';
import type { RenderedDockerfile, ResolvedProduct, Target, Variant } from '../core/types.js';

// v2: labels and the generated runner joined the inputs (every key changed once).
export const BUILD_KEY_VERSION = 'factory-build-key/v2';
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
  product: { id: string; image: string };
  labels: Readonly<Record<string, readonly HclPart[]>>;
  template: string;
  fragments: string[];
  tests: unknown;
  /** sha256 of the generated runner and of its library; null when the target has no tests. */
  runner: { script: string; lib: string } | null;
}

/** What the generators make of a target besides its Dockerfile: its labels and test runner. */
export interface GeneratedParts {
  labels: Readonly<Record<string, readonly HclPart[]>>;
  /** The combined test's runner script and the library it sources; null without tests. */
  runner: { script: string; lib: string } | null;
}

/** The target's labels and runner exactly as build-files.ts generates them. */
export function generatedParts(target: Target, rendered: RenderedDockerfile, memo: RunnerMemo = runnerMemo()): GeneratedParts {
  const { product: p, variant: v } = target;
  const labels = imageLabels(p, v).parts;
  const cases = combinedTestCases(p);
  if (cases.length === 0) return { labels, runner: null };
  return { labels, runner: { script: combinedRunner(p, v, rendered.text, memo, cases), lib: generateRunnerLib() } };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function sortedRecord(r: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(r ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function buildKeyInputs(target: Target, rendered: RenderedDockerfile, generated: GeneratedParts = generatedParts(target, rendered)): BuildKeyInputs {
  const p = target.product;
  return {
    version: BUILD_KEY_VERSION,
    dockerfile: rendered.text,
    context: contentDigest(p.fragments.flatMap((f) => f.files.map((file) => ({ path: file.path, bytes: file.bytes, link: file.link })))),
    base: { image: p.base.image, digest: p.base.digest ?? null },
    platform: target.platform,
    accelerator: target.accelerator,
    args: sortedRecord(target.variant.args),
    product: { id: p.id, image: p.product.doc.image },
    labels: generated.labels,
    template: refOf(p.template.meta.doc),
    fragments: p.fragments.map((f) => refOf(f.meta.doc)),
    tests: {
      product: p.product.doc.tests,
      fragments: p.fragments.map((f) => [refOf(f.meta.doc), f.meta.doc.tests]),
    },
    runner: generated.runner && { script: sha256(generated.runner.script), lib: sha256(generated.runner.lib) },
  };
}

/** Hex sha256 of the canonical key inputs. */
export function buildKey(target: Target, rendered: RenderedDockerfile, generated?: GeneratedParts): string {
  return sha256(canonicalJson(buildKeyInputs(target, rendered, generated)));
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
  private readonly runners = runnerMemo();
  render(product: ResolvedProduct, variant: Variant): RenderedDockerfile {
    const id = variantId(product.id, variant.name);
    let r = this.cache.get(id);
    if (!r) {
      r = renderDockerfile(product, variant, this.memo);
      this.cache.set(id, r);
    }
    return r;
  }
  key(target: Target): string {
    const rendered = this.render(target.product, target.variant);
    return buildKey(target, rendered, generatedParts(target, rendered, this.runners));
  }
}
