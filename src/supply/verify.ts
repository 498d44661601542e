// `factory verify`: what a consumer checks before trusting a factory image, per platform:
// the signature (cosign, by key or by the workflow's keyless identity), SLSA provenance naming
// the repository and a commit, an SPDX SBOM, the base digest against the lock's pin, and the
// template and fragments (labels) against the factory's definition and lock. The checks are
// pure over what the edges read (the registry, cosign), so each has a unit test with fakes.
import { baseDigest, inspectImage, type ImageFacts } from '../action/image.js';
import { factoryLabels } from '../core/labels.js';
import type { ImageInspection, PlatformImage } from '../registry/client.js';
import type { BlobSource } from '../registry/types.js';

export interface Check {
  /** "index" for the manifest list itself, else the platform. */
  platform: string;
  check: 'signature' | 'provenance' | 'sbom' | 'base' | 'composition';
  ok: boolean;
  detail: string;
}

/** What the factory says the image should be (absent when verifying an unknown image@digest). */
export interface Expected {
  product: string;
  variant: string;
  template: string;
  fragments: string[];
  /** The lock's digest of each template/fragment ref (missing: not in the lock). */
  lockDigests: Record<string, string | undefined>;
  baseImage: string;
  basePin?: string;
}

export interface Signer {
  /** Verifies the signature on `ref` (repository@digest); resolves to a reason when it fails. */
  verify(ref: string): Promise<{ ok: true; detail: string } | { ok: false; detail: string }>;
}

export interface VerifyInput {
  repository: string;
  inspection: ImageInspection;
  source: BlobSource;
  signer: Signer;
  expected?: Expected;
}

type Vcs = { source?: string; revision?: string };

/** The VCS facts BuildKit puts in provenance (v0.2 metadata or v1 runDetails). */
function vcsOf(provenance: unknown): Vcs {
  const p = provenance as {
    metadata?: Record<string, { vcs?: Vcs }>;
    runDetails?: { metadata?: Record<string, { vcs?: Vcs }> };
    invocation?: { configSource?: { uri?: string } };
  };
  const meta = p?.metadata?.['https://mobyproject.org/buildkit@v1#metadata'] ?? p?.runDetails?.metadata?.['https://mobyproject.org/buildkit@v1#metadata'];
  return meta?.vcs ?? {};
}

/** The repository and commit an image says it was built from: provenance first, then its labels. */
export function sourceOf(img: PlatformImage, facts: ImageFacts): { source: string; revision: string } {
  const vcs = vcsOf(facts.provenance);
  return {
    source: vcs.source ?? img.labels['org.opencontainers.image.source'] ?? '',
    revision: vcs.revision ?? img.labels['org.opencontainers.image.revision'] ?? '',
  };
}

export function provenanceCheck(platform: string, img: PlatformImage, facts: ImageFacts): Check {
  if (facts.provenance === undefined) return { platform, check: 'provenance', ok: false, detail: 'no SLSA provenance attestation' };
  const vcs = vcsOf(facts.provenance);
  const { source, revision } = sourceOf(img, facts);
  if (!source)
    return { platform, check: 'provenance', ok: false, detail: 'provenance names no repository (no vcs source, no org.opencontainers.image.source)' };
  if (!/^[0-9a-f]{7,64}$/.test(revision)) return { platform, check: 'provenance', ok: false, detail: `provenance names no commit (revision "${revision}")` };
  const label = img.labels['org.opencontainers.image.revision'];
  if (label && vcs.revision && label !== vcs.revision)
    return { platform, check: 'provenance', ok: false, detail: `the revision label ${label} differs from the provenance's ${vcs.revision}` };
  return { platform, check: 'provenance', ok: true, detail: `${source} at ${revision.slice(0, 12)}` };
}

export function sbomCheck(platform: string, facts: ImageFacts): Check {
  const n = Array.isArray(facts.sbom?.packages) ? facts.sbom!.packages!.length : undefined;
  return facts.sbom
    ? { platform, check: 'sbom', ok: true, detail: `SPDX ${facts.sbom.spdxVersion ?? ''}, ${n ?? '?'} packages`.trim() }
    : { platform, check: 'sbom', ok: false, detail: 'no SPDX SBOM attestation' };
}

export function baseCheck(platform: string, facts: ImageFacts, expected: Expected | undefined): Check {
  const got = baseDigest(facts.provenance, expected?.baseImage);
  if (!expected)
    return {
      platform,
      check: 'base',
      ok: got !== undefined,
      detail: got ? `base ${got} (no factory pin to compare: not a product of this factory)` : 'no base digest in the provenance',
    };
  if (!expected.basePin)
    return { platform, check: 'base', ok: false, detail: `the lock has no pin for ${expected.baseImage}: run 'factory lock --resolve-bases'` };
  if (!got) return { platform, check: 'base', ok: false, detail: 'the provenance names no base image digest' };
  return got === expected.basePin
    ? { platform, check: 'base', ok: true, detail: `${got.slice(0, 19)} = the lock's pin` }
    : { platform, check: 'base', ok: false, detail: `built on ${got}, the lock pins ${expected.basePin}: rebuild, or the image predates the pin` };
}

export function compositionCheck(platform: string, img: PlatformImage, expected: Expected | undefined): Check {
  const factory = factoryLabels(img.labels);
  const template = factory.template ?? '';
  const fragments = factory.fragments;
  if (!expected)
    return {
      platform,
      check: 'composition',
      ok: template !== '',
      detail: template ? `${template} + ${fragments.join(', ')} (not compared: not a product of this factory)` : 'no dev.factory.* labels: not a factory image',
    };
  const problems: string[] = [];
  if (factory.product !== expected.product) problems.push(`product label ${factory.product ?? '(none)'}, expected ${expected.product}`);
  if (factory.variant !== expected.variant) problems.push(`variant label ${factory.variant ?? '(none)'}, expected ${expected.variant}`);
  if (template !== expected.template) problems.push(`template ${template || '(none)'}, the factory has ${expected.template}`);
  if (fragments.join(',') !== expected.fragments.join(','))
    problems.push(`fragments ${fragments.join(',') || '(none)'}, the factory has ${expected.fragments.join(',')}`);
  for (const ref of [template, ...fragments]) if (ref && !expected.lockDigests[ref]) problems.push(`${ref} is not in factory.lock.json`);
  return problems.length
    ? { platform, check: 'composition', ok: false, detail: problems.join('; ') }
    : { platform, check: 'composition', ok: true, detail: `${template} + ${fragments.length} fragments, each pinned in the lock` };
}

export async function verifyImage(v: VerifyInput): Promise<Check[]> {
  const checks: Check[] = [];
  const index = await v.signer.verify(`${v.repository}@${v.inspection.digest}`);
  checks.push({
    platform: v.inspection.images.length > 1 || v.inspection.mediaType.includes('index') ? 'index' : (v.inspection.images[0]?.platform ?? 'image'),
    check: 'signature',
    ...index,
  });
  for (const img of v.inspection.images) {
    if (img.digest !== v.inspection.digest)
      checks.push({ platform: img.platform, check: 'signature', ...(await v.signer.verify(`${v.repository}@${img.digest}`)) });
    const facts = await inspectImage(v.source, v.inspection.digest, img.platform);
    checks.push(
      provenanceCheck(img.platform, img, facts),
      sbomCheck(img.platform, facts),
      baseCheck(img.platform, facts, v.expected),
      compositionCheck(img.platform, img, v.expected),
    );
  }
  return checks;
}
