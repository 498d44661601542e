// Size, layers and attestations from an OCI layout that BuildKit exported (the sandbox build of
// tools-default-amd64 with `push: false`; image layer blobs removed from the fixture, the
// manifests, config and attestation blobs kept).
import { describe, expect, it } from 'vitest';
import { baseDigest, inspectImage, packageCount } from '../../src/action/image.js';
import { LayoutSource, parseImageRef } from '../../src/action/registry.js';

const layout = new LayoutSource(new URL('fixtures/oci-layout/', import.meta.url).pathname);

describe('inspectImage', () => {
  it('reads size, layer count, SBOM and provenance for the platform', async () => {
    const root = layout.root();
    expect(root.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    const facts = await inspectImage(layout, root.digest, 'linux/amd64');
    const index = await layout.manifest(root.digest);
    const image = index.manifests!.find((m) => m.platform?.architecture === 'amd64')!;
    const manifest = await layout.manifest(image.digest);
    expect(facts.manifestDigest).toBe(image.digest);
    expect(facts.layerCount).toBe(manifest.layers!.length);
    expect(facts.sizeBytes).toBe(manifest.layers!.reduce((n, l) => n + l.size, 0) + manifest.config!.size);
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

describe('parseImageRef', () => {
  it.each([
    ['127.0.0.1:5000/factory/tools:1.0.0-amd64', { host: '127.0.0.1:5000', repository: 'factory/tools', tag: '1.0.0-amd64' }],
    ['ghcr.io/acme/x@sha256:ab', { host: 'ghcr.io', repository: 'acme/x', digest: 'sha256:ab' }],
    ['debian:bookworm', { host: 'registry-1.docker.io', repository: 'library/debian', tag: 'bookworm' }],
    ['docker.io/docker/buildkit-syft-scanner:stable-1', { host: 'registry-1.docker.io', repository: 'docker/buildkit-syft-scanner', tag: 'stable-1' }],
    ['localhost/x', { host: 'localhost', repository: 'x' }],
  ])('%s', (ref, want) => {
    expect(parseImageRef(ref)).toEqual(want);
  });
});
