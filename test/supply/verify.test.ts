// The pure checks of `factory verify`, table-driven over what the registry would have returned.
import { describe, expect, it } from 'vitest';
import type { ImageFacts } from '../../src/action/image.js';
import type { PlatformImage } from '../../src/registry/client.js';
import { baseCheck, compositionCheck, provenanceCheck, sbomCheck, type Expected } from '../../src/supply/verify.js';
import { workflowIdentity } from '../../src/supply/cosign.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const img = (labels: Record<string, string>): PlatformImage => ({
  platform: 'linux/amd64',
  digest: D('a'),
  annotations: {},
  manifestAnnotations: {},
  labels,
  config: {} as PlatformImage['config'],
  layers: 1,
});
const facts = (over: Partial<ImageFacts> = {}): ImageFacts => ({ manifestDigest: D('a'), sizeBytes: 1, layerCount: 1, ...over });
const prov = (vcs?: { source?: string; revision?: string }, base = 'b') => ({
  materials: [{ uri: 'pkg:docker/127.0.0.1:5000/base/busybox@stable', digest: { sha256: base.repeat(64) } }],
  metadata: vcs ? { 'https://mobyproject.org/buildkit@v1#metadata': { vcs } } : {},
});
const expected: Expected = {
  product: 'tools@1.0.1',
  variant: 'default',
  template: 'busybox@1.0.0',
  fragments: ['hardening@1.0.0', 'toolbox@1.0.1'],
  lockDigests: { 'busybox@1.0.0': D('1'), 'hardening@1.0.0': D('2'), 'toolbox@1.0.1': D('3') },
  baseImage: '127.0.0.1:5000/base/busybox:stable',
  basePin: D('b'),
};
const labels = {
  'dev.factory.product': 'tools@1.0.1',
  'dev.factory.variant': 'default',
  'dev.factory.template': 'busybox@1.0.0',
  'dev.factory.fragments': 'hardening@1.0.0,toolbox@1.0.1',
};

describe('provenanceCheck', () => {
  it.each([
    ['no provenance', facts(), {}, false, /no SLSA provenance/],
    ['vcs in provenance', facts({ provenance: prov({ source: 'https://github.com/acme/f', revision: 'abcdef1234567' }) }), {}, true, /acme\/f at abcdef123456/],
    [
      'labels only',
      facts({ provenance: prov() }),
      { 'org.opencontainers.image.source': 's', 'org.opencontainers.image.revision': 'abcdef1' },
      true,
      /s at abcdef1/,
    ],
    ['no repository', facts({ provenance: prov() }), { 'org.opencontainers.image.revision': 'abcdef1' }, false, /names no repository/],
    ['no commit', facts({ provenance: prov() }), { 'org.opencontainers.image.source': 's' }, false, /names no commit/],
    [
      'label contradicts',
      facts({ provenance: prov({ source: 's', revision: 'abcdef1' }) }),
      { 'org.opencontainers.image.revision': '1234567' },
      false,
      /differs/,
    ],
  ] as const)('%s', (_n, f, l, ok, detail) => {
    const c = provenanceCheck('linux/amd64', img(l), f);
    expect(c.ok).toBe(ok);
    expect(c.detail).toMatch(detail);
  });
});

describe('sbomCheck, baseCheck, compositionCheck', () => {
  it('needs an SPDX document', () => {
    expect(sbomCheck('p', facts()).ok).toBe(false);
    expect(sbomCheck('p', facts({ sbom: { spdxVersion: 'SPDX-2.3', packages: [1, 2] } })).detail).toBe('SPDX SPDX-2.3, 2 packages');
  });

  it.each([
    ['the pin', prov(undefined, 'b'), expected, true, /= the lock's pin/],
    ['another base', prov(undefined, 'c'), expected, false, /built on sha256:c+, the lock pins sha256:b+/],
    ['no pin', prov(undefined, 'b'), { ...expected, basePin: undefined }, false, /lock --resolve-bases/],
  ] as const)('base: %s', (_n, p, e, ok, detail) => {
    const c = baseCheck('p', facts({ provenance: p }), e as Expected);
    expect(c.ok).toBe(ok);
    expect(c.detail).toMatch(detail);
  });

  it.each([
    ['as defined', labels, expected, true, /busybox@1\.0\.0 \+ 2 fragments/],
    [
      'a fragment more',
      { ...labels, 'dev.factory.fragments': 'hardening@1.0.0,toolbox@1.0.1,x@1.0.0' },
      expected,
      false,
      /x@1\.0\.0 is not in factory\.lock\.json/,
    ],
    ['another variant', { ...labels, 'dev.factory.variant': 'slim' }, expected, false, /variant label slim, expected default/],
    ['no labels', {}, undefined, false, /not a factory image/],
  ] as const)('composition: %s', (_n, l, e, ok, detail) => {
    const c = compositionCheck('p', img(l), e as Expected | undefined);
    expect(c.ok).toBe(ok);
    expect(c.detail).toMatch(detail);
  });

  it('keyless identity is the repository factory workflow on any ref', () => {
    const re = new RegExp(workflowIdentity('acme/my.factory'));
    expect(re.test('https://github.com/acme/my.factory/.github/workflows/factory.yml@refs/heads/main')).toBe(true);
    expect(re.test('https://github.com/acme/myXfactory/.github/workflows/factory.yml@refs/heads/main')).toBe(false);
    expect(re.test('https://github.com/acme/my.factory/.github/workflows/other.yml@refs/heads/main')).toBe(false);
  });

  it('keyless identity with trusted refs: either generated workflow, on those refs only', () => {
    const re = new RegExp(workflowIdentity('acme/factory', ['refs/heads/main', 'refs/tags/v*']));
    const id = (wf: string, ref: string) => `https://github.com/acme/factory/.github/workflows/${wf}@${ref}`;
    expect(re.test(id('factory.yml', 'refs/heads/main'))).toBe(true);
    // The build legs sign from the reusable workflow: Fulcio certifies the called workflow.
    expect(re.test(id('factory-pool.yml', 'refs/heads/main'))).toBe(true);
    expect(re.test(id('factory-pool.yml', 'refs/tags/v1.2.0'))).toBe(true);
    // A branch run cannot plant an image main would reuse.
    expect(re.test(id('factory-pool.yml', 'refs/heads/mainly'))).toBe(false);
    expect(re.test(id('factory.yml', 'refs/heads/evil'))).toBe(false);
  });
});
