// Reading the OCI image format, shared by the registry client and the OCI layout reader.
import { createHash } from 'node:crypto';
import type { Descriptor, ImageIndex, ImageManifest, Manifest, Platform } from './types.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

// BuildKit lists attestation manifests (SBOM, provenance) in the image index beside the images,
// each annotated with the digest of the image it describes.
const REFERENCE_TYPE = 'vnd.docker.reference.type';
const REFERENCE_DIGEST = 'vnd.docker.reference.digest';

export function isAttestation(d: Descriptor): boolean {
  return d.annotations?.[REFERENCE_TYPE] === 'attestation-manifest';
}

/** The digest of the image an attestation manifest describes. */
export function attestationSubject(d: Descriptor): string | undefined {
  return d.annotations?.[REFERENCE_DIGEST];
}

/** Bytes that are not a manifest the factory reads; the caller says where they came from. */
export class ManifestFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestFormatError';
  }
}

/** `contentType`: what the transport called the bytes, for manifests that omit mediaType. */
export function decodeManifest(raw: Uint8Array, contentType?: string): { mediaType: string; manifest: Manifest } {
  let json: { mediaType?: string; manifests?: unknown; config?: unknown; layers?: unknown };
  try {
    json = JSON.parse(new TextDecoder().decode(raw)) as typeof json;
  } catch {
    throw new ManifestFormatError('manifest is not JSON');
  }
  const mediaType = json?.mediaType ?? contentType ?? MEDIA_TYPES.ociManifest;
  if (Array.isArray(json?.manifests)) return { mediaType, manifest: { kind: 'index', index: json as ImageIndex } };
  if (json?.config && Array.isArray(json.layers)) return { mediaType, manifest: { kind: 'image', image: json as ImageManifest } };
  throw new ManifestFormatError(`unsupported manifest (media type ${mediaType}); only OCI and Docker v2 manifests are read`);
}
