// `factory lock --resolve-bases` / `lock --check` against a real registry (docker-registry on a
// free loopback port): base images are pinned by digest through the registry's HTTP API,
// generation uses the pinned reference, and a moved tag or a missing pin is caught.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/cli.js';
import type { Io } from '../../src/cli/output.js';
import { pushImage, startTestRegistry, type TestRegistry } from '../../src/registry/testing.js';

let reg: TestRegistry;
let root: string;
let image: string;

async function factory(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), color: false };
  const code = await run(['--root', root, ...argv], io);
  return { code, out, err };
}

const push = (layer: string) => pushImage(reg.host, 'base/debian', { platform: { os: 'linux', architecture: 'amd64' }, labels: {}, layer }, 'bookworm');

beforeAll(async () => {
  reg = await startTestRegistry();
  root = mkdtempSync(path.join(os.tmpdir(), 'factory-lock-'));
  cpSync(path.resolve(__dirname, '../fixtures/good/minimal'), root, { recursive: true });
  image = `${reg.host}/base/debian:bookworm`;
  const manifest = path.join(root, 'manifests/factory.yaml');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('image: docker.io/library/debian:bookworm-slim', `image: ${image}`));
}, 60_000);

afterAll(async () => {
  await reg?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('base image pins (needs the docker-registry binary the sandbox installs)', () => {
  it('pins, generates from the pin, and notices a moved tag', async () => {
    const first = await push('debian bookworm, first build');

    const unpinned = await factory('lock', '--check');
    expect(unpinned.code).toBe(3);
    expect(unpinned.err).toContain(`base 'debian' (${image}) is not pinned`);

    const lock = await factory('lock', '--resolve-bases');
    expect(lock.err).toBe('');
    expect(lock.code).toBe(0);
    const written = JSON.parse(readFileSync(path.join(root, 'factory.lock.json'), 'utf8'));
    expect(written.bases).toEqual({ debian: { image, digest: first.digest } });
    expect((await factory('lock', '--check')).code).toBe(0);

    expect((await factory('generate')).code).toBe(0);
    const hcl = readFileSync(path.join(root, 'docker-bake.hcl'), 'utf8');
    expect(hcl).toContain(`${image}@${first.digest}`);
    const list = JSON.parse((await factory('--json', 'list')).out) as { base: string }[];
    expect(new Set(list.map((t) => t.base))).toEqual(new Set([`${image}@${first.digest}`]));

    // A security rebuild of the base moves the tag: the pin is now stale.
    const second = await push('debian bookworm, patched');
    const moved = await factory('lock', '--check');
    expect(moved.code).toBe(3);
    expect(moved.err).toContain(`moved: pinned ${first.digest}, registry has ${second.digest}`);
    expect(moved.err).toContain("run 'factory lock --resolve-bases'");

    expect((await factory('lock', '--resolve-bases')).code).toBe(0);
    expect((await factory('lock', '--check')).code).toBe(0);
    const stale = await factory('generate', '--check');
    expect(stale.code).toBe(3);
    expect(stale.err).toContain('docker-bake.hcl: stale');
  });

  it('says what to do when the registry cannot be reached', async () => {
    const manifest = path.join(root, 'manifests/factory.yaml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(`image: ${image}`, 'image: 127.0.0.1:9/base/debian:bookworm'));
    const r = await factory('lock', '--resolve-bases');
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/cannot resolve 127\.0\.0\.1:9\/base\/debian:bookworm through the registry: .*Is the registry up/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
