// Reads what the action reports about a built image from its manifests: size and layer count
// of the platform's image manifest, and BuildKit's attestations (SPDX SBOM, SLSA provenance)
// from the attestation manifest that points at it.
import { attestationSubject, isAttestation, platformString } from '../registry/oci.js';
import { parseReference, ReferenceError } from '../registry/reference.js';
import type { BlobSource, Descriptor, ImageManifest } from '../registry/types.js';
import { SPDX_PREDICATE } from './constants.js';

export interface ImageFacts {
  /** Digest of the platform's image manifest. */
  manifestDigest: string;
  /** Config plus compressed layers, as stored in the registry. */
  sizeBytes: number;
  layerCount: number;
  /** The SPDX document (predicate of the in-toto statement). */
  sbom?: SpdxDocument;
  provenance?: unknown;
}

export interface SpdxDocument {
  spdxVersion?: string;
  packages?: unknown[];
  [k: string]: unknown;
}

async function imageManifest(src: BlobSource, digest: string): Promise<ImageManifest> {
  const m = await src.manifest(digest);
  if (m.kind !== 'image') throw new Error(`${digest} is an image index where an image manifest was expected`);
  return m.image;
}

export async function inspectImage(src: BlobSource, rootDigest: string, platform: string): Promise<ImageFacts> {
  const root = await src.manifest(rootDigest);
  let manifestDigest = rootDigest;
  let attestation: Descriptor | undefined;
  let manifest: ImageManifest;
  if (root.kind === 'index') {
    const entries = root.index.manifests;
    const images = entries.filter((d) => !isAttestation(d));
    const image =
      images.find((d) => d.platform && platformString(d.platform) === platform) ?? (images.length === 1 && !images[0]!.platform ? images[0] : undefined);
    if (!image) throw new Error(`image index ${rootDigest} has no manifest for ${platform}`);
    manifestDigest = image.digest;
    manifest = await imageManifest(src, image.digest);
    attestation = entries.find((d) => isAttestation(d) && attestationSubject(d) === image.digest);
  } else manifest = root.image;
  const layers = manifest.layers;
  const facts: ImageFacts = {
    manifestDigest,
    sizeBytes: layers.reduce((n, l) => n + l.size, 0) + manifest.config.size,
    layerCount: layers.length,
  };
  if (attestation) {
    for (const layer of (await imageManifest(src, attestation.digest)).layers) {
      const type = layer.annotations?.['in-toto.io/predicate-type'] ?? '';
      if (type !== SPDX_PREDICATE && !type.startsWith('https://slsa.dev/provenance/')) continue;
      const statement = JSON.parse(new TextDecoder().decode(await src.blob(layer.digest))) as { predicate?: unknown };
      if (type === SPDX_PREDICATE) {
        // BuildKit may attach several SPDX documents (one per scanned stage); the final image's
        // comes first.
        facts.sbom ??= statement.predicate as SpdxDocument;
      } else facts.provenance = statement.predicate;
    }
  }
  return facts;
}

export function packageCount(sbom: SpdxDocument | undefined): number | undefined {
  return Array.isArray(sbom?.packages) ? sbom.packages.length : undefined;
}

/** The base image digest: from a digest-pinned reference, else from the provenance BuildKit attached. */
export function baseDigest(provenance: unknown, baseImage: string | undefined): string | undefined {
  if (baseImage?.includes('@sha256:')) return baseImage.slice(baseImage.indexOf('@') + 1);
  // SLSA provenance v0.2 lists "materials", v1 "buildDefinition.resolvedDependencies".
  type Dep = { uri?: string; digest?: { sha256?: string } };
  const p = provenance as { materials?: Dep[]; buildDefinition?: { resolvedDependencies?: Dep[] } } | undefined;
  const materials = p?.materials ?? p?.buildDefinition?.resolvedDependencies ?? [];
  const images = materials.filter((m) => m.uri?.startsWith('pkg:docker/') && m.digest?.sha256);
  const repo = baseImage ? repositoryOf(baseImage) : undefined;
  const m = (repo ? images.find((x) => x.uri!.includes(repo)) : undefined) ?? images[0];
  return m ? `sha256:${m.digest!.sha256}` : undefined;
}

function repositoryOf(image: string): string | undefined {
  try {
    return parseReference(image).repository;
  } catch (e) {
    // A BASE_IMAGE the parser refuses still builds if BuildKit takes it; the record then falls
    // back to the first image the provenance lists rather than failing.
    if (e instanceof ReferenceError) return undefined;
    throw e;
  }
}
