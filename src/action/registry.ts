// The outside tool "OCI registry": a small client of the distribution HTTP API (manifests and
// blobs by digest, anonymous or docker-login bearer tokens), plus the same reads from an OCI
// image layout directory. Both satisfy BlobSource, so the SBOM/size code does not care where
// the image went.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ActionError } from './errors.js';

export interface BlobSource {
  /** A manifest or index by digest, parsed. */
  manifest(digest: string): Promise<OciManifest>;
  blob(digest: string): Promise<Buffer>;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface OciManifest {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface ImageRef {
  host: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export function parseImageRef(ref: string): ImageRef {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  let host = 'registry-1.docker.io';
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    host = first;
    rest = rest.slice(slash + 1);
  } else if (!rest.includes('/')) {
    rest = `library/${rest}`;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const r: ImageRef = { host: host === 'docker.io' ? 'registry-1.docker.io' : host, repository: rest };
  if (tag) r.tag = tag;
  if (digest) r.digest = digest;
  return r;
}

function isLocal(host: string): boolean {
  return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);
}

/** Credentials `docker login` stored in plain text (config.json "auths"), if any. */
function dockerAuth(host: string): string | undefined {
  const dir = process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
  try {
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { auths?: Record<string, { auth?: string }> };
    const keys = host === 'registry-1.docker.io' ? ['https://index.docker.io/v1/', 'docker.io', host] : [host, `https://${host}`];
    for (const k of keys) if (cfg.auths?.[k]?.auth) return cfg.auths[k]!.auth;
  } catch {
    // no config: anonymous
  }
  return undefined;
}

export class RegistryClient implements BlobSource {
  private token: string | undefined;
  private readonly base: string;

  constructor(
    readonly host: string,
    readonly repository: string,
    opts: { insecure?: boolean } = {},
  ) {
    this.base = `${opts.insecure || isLocal(host) ? 'http' : 'https'}://${host}/v2/${repository}`;
  }

  private async get(url: string, accept?: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (accept) headers.accept = accept;
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res = await fetch(url, { headers });
    if (res.status === 401 && !this.token) {
      await this.authenticate(res.headers.get('www-authenticate') ?? '');
      if (this.token) headers.authorization = `Bearer ${this.token}`;
      res = await fetch(url, { headers });
    }
    if (!res.ok) throw new ActionError(`registry ${this.host}: GET ${url} answered ${res.status} ${res.statusText}`);
    return res;
  }

  private async authenticate(challenge: string): Promise<void> {
    const m = /^Bearer\s+(.*)$/i.exec(challenge);
    if (!m) return;
    const params = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (!params.realm) return;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${this.repository}:pull`);
    const auth = dockerAuth(this.host);
    const res = await fetch(url, auth ? { headers: { authorization: `Basic ${auth}` } } : {});
    if (!res.ok) throw new ActionError(`registry ${this.host}: token request answered ${res.status}; log in with docker/login-action`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    this.token = body.token ?? body.access_token;
  }

  async manifest(ref: string): Promise<OciManifest> {
    const res = await this.get(`${this.base}/manifests/${ref}`, MANIFEST_ACCEPT);
    return (await res.json()) as OciManifest;
  }

  async blob(digest: string): Promise<Buffer> {
    const res = await this.get(`${this.base}/blobs/${digest}`);
    return Buffer.from(await res.arrayBuffer());
  }
}

/** An OCI image layout directory (what `type=oci,tar=false` writes). */
export class LayoutSource implements BlobSource {
  constructor(readonly dir: string) {}

  private file(digest: string): string {
    const [alg, hex] = digest.split(':');
    return path.join(this.dir, 'blobs', alg!, hex!);
  }

  /** The top descriptor of index.json (the image index or manifest BuildKit exported). */
  root(): Descriptor {
    const index = JSON.parse(fs.readFileSync(path.join(this.dir, 'index.json'), 'utf8')) as OciManifest;
    const d = index.manifests?.[0];
    if (!d) throw new ActionError(`${this.dir}/index.json lists no manifest`);
    return d;
  }

  async manifest(digest: string): Promise<OciManifest> {
    return JSON.parse(await fs.promises.readFile(this.file(digest), 'utf8')) as OciManifest;
  }

  async blob(digest: string): Promise<Buffer> {
    return fs.promises.readFile(this.file(digest));
  }
}
