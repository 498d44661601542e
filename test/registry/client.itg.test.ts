// Integration: the client against a real docker-registry (distribution) started for this file on
// a free loopback port, seeded through the same HTTP API BuildKit pushes with.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, RegistryError } from '../../src/registry/client.js';
import { MEDIA_TYPES } from '../../src/registry/oci.js';
import type { Descriptor } from '../../src/registry/types.js';
import { pushImage, pushIndex, pushManifest, startTestRegistry, type TestRegistry } from '../../src/registry/testing.js';

let reg: TestRegistry;
let amd64: Descriptor;
let arm64: Descriptor;
let index: Descriptor;
let list: Descriptor;
const client = new RegistryClient();

beforeAll(async () => {
  reg = await startTestRegistry();
  amd64 = await pushImage(reg.host, 'factory/app', {
    platform: { os: 'linux', architecture: 'amd64' },
    labels: { 'org.opencontainers.image.version': '1.0.0', arch: 'amd64' },
    layer: 'amd64 layer',
    annotations: { 'org.opencontainers.image.title': 'app amd64' },
  });
  arm64 = await pushImage(reg.host, 'factory/app', {
    platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    labels: { 'org.opencontainers.image.version': '1.0.0', arch: 'arm64' },
    layer: 'arm64 layer',
  });
  // BuildKit puts attestation manifests in the index next to the images they describe.
  const attestation = await pushImage(reg.host, 'factory/app', {
    platform: { os: 'unknown', architecture: 'unknown' },
    labels: {},
    layer: '{"predicateType":"https://spdx.dev/Document"}',
  });
  index = await pushIndex(
    reg.host,
    'factory/app',
    '1.0.0',
    [
      amd64,
      arm64,
      {
        ...attestation,
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd64.digest },
      },
    ],
    MEDIA_TYPES.ociIndex,
    { 'org.opencontainers.image.created': '1970-01-01T00:00:00Z' },
  );
  list = await pushIndex(reg.host, 'factory/app', 'docker-list', [amd64, arm64], MEDIA_TYPES.dockerList);
  await pushImage(reg.host, 'factory/app', { platform: { os: 'linux', architecture: 'amd64' }, labels: { single: 'yes' }, layer: 'single' }, '1.0.0-amd64');
  // Tags pushed out of order come back sorted.
  for (const t of ['b-tag', 'a-tag']) {
    await pushImage(reg.host, 'factory/other', { platform: { os: 'linux', architecture: 'amd64' }, labels: {}, layer: t }, t);
  }
}, 60_000);

afterAll(async () => {
  await reg?.stop();
});

describe('resolve', () => {
  it.each([
    ['OCI index by tag', () => `${reg.host}/factory/app:1.0.0`, () => index],
    ['docker manifest list by tag', () => `${reg.host}/factory/app:docker-list`, () => list],
    ['image manifest by digest', () => `${reg.host}/factory/app@${amd64.digest}`, () => ({ ...amd64, platform: undefined })],
  ])('%s', async (_name, ref, want) => {
    const d = await client.resolve(ref());
    const w = want();
    expect(d).toEqual({ mediaType: w.mediaType, digest: w.digest, size: w.size });
  });

  it('fails with a not-found RegistryError for an unknown tag', async () => {
    const err = await client.resolve(`${reg.host}/factory/app:nope`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).status).toBe(404);
    expect((err as RegistryError).message).toBe(`${reg.host}/factory/app:nope not found in ${reg.host}`);
  });
});

describe('manifestExists', () => {
  it.each([
    ['existing tag', () => `${reg.host}/factory/app:1.0.0`, true],
    ['existing digest', () => `${reg.host}/factory/app@${arm64.digest}`, true],
    ['missing tag', () => `${reg.host}/factory/app:2.0.0`, false],
    ['missing repository', () => `${reg.host}/factory/never-pushed:1`, false],
    ['missing digest', () => `${reg.host}/factory/app@sha256:${'f'.repeat(64)}`, false],
  ])('%s', async (_name, ref, want) => {
    expect(await client.manifestExists(ref())).toBe(want);
  });
});

describe('listTags', () => {
  it('lists sorted tags', async () => {
    expect(await client.listTags(`${reg.host}/factory/app`)).toEqual(['1.0.0', '1.0.0-amd64', 'docker-list']);
    expect(await client.listTags(`${reg.host}/factory/other`)).toEqual(['a-tag', 'b-tag']);
  });

  it('gives an empty list for a repository never pushed', async () => {
    expect(await client.listTags(`${reg.host}/factory/never-pushed`)).toEqual([]);
  });
});

describe('inspect', () => {
  it('reads platforms, labels, annotations and attestations of an index', async () => {
    const i = await client.inspect(`${reg.host}/factory/app:1.0.0`);
    expect(i.digest).toBe(index.digest);
    expect(i.mediaType).toBe(MEDIA_TYPES.ociIndex);
    expect(i.annotations).toEqual({ 'org.opencontainers.image.created': '1970-01-01T00:00:00Z' });
    expect(i.images.map((x) => [x.platform, x.digest, x.labels.arch])).toEqual([
      ['linux/amd64', amd64.digest, 'amd64'],
      ['linux/arm64/v8', arm64.digest, 'arm64'],
    ]);
    expect(i.images[0]?.manifestAnnotations).toEqual({ 'org.opencontainers.image.title': 'app amd64' });
    expect(Object.keys(i.attestations)).toEqual([amd64.digest]);
  });

  it('reads a single-platform image', async () => {
    const i = await client.inspect(`${reg.host}/factory/app:1.0.0-amd64`);
    expect(i.images).toHaveLength(1);
    expect(i.images[0]?.platform).toBe('linux/amd64');
    expect(i.images[0]?.labels).toEqual({ single: 'yes' });
    expect(i.images[0]?.layers).toBe(1);
  });

  it('refuses to read a config from an index without a platform', async () => {
    await expect(client.getImageConfig(`${reg.host}/factory/app:1.0.0`)).rejects.toThrow(/multi-platform index/);
  });
});

describe('getManifest', () => {
  it('returns the exact bytes the digest covers', async () => {
    const m = await client.getManifest(`${reg.host}/factory/app:docker-list`);
    expect(m.digest).toBe(list.digest);
    expect(m.mediaType).toBe(MEDIA_TYPES.dockerList);
    expect(m.manifest.kind).toBe('index');
  });

  it('round-trips a manifest pushed under a second tag to the same digest', async () => {
    const m = await client.getManifest(`${reg.host}/factory/app:1.0.0`);
    await pushManifest(reg.host, 'factory/app', 'copy', JSON.parse(new TextDecoder().decode(m.raw)) as object, m.mediaType);
    expect((await client.resolve(`${reg.host}/factory/app:copy`)).digest).toBe(m.digest);
  });
});

describe('source', () => {
  it('reads manifests and blobs of the repository by digest, whatever tag the reference names', async () => {
    const src = client.source(`${reg.host}/factory/app:some-tag`);
    const top = await src.manifest(index.digest);
    expect(top.kind === 'index' && top.index.manifests.map((d) => d.digest)).toEqual(expect.arrayContaining([amd64.digest, arm64.digest]));
    const image = await src.manifest(amd64.digest);
    if (image.kind !== 'image') throw new Error('expected an image manifest');
    const config = JSON.parse(new TextDecoder().decode(await src.blob(image.image.config.digest))) as { config: { Labels: Record<string, string> } };
    expect(config.config.Labels.arch).toBe('amd64');
  });
});
