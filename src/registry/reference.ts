// Image reference parsing with the same normalisation rules as the docker CLI and BuildKit
// (distribution/reference): a first path component is a registry host only when it contains
// "." or ":" or is "localhost"; Docker Hub names get the "library/" prefix.

export interface ImageReference {
  /** Registry host as written (docker.io for Docker Hub), with port when given. */
  registry: string;
  /** Repository path inside the registry, e.g. "library/debian". */
  repository: string;
  tag?: string;
  /** "sha256:<hex>" when the reference is pinned. */
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';

const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const HOST_RE = /^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?$/;

export class ReferenceError extends Error {
  constructor(
    readonly ref: string,
    reason: string,
  ) {
    super(`invalid image reference "${ref}": ${reason}`);
    this.name = 'ImageReferenceError';
  }
}

export function parseReference(ref: string): ImageReference {
  if (ref.length === 0) throw new ReferenceError(ref, 'empty');
  if (ref !== ref.trim()) throw new ReferenceError(ref, 'must not contain whitespace');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) {
      throw new ReferenceError(ref, `digest "${digest}" must be "sha256:" followed by 64 lower-case hex digits`);
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw new ReferenceError(ref, `tag "${tag}" must match ${TAG_RE.source}`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
    if (!HOST_RE.test(registry)) throw new ReferenceError(ref, `registry host "${registry}" is not a host[:port]`);
  }
  if (parts.length === 0 || parts.some((p) => !COMPONENT_RE.test(p))) {
    throw new ReferenceError(ref, 'repository path components must be lower-case letters and digits separated by ".", "_", "__" or "-"');
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const out: ImageReference = { registry, repository: parts.join('/') };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  if (out.tag === undefined && out.digest === undefined) out.tag = 'latest';
  return out;
}

export function formatReference(r: ImageReference): string {
  return `${r.registry}/${r.repository}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/** The reference pinned to a digest (tag kept for readability, as `docker buildx` prints it). */
export function withDigest(r: ImageReference, digest: string): ImageReference {
  return { ...r, digest };
}

/** The host the HTTP API lives on (Docker Hub's API is not on docker.io itself). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB || registry === 'index.docker.io' ? DOCKER_HUB_API : registry;
}

/** Loopback registries speak plain HTTP (the sandbox's, a developer's localhost:5000). */
export function isLoopbackHost(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.split(':')[0];
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host ?? '');
}
