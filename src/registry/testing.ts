// Test support: a real, throwaway `docker-registry` (Debian's distribution 2.x binary) on a free
// loopback port, and a minimal uploader to seed it with images through the HTTP API. Used by the
// registry client's integration tests; nothing in the product imports it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MEDIA_TYPES, sha256Digest } from './oci.js';
import type { Descriptor, Platform } from './types.js';

export const REGISTRY_BINARY = process.env.FACTORY_REGISTRY_BINARY ?? '/usr/bin/docker-registry';

export interface TestRegistry {
  /** host:port */
  host: string;
  dir: string;
  log: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * `extraConfig`: YAML appended to the generated config (e.g. an `auth:` section); `dataDir`:
 * serve another registry's storage (seed through an open registry, serve with auth).
 */
export async function startTestRegistry(extraConfig = '', dataDir?: string): Promise<TestRegistry> {
  if (!existsSync(REGISTRY_BINARY)) {
    throw new Error(
      `registry integration tests need ${REGISTRY_BINARY} (Debian package docker-registry); run scripts/sandbox.sh up or apt-get install docker-registry`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'factory-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1
log: {level: warn, formatter: text}
storage:
  filesystem: {rootdirectory: ${dataDir ?? join(dir, 'data')}}
  delete: {enabled: true}
http:
  addr: ${host}
${extraConfig}`,
  );
  const log = join(dir, 'registry.log');
  const fd = openSync(log, 'a');
  const child: ChildProcess = spawn(REGISTRY_BINARY, ['serve', config], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not start on ${host}; see ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host,
    dir,
    log,
    async stop() {
      if (!exited) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function pushBlob(host: string, repo: string, bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
  const digest = sha256Digest(bytes);
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`blob upload start: HTTP ${start.status}`);
  const location = new URL(start.headers.get('location') ?? '', `http://${host}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from(bytes),
  });
  if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${await put.text()}`);
  return { mediaType, digest, size: bytes.byteLength };
}

export async function pushManifest(host: string, repo: string, reference: string, body: object, mediaType: string): Promise<Descriptor> {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'content-type': mediaType },
    body: Buffer.from(bytes),
  });
  if (res.status !== 201) throw new Error(`manifest upload ${repo}:${reference}: HTTP ${res.status} ${await res.text()}`);
  return { mediaType, digest: sha256Digest(bytes), size: bytes.byteLength };
}

export interface SeedImage {
  platform: Platform;
  labels: Record<string, string>;
  /** Bytes of the one (fake, uncompressed) layer; makes images differ. */
  layer: string;
  annotations?: Record<string, string>;
  /** The config's `created` (ISO 8601), as BuildKit writes it from SOURCE_DATE_EPOCH. */
  created?: string;
}

/** Pushes one single-platform image manifest; returns its descriptor (with platform). */
export async function pushImage(host: string, repo: string, image: SeedImage, tag?: string): Promise<Descriptor> {
  const layer = await pushBlob(host, repo, new TextEncoder().encode(image.layer), 'application/vnd.oci.image.layer.v1.tar');
  const config = {
    architecture: image.platform.architecture,
    os: image.platform.os,
    ...(image.platform.variant ? { variant: image.platform.variant } : {}),
    ...(image.created ? { created: image.created } : {}),
    config: { Labels: image.labels },
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
  };
  const cfg = await pushBlob(host, repo, new TextEncoder().encode(JSON.stringify(config)), MEDIA_TYPES.ociConfig);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: cfg,
    layers: [layer],
    ...(image.annotations ? { annotations: image.annotations } : {}),
  };
  const desc = await pushManifest(host, repo, tag ?? sha256Digest(new TextEncoder().encode(JSON.stringify(manifest))), manifest, MEDIA_TYPES.ociManifest);
  return { ...desc, platform: image.platform };
}

/** Pushes an index over already pushed manifests under `tag`. */
export async function pushIndex(
  host: string,
  repo: string,
  tag: string,
  manifests: Descriptor[],
  mediaType: string = MEDIA_TYPES.ociIndex,
  annotations?: Record<string, string>,
): Promise<Descriptor> {
  const body = { schemaVersion: 2, mediaType, manifests, ...(annotations ? { annotations } : {}) };
  return pushManifest(host, repo, tag, body, mediaType);
}
