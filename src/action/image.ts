// Reads what the action reports about a built image from its manifests: size and layer count
// of the platform's image manifest, and BuildKit's attestations (SPDX SBOM, SLSA provenance)
// from the attestation manifest that points at it.
import { SPDX_PREDICATE } from './constants.js';
import { parseImageRef, type BlobSource, type Descriptor, type OciManifest } from './registry.js';

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

const ATTESTATION = 'attestation-manifest';

function isIndex(m: OciManifest): boolean {
  return Array.isArray(m.manifests);
}

function platformOf(d: Descriptor): string | undefined {
  if (!d.platform) return undefined;
  return [d.platform.os, d.platform.architecture, d.platform.variant].filter(Boolean).join('/');
}

export async function inspectImage(src: BlobSource, rootDigest: string, platform: string): Promise<ImageFacts> {
  const root = await src.manifest(rootDigest);
  let manifestDigest = rootDigest;
  let manifest = root;
  let attestation: Descriptor | undefined;
  if (isIndex(root)) {
    const entries = root.manifests ?? [];
    const images = entries.filter((d) => d.annotations?.['vnd.docker.reference.type'] !== ATTESTATION);
    const image = images.find((d) => platformOf(d) === platform) ?? (images.length === 1 && !images[0]!.platform ? images[0] : undefined);
    if (!image) throw new Error(`image index ${rootDigest} has no manifest for ${platform}`);
    manifestDigest = image.digest;
    manifest = await src.manifest(image.digest);
    attestation = entries.find(
      (d) => d.annotations?.['vnd.docker.reference.type'] === ATTESTATION && d.annotations?.['vnd.docker.reference.digest'] === image.digest,
    );
  }
  const layers = manifest.layers ?? [];
  const facts: ImageFacts = {
    manifestDigest,
    sizeBytes: layers.reduce((n, l) => n + l.size, 0) + (manifest.config?.size ?? 0),
    layerCount: layers.length,
  };
  if (attestation) {
    const att = await src.manifest(attestation.digest);
    for (const layer of att.layers ?? []) {
      const type = layer.annotations?.['in-toto.io/predicate-type'] ?? '';
      if (type !== SPDX_PREDICATE && !type.startsWith('https://slsa.dev/provenance/')) continue;
      const statement = JSON.parse((await src.blob(layer.digest)).toString('utf8')) as { predicate?: unknown };
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
  const repo = baseImage ? parseImageRef(baseImage).repository : undefined;
  const m = (repo ? images.find((x) => x.uri!.includes(repo)) : undefined) ?? images[0];
  return m ? `sha256:${m.digest!.sha256}` : undefined;
}
