// The trust check behind build-key reuse and merges, over a registry and a signer given as fakes
// (the real cosign and registry: reuse.itg.test.ts): the order of the checks and each reason.
import { describe, expect, it } from 'vitest';
import type { ImageInspection, PlatformImage } from '../../src/registry/client.js';
import { RegistryError } from '../../src/registry/client.js';
import type { BlobSource, Manifest } from '../../src/registry/types.js';
import { checkKeyImage, type ImageReader, type Trust } from '../../src/supply/trust.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const INDEX = D('1');
const IMAGE = D('2');
const ATTESTATION = D('3');
const STATEMENT = D('4');
const REF = 'reg.example/factory/tools:bk-abc';

/** One pushed leg image: an index of the amd64 image and its provenance attestation. */
function reader(labels: Record<string, string>, vcs: { source?: string; revision?: string } | undefined, tagged = true): ImageReader & { reads: string[] } {
  const reads: string[] = [];
  const manifests: Record<string, Manifest> = {
    [INDEX]: {
      kind: 'index',
      index: {
        schemaVersion: 2,
        manifests: [
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: IMAGE, size: 1, platform: { os: 'linux', architecture: 'amd64' } },
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: ATTESTATION,
            size: 1,
            annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': IMAGE },
          },
        ],
      },
    } as Manifest,
    [IMAGE]: { kind: 'image', image: { schemaVersion: 2, config: { mediaType: 'c', digest: D('5'), size: 1 }, layers: [] } } as unknown as Manifest,
    [ATTESTATION]: {
      kind: 'image',
      image: {
        schemaVersion: 2,
        config: { mediaType: 'c', digest: D('6'), size: 1 },
        layers: [
          {
            mediaType: 'application/vnd.in-toto+json',
            digest: STATEMENT,
            size: 1,
            annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' },
          },
        ],
      },
    } as unknown as Manifest,
  };
  const provenance = { metadata: vcs ? { 'https://mobyproject.org/buildkit@v1#metadata': { vcs } } : {} };
  const source: BlobSource = {
    manifest: async (d) => manifests[d]!,
    blob: async () => new TextEncoder().encode(JSON.stringify({ predicate: provenance })),
  };
  const img: PlatformImage = {
    platform: 'linux/amd64',
    digest: IMAGE,
    annotations: {},
    manifestAnnotations: {},
    labels,
    config: {} as PlatformImage['config'],
    layers: 0,
  };
  return {
    reads,
    async resolve(ref) {
      reads.push(`resolve ${ref}`);
      if (!tagged) throw new RegistryError(`${ref}: manifest unknown`, 404, 'MANIFEST_UNKNOWN', 'https://reg.example/v2/');
      return { mediaType: 'application/vnd.oci.image.index.v1+json', digest: INDEX, size: 1 };
    },
    async inspect(ref) {
      reads.push(`inspect ${ref}`);
      return {
        reference: ref,
        digest: INDEX,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        annotations: {},
        images: [img],
        attestations: {},
      } as ImageInspection;
    },
    source: () => source,
  };
}

const trust = (signed: boolean): Trust & { asked: string[] } => {
  const asked: string[] = [];
  return {
    asked,
    signedBy: 'the key cosign.pub',
    sourceUrl: 'https://github.com/acme/factory',
    signer: {
      async verify(ref) {
        asked.push(ref);
        return signed ? { ok: true, detail: 'signed' } : { ok: false, detail: 'no signatures found' };
      },
    },
  };
};
const SOURCE = { 'org.opencontainers.image.source': 'https://github.com/acme/factory', 'org.opencontainers.image.revision': 'abcdef1234567' };

describe('checkKeyImage', () => {
  it('trusts a signed image whose provenance names the repository, and checks the signature by digest', async () => {
    const t = trust(true);
    expect(await checkKeyImage(reader(SOURCE, { source: 'https://github.com/acme/factory.git', revision: 'abcdef1234567' }), REF, t)).toEqual({
      found: true,
      digest: INDEX,
    });
    expect(t.asked).toEqual([`reg.example/factory/tools@${INDEX}`]);
  });

  it('accepts the source label when the vcs source is a local clone (a runner whose remote is a mirror)', async () => {
    const r = await checkKeyImage(reader(SOURCE, { source: '/tmp/origin.git', revision: 'abcdef1234567' }), REF, trust(true));
    expect(r).toEqual({ found: true, digest: INDEX });
  });

  it.each([
    ['unsigned', SOURCE, { revision: 'abcdef1234567' }, false, `${INDEX} is not signed by the key cosign.pub (no signatures found)`],
    [
      'from another repository',
      { ...SOURCE, 'org.opencontainers.image.source': 'https://github.com/mallory/factory' },
      undefined,
      true,
      'linux/amd64: its provenance names https://github.com/mallory/factory, not https://github.com/acme/factory',
    ],
    [
      'without a commit',
      { 'org.opencontainers.image.source': 'https://github.com/acme/factory' },
      undefined,
      true,
      'linux/amd64: provenance names no commit (revision "")',
    ],
  ] as const)('refuses an image %s, saying why', async (_n, labels, vcs, signed, why) => {
    expect(await checkKeyImage(reader(labels, vcs), REF, trust(signed))).toEqual({ found: true, untrusted: why, digest: INDEX });
  });

  it('finds nothing under an absent tag, and asks cosign nothing', async () => {
    const t = trust(true);
    expect(await checkKeyImage(reader(SOURCE, undefined, false), REF, t)).toEqual({ found: false });
    expect(t.asked).toEqual([]);
  });
});
