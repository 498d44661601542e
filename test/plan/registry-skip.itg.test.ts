// Content-addressed skips against a real registry (Debian's docker-registry, started here on a
// free loopback port): an image pushed under a target's build-key tag makes the next plan skip
// that target, through the same RegistryClient the CLI uses.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planChanges } from '../../src/plan/index.js';
import { RegistryClient } from '../../src/registry/client.js';
import { applyEdits, commitAll, repoFromFixture } from './repo.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/factory');
const REGISTRY_BIN = process.env.DOCKER_REGISTRY ?? '/usr/bin/docker-registry';

let registry: ChildProcess | undefined;
let addr = '';
let dir = '';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

beforeAll(async () => {
  if (!fs.existsSync(REGISTRY_BIN)) {
    throw new Error(`${REGISTRY_BIN} is not installed: apt-get install docker-registry (or set DOCKER_REGISTRY)`);
  }
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-registry-'));
  addr = `127.0.0.1:${await freePort()}`;
  fs.writeFileSync(
    path.join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: ${addr}\n`,
  );
  registry = spawn(REGISTRY_BIN, ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`http://${addr}/v2/`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not answer on ${addr}`);
}, 30_000);

afterAll(() => {
  registry?.kill();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Pushes a minimal OCI image (a config, no layers) under `repo:tag` through the HTTP API. */
async function pushImage(repo: string, tag: string): Promise<void> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const start = await fetch(`http://${addr}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  expect(start.status).toBe(202);
  const location = new URL(start.headers.get('location')!, `http://${addr}`);
  location.searchParams.set('digest', sha(config));
  const put = await fetch(location, { method: 'PUT', body: config, headers: { 'content-type': 'application/octet-stream' } });
  expect(put.status).toBe(201);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: [],
    }),
  );
  const res = await fetch(`http://${addr}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  expect(res.status, await res.text()).toBe(201);
}

describe('build-key skips against a real registry', () => {
  it('skips exactly the targets whose build-key image exists', async () => {
    expect(spawnSync('git', ['--version']).status).toBe(0);
    const { root, base } = repoFromFixture(FIXTURE);
    try {
      const client = new RegistryClient({ timeoutMs: 5_000 });
      const registryCheck = (ref: string) => client.manifestExists(ref);
      // A change that affects tools on both platforms without changing what is built.
      applyEdits(root, { replace: [{ file: 'manifests/products.yaml', from: 'description: A small tools image.', to: 'description: Tools.' }] });
      commitAll(root, 'describe tools');

      const before = await planChanges({ repoRoot: root, base, registry: addr, registryCheck });
      expect(before.build).toEqual(['tools-default-amd64', 'tools-default-arm64']);
      expect(before.skipped).toEqual([]);
      expect(before.warnings).toEqual([]);

      // The amd64 image was built earlier and tagged with its key, as the build job does.
      const amd64 = before.affected.find((p) => p.target === 'tools-default-amd64')!;
      expect(amd64.keyRef).toBe(`${addr}/factory/tools:${amd64.keyTag}`);
      await pushImage('factory/tools', amd64.keyTag);

      const after = await planChanges({ repoRoot: root, base, registry: addr, registryCheck });
      expect(after.skipped).toEqual(['tools-default-amd64']);
      expect(after.build).toEqual(['tools-default-arm64']);
      expect(after.matrices.amd64!.include).toEqual([]);
      // The manifest list takes amd64 from the registry and arm64 from this run.
      expect(after.merges.map((m) => m.sources.map((s) => `${s.platform}:${s.status}`))).toEqual([['linux/amd64:existing', 'linux/arm64:build']]);

      const forced = await planChanges({ repoRoot: root, base, registry: addr, registryCheck, force: true });
      expect(forced.build).toEqual(['tools-default-amd64', 'tools-default-arm64']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
