// A typed client for the OCI distribution (registry HTTP API v2) read side: resolve a
// reference to its digest, check that a manifest exists, list tags, read manifests, image
// configs and the platforms of an index. `factory lock` pins base images with it, change
// detection asks it whether a content-addressed tag is already pushed, and the e2e suite
// inspects what the builds pushed. The action reads the size, SBOM and provenance of a pushed
// image through source().
//
// Only anonymous pulls plus optional static credentials: the factory never pushes through this
// client (BuildKit does), so it does not need upload or docker credential helpers.
import { apiHost, formatReference, isLoopbackHost, parseReference, withDigest, type ImageReference } from './reference.js';
import { attestationSubject, decodeManifest, isAttestation, ManifestFormatError, MEDIA_TYPES, platformString, sha256Digest } from './oci.js';
import type { BlobSource, Descriptor, ImageConfig, ImageManifest, Manifest } from './types.js';

// Index types first: asking for a tag must give the multi-platform index when there is one,
// not whatever single manifest the registry would pick for us.
const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest].join(', ');

export interface FetchedManifest {
  reference: ImageReference;
  digest: string;
  mediaType: string;
  size: number;
  /** The exact bytes the digest was computed over. */
  raw: Uint8Array;
  manifest: Manifest;
}

export interface PlatformImage {
  platform: string;
  digest: string;
  annotations: Record<string, string>;
  /** Annotations of the image manifest itself (bake `annotations` with the `manifest:` type). */
  manifestAnnotations: Record<string, string>;
  labels: Record<string, string>;
  config: ImageConfig;
  layers: number;
}

export interface ImageInspection {
  reference: string;
  digest: string;
  mediaType: string;
  /** Annotations of the top-level index (or of the manifest when it is a single image). */
  annotations: Record<string, string>;
  /** One per runnable platform, sorted by platform. */
  images: PlatformImage[];
  /** Attestation manifests (SBOM, provenance) BuildKit attaches, keyed by the image digest they describe. */
  attestations: Record<string, Descriptor>;
}

export interface Credentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  /** Injected for tests of the auth flow; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Hosts reached over plain HTTP besides loopback ones. */
  insecureRegistries?: readonly string[];
  /** Static credentials per registry host, used for Basic auth and for token requests. */
  credentials?: (registry: string) => Credentials | undefined;
  timeoutMs?: number;
}

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
    readonly url: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header value (one challenge; registries send one). */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2] ?? '')) !== null) {
    params[(p[1] ?? '').toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme: (m[1] ?? '').toLowerCase(), params };
}

function toRef(ref: string | ImageReference): ImageReference {
  return typeof ref === 'string' ? parseReference(ref) : ref;
}

function refName(r: ImageReference): string {
  return formatReference(r);
}

export class RegistryClient {
  private readonly fetchImpl: typeof fetch;
  private readonly insecure: Set<string>;
  private readonly credentials: RegistryClientOptions['credentials'];
  private readonly timeoutMs: number;
  /** Bearer tokens by registry + scope; anonymous tokens are short-lived but outlive a run. */
  private readonly tokens = new Map<string, string>();

  constructor(options: RegistryClientOptions = {}) {
    this.fetchImpl = options.fetch ?? fetch;
    this.insecure = new Set(options.insecureRegistries ?? []);
    this.credentials = options.credentials;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  baseUrl(registry: string): string {
    const scheme = isLoopbackHost(registry) || this.insecure.has(registry) ? 'http' : 'https';
    return `${scheme}://${apiHost(registry)}/v2`;
  }

  /** Digest, media type and size of what the reference points at, without downloading it. */
  async resolve(ref: string | ImageReference): Promise<Descriptor> {
    const r = toRef(ref);
    const res = await this.request(r, 'HEAD', `/${r.repository}/manifests/${r.digest ?? r.tag}`, MANIFEST_ACCEPT);
    const digest = res.headers.get('docker-content-digest');
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const size = Number(res.headers.get('content-length') ?? NaN);
    if (digest && /^sha256:[a-f0-9]{64}$/.test(digest) && mediaType && Number.isFinite(size)) {
      if (r.digest !== undefined && digest !== r.digest) {
        throw new RegistryError(`${refName(r)}: registry answered digest ${digest}`, res.status, undefined, res.url);
      }
      return { mediaType, digest, size };
    }
    // Some registries omit the digest header on HEAD; the body's hash is the digest.
    const m = await this.getManifest(r);
    return { mediaType: m.mediaType, digest: m.digest, size: m.size };
  }

  /** False only for "not found"; auth and transport failures still throw so a skip is never wrong. */
  async manifestExists(ref: string | ImageReference): Promise<boolean> {
    try {
      await this.resolve(ref);
      return true;
    } catch (e) {
      if (e instanceof RegistryError && e.status === 404) return false;
      throw e;
    }
  }

  async getManifest(ref: string | ImageReference): Promise<FetchedManifest> {
    const r = toRef(ref);
    const res = await this.request(r, 'GET', `/${r.repository}/manifests/${r.digest ?? r.tag}`, MANIFEST_ACCEPT);
    const raw = new Uint8Array(await res.arrayBuffer());
    const digest = sha256Digest(raw);
    const announced = res.headers.get('docker-content-digest');
    if ((announced && announced.startsWith('sha256:') && announced !== digest) || (r.digest && r.digest !== digest)) {
      throw new RegistryError(
        `${refName(r)}: manifest content hashes to ${digest}, not ${r.digest ?? announced}; the registry or a proxy altered it`,
        res.status,
        'DIGEST_INVALID',
        res.url,
      );
    }
    try {
      const { mediaType, manifest } = decodeManifest(raw, (res.headers.get('content-type') ?? '').split(';')[0]?.trim());
      return { reference: r, digest, mediaType, size: raw.byteLength, raw, manifest };
    } catch (e) {
      if (e instanceof ManifestFormatError) throw new RegistryError(`${refName(r)}: ${e.message}`, res.status, 'MANIFEST_INVALID', res.url);
      throw e;
    }
  }

  /** The repository's manifests and blobs by digest, the same reads an OCI layout offers. */
  source(ref: string | ImageReference): BlobSource {
    const r = toRef(ref);
    return {
      manifest: async (digest) => (await this.getManifest(withDigest(r, digest))).manifest,
      blob: (digest) => this.getBlob(r, digest),
    };
  }

  /** All tags of the repository, following `Link` pagination, sorted. */
  async listTags(ref: string | ImageReference): Promise<string[]> {
    const r = toRef(ref);
    const tags: string[] = [];
    let path: string | undefined = `/${r.repository}/tags/list?n=1000`;
    while (path !== undefined) {
      let res: Response;
      try {
        res = await this.request(r, 'GET', path, 'application/json');
      } catch (e) {
        // A repository that was never pushed has no tags rather than an error.
        if (e instanceof RegistryError && e.status === 404 && tags.length === 0) return [];
        throw e;
      }
      const body = (await res.json()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      const link = res.headers.get('link');
      const next = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1] : undefined;
      path = next ? next.replace(/^(https?:\/\/[^/]+)?\/v2/, '') : undefined;
    }
    return [...new Set(tags)].sort();
  }

  /** Repository names of the registry (GET /v2/_catalog, following pagination), sorted. */
  async catalog(registry: string): Promise<string[]> {
    const r: ImageReference = { registry, repository: '_catalog' };
    const repos: string[] = [];
    let path: string | undefined = '/_catalog?n=1000';
    while (path !== undefined) {
      const res = await this.request(r, 'GET', path, 'application/json', 'registry:catalog:*');
      const body = (await res.json()) as { repositories?: string[] | null };
      repos.push(...(body.repositories ?? []));
      const link = res.headers.get('link');
      const next = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1] : undefined;
      path = next ? next.replace(/^(https?:\/\/[^/]+)?\/v2/, '') : undefined;
    }
    return [...new Set(repos)].sort();
  }

  /**
   * Manifests whose `subject` is the digest (the OCI referrers API: signatures, attestations).
   * Undefined when the registry has no referrers API (distribution 2.x answers 404): callers
   * then fall back to cosign's `sha256-<hex>.sig` tag scheme.
   */
  async referrers(ref: string | ImageReference, digest: string): Promise<Descriptor[] | undefined> {
    const r = toRef(ref);
    let res: Response;
    try {
      res = await this.request(r, 'GET', `/${r.repository}/referrers/${digest}`, MEDIA_TYPES.ociIndex);
    } catch (e) {
      if (e instanceof RegistryError && e.status === 404) return undefined;
      throw e;
    }
    const body = (await res.json()) as { manifests?: Descriptor[] };
    return body.manifests ?? [];
  }

  /** DELETE /v2/<name>/manifests/<digest>: removes the manifest and every tag that points at it. */
  async deleteManifest(ref: string | ImageReference): Promise<void> {
    const r = toRef(ref);
    if (!r.digest) throw new RegistryError(`${refName(r)}: a manifest is deleted by digest, not by tag`, undefined, undefined, this.baseUrl(r.registry));
    const res = await this.request(r, 'DELETE', `/${r.repository}/manifests/${r.digest}`, '*/*', `repository:${r.repository}:delete`);
    await res.body?.cancel();
  }

  async getBlob(ref: string | ImageReference, digest: string): Promise<Uint8Array> {
    const r = toRef(ref);
    const res = await this.request(r, 'GET', `/${r.repository}/blobs/${digest}`, '*/*');
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (digest.startsWith('sha256:') && sha256Digest(bytes) !== digest) {
      throw new RegistryError(`${refName(r)}: blob ${digest} content does not match its digest`, res.status, 'DIGEST_INVALID', res.url);
    }
    return bytes;
  }

  async getImageConfig(ref: string | ImageReference, manifest?: ImageManifest): Promise<ImageConfig> {
    const r = toRef(ref);
    let m = manifest;
    if (m === undefined) {
      const fetched = await this.getManifest(r);
      if (fetched.manifest.kind !== 'image') {
        throw new RegistryError(
          `${refName(r)} is a multi-platform index; pick a platform (inspect() lists them)`,
          undefined,
          undefined,
          this.baseUrl(r.registry),
        );
      }
      m = fetched.manifest.image;
    }
    const bytes = await this.getBlob(r, m.config.digest);
    return JSON.parse(new TextDecoder().decode(bytes)) as ImageConfig;
  }

  /**
   * Everything the e2e assertions need about a pushed image: its platforms, per-platform
   * labels and annotations, and the attestations BuildKit attached.
   */
  async inspect(ref: string | ImageReference): Promise<ImageInspection> {
    const r = toRef(ref);
    const top = await this.getManifest(r);
    const images: PlatformImage[] = [];
    const attestations: Record<string, Descriptor> = {};
    const readImage = async (desc: Descriptor | undefined, image: ImageManifest, digest: string): Promise<PlatformImage> => {
      const config = await this.getImageConfig(r, image);
      const platform = desc?.platform
        ? platformString(desc.platform)
        : platformString({ os: config.os, architecture: config.architecture, variant: config.variant });
      return {
        platform,
        digest,
        annotations: desc?.annotations ?? {},
        manifestAnnotations: image.annotations ?? {},
        labels: config.config.Labels ?? {},
        config,
        layers: image.layers.length,
      };
    };
    if (top.manifest.kind === 'image') {
      images.push(await readImage(undefined, top.manifest.image, top.digest));
    } else {
      for (const desc of top.manifest.index.manifests) {
        if (isAttestation(desc)) {
          const subject = attestationSubject(desc);
          if (subject) attestations[subject] = desc;
          continue;
        }
        const child = await this.getManifest({ ...r, tag: undefined, digest: desc.digest });
        if (child.manifest.kind !== 'image') continue; // nested indexes are not produced by bake
        images.push(await readImage(desc, child.manifest.image, desc.digest));
      }
    }
    images.sort((a, b) => (a.platform < b.platform ? -1 : a.platform > b.platform ? 1 : 0));
    const annotations = top.manifest.kind === 'index' ? (top.manifest.index.annotations ?? {}) : (top.manifest.image.annotations ?? {});
    return { reference: refName(r), digest: top.digest, mediaType: top.mediaType, annotations, images, attestations };
  }

  private async request(r: ImageReference, method: string, path: string, accept: string, scope = `repository:${r.repository}:pull`): Promise<Response> {
    const url = `${this.baseUrl(r.registry)}${path}`;
    const tokenKey = `${r.registry} ${scope}`;
    let auth = this.tokens.get(tokenKey);
    for (let attempt = 0; attempt < 2; attempt++) {
      const headers: Record<string, string> = { accept };
      if (auth !== undefined) headers.authorization = auth;
      let res: Response;
      try {
        res = await this.fetchImpl(url, { method, headers, redirect: 'follow', signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (e) {
        const cause = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
        throw new RegistryError(`cannot reach registry ${r.registry} (${url}): ${cause}; is it running and is the host right?`, undefined, undefined, url);
      }
      if (res.status === 401 && attempt === 0) {
        const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
        await res.body?.cancel();
        auth = await this.authorize(r, challenge, scope, url);
        this.tokens.set(tokenKey, auth);
        continue;
      }
      if (res.ok) return res;
      if (res.status === 401) {
        await res.body?.cancel();
        // Registries answer 401 rather than 404 for a repository the token does not cover, so
        // this is also what a misspelled private repository looks like.
        throw new RegistryError(
          `registry ${r.registry} refused access to ${r.repository} even after authenticating; check the repository name, the credentials, or that the repository is public`,
          401,
          'UNAUTHORIZED',
          url,
        );
      }
      throw await this.errorFrom(r, res, url);
    }
    throw new Error('unreachable: the request loop always returns or throws');
  }

  private async authorize(r: ImageReference, challenge: Challenge | undefined, scope: string, url: string): Promise<string> {
    const creds = this.credentials?.(r.registry);
    if (challenge?.scheme === 'basic') {
      if (!creds) {
        throw new RegistryError(`registry ${r.registry} requires a username and password`, 401, 'UNAUTHORIZED', url);
      }
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) {
      throw new RegistryError(`registry ${r.registry} answered 401 without a usable Bearer or Basic challenge`, 401, 'UNAUTHORIZED', url);
    }
    const tokenUrl = new URL(challenge.params.realm);
    if (challenge.params.service) tokenUrl.searchParams.set('service', challenge.params.service);
    tokenUrl.searchParams.set('scope', challenge.params.scope ?? scope);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    let res: Response;
    try {
      res = await this.fetchImpl(tokenUrl, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw new RegistryError(
        `cannot reach the token service ${tokenUrl.origin} of ${r.registry}: ${e instanceof Error ? e.message : String(e)}`,
        undefined,
        undefined,
        tokenUrl.toString(),
      );
    }
    if (!res.ok) {
      throw new RegistryError(
        `token service ${tokenUrl.origin} refused a pull token for ${r.repository} (HTTP ${res.status})`,
        res.status,
        'UNAUTHORIZED',
        tokenUrl.toString(),
      );
    }
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) {
      throw new RegistryError(`token service ${tokenUrl.origin} answered without a token`, res.status, 'UNAUTHORIZED', tokenUrl.toString());
    }
    return `Bearer ${token}`;
  }

  private async errorFrom(r: ImageReference, res: Response, url: string): Promise<RegistryError> {
    let code: string | undefined;
    let detail = '';
    try {
      const body = (await res.json()) as { errors?: { code?: string; message?: string }[] };
      const first = body.errors?.[0];
      code = first?.code;
      detail = first?.message ? `: ${first.message}` : '';
    } catch {
      // HEAD responses and proxies have no JSON body; the status is all there is.
    }
    const what = refName(r);
    if (res.status === 404) {
      return new RegistryError(`${what} not found in ${r.registry}${code ? ` (${code})` : ''}`, 404, code ?? 'NOT_FOUND', url);
    }
    return new RegistryError(`registry ${r.registry} answered HTTP ${res.status} for ${what}${code ? ` (${code})` : ''}${detail}`, res.status, code, url);
  }
}
