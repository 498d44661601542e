// Size, layers and attestations from an OCI layout that BuildKit exported (the sandbox build of
// tools-default-amd64 with `push: false`; image layer blobs removed from the fixture, the
// manifests, config and attestation blobs kept).
import { describe, expect, it } from 'vitest';
import { baseDigest, inspectImage, packageCount } from '../../src/action/image.js';
import { LayoutSource } from '../../src/registry/layout.js';

const layout = new LayoutSource(new URL('fixtures/oci-layout/', import.meta.url).pathname);

describe('inspectImage', () => {
  it('reads size, layer count, SBOM and provenance for the platform', async () => {
    const root = layout.root();
    expect(root.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    const facts = await inspectImage(layout, root.digest, 'linux/amd64');
    const index = await layout.manifest(root.digest);
    if (index.kind !== 'index') throw new Error('expected an image index');
    const image = index.index.manifests.find((m) => m.platform?.architecture === 'amd64')!;
    const manifest = await layout.manifest(image.digest);
    if (manifest.kind !== 'image') throw new Error('expected an image manifest');
    expect(facts.manifestDigest).toBe(image.digest);
    expect(facts.layerCount).toBe(manifest.image.layers.length);
    expect(facts.sizeBytes).toBe(manifest.image.layers.reduce((n, l) => n + l.size, 0) + manifest.image.config.size);
    expect(facts.sbom?.spdxVersion).toMatch(/^SPDX-2\./);
    expect(packageCount(facts.sbom)).toBe((facts.sbom!.packages as unknown[]).length);
    expect(packageCount(facts.sbom)).toBeGreaterThan(0);
    // SLSA provenance v1 (BuildKit v0.34's default): it carries the base image digest.
    const prov = facts.provenance as { buildDefinition: { buildType: string } };
    expect(prov.buildDefinition.buildType).toMatch(/moby\/buildkit/);
    expect(baseDigest(facts.provenance, '127.0.0.1:40197/base/busybox:stable')).toBe('sha256:dc9ecc51addb3a5dc2f52a0f142a75f685617a81db651844dc346aba0b5ad5a6');
  });

  it('says which platform is missing', async () => {
    await expect(inspectImage(layout, layout.root().digest, 'linux/s390x')).rejects.toThrow(/has no manifest for linux\/s390x/);
  });
});

describe('baseDigest', () => {
  const D = (c: string) => c.repeat(64);
  const provenance = {
    materials: [
      { uri: 'pkg:docker/docker/dockerfile@1', digest: { sha256: D('a') } },
      { uri: 'pkg:docker/library/debian@bookworm?platform=linux%2Famd64', digest: { sha256: D('b') } },
    ],
  };

  it.each([
    ['a digest-pinned reference', `debian:bookworm@sha256:${D('c')}`, `sha256:${D('c')}`],
    ['the provenance entry of the base repository', 'debian:bookworm', `sha256:${D('b')}`],
    ['the first image for a reference the parser refuses', 'Debian:bookworm', `sha256:${D('a')}`],
  ])('takes %s', (_name, base, want) => {
    expect(baseDigest(provenance, base)).toBe(want);
  });
});
