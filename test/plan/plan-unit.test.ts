// Pure parts of change detection: git output parsing, path classes, build keys, output lines.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildFactory } from '../../src/core/index.js';
import type { ResolvedFactory, SourceFile } from '../../src/core/types.js';
import { readTree } from '../../src/io/tree.js';
import { parseNameStatus } from '../../src/plan/git.js';
import { formatPlan, githubOutputLines, type PlanResult } from '../../src/plan/index.js';
import { buildKey, buildKeyInputs, canonicalJson, generatedParts, keyTag, Renderer } from '../../src/plan/key.js';
import { MAX_MATRIX_LEGS, poolOutputNames, poolShards, poolSlug, splitLegs } from '../../src/core/plan-outputs.js';
import { classifyPath, TRIGGER_PATHS } from '../../src/core/path-classes.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/factory');

describe('parseNameStatus', () => {
  it('reads -z output with renames, copies and odd file names', () => {
    const out = [
      'M',
      'manifests/a.yaml',
      'R087',
      'old dir/x.yaml',
      'new dir/x.yaml',
      'D',
      'gone\nline.yaml',
      'C100',
      'a',
      'b',
      'A',
      'fragments/f/1.0.0/files/with space',
      'T',
      'link',
      '',
    ].join('\0');
    expect(parseNameStatus(out)).toEqual([
      { status: 'copied', path: 'b', from: 'a' },
      { status: 'added', path: 'fragments/f/1.0.0/files/with space' },
      { status: 'deleted', path: 'gone\nline.yaml' },
      { status: 'type-changed', path: 'link' },
      { status: 'modified', path: 'manifests/a.yaml' },
      { status: 'renamed', path: 'new dir/x.yaml', from: 'old dir/x.yaml' },
    ]);
  });
  it('rejects a status it does not know', () => {
    expect(() => parseNameStatus('X\0a\0')).toThrow('unexpected git diff status "X"');
  });
});

describe('classifyPath', () => {
  it.each([
    ['manifests/products.yaml', 'source'],
    ['manifests/sub/dir/x.yaml', 'source'],
    ['fragments/python/1.0.0/files/a', 'source'],
    ['templates/debian/1.0.0/Dockerfile.ejs', 'source'],
    ['factory.lock.json', 'source'],
    ['docker-bake.hcl', 'generated'],
    ['build/py-app/1.0.0/python3.11/Dockerfile', 'generated'],
    ['generators/bake.ts', 'factory-wide'],
    ['src/core/render.ts', 'factory-wide'],
    ['action.yml', 'factory-wide'],
    ['dist/index.js', 'factory-wide'],
    ['package-lock.json', 'factory-wide'],
    ['.github/workflows/factory.yml', 'factory-wide'],
    ['.github/workflows/ci.yml', 'other'],
    ['src/cli/main.ts', 'other'],
    ['src/core/resolve.test.ts', 'other'],
    ['generators/workflow.test.ts', 'other'],
    ['README.md', 'other'],
    ['manifestsx/a.yaml', 'other'],
    ['buildx', 'other'],
  ])('%s is %s', (p, cls) => {
    expect(classifyPath(p)).toBe(cls);
  });
  it('the workflow triggers on every path that is not "other"', () => {
    expect(TRIGGER_PATHS).toContain('manifests/**');
    expect(TRIGGER_PATHS).toContain('build/**');
    expect(TRIGGER_PATHS).toContain('generators/**');
  });
});

async function fixtureFiles(): Promise<SourceFile[]> {
  return readTree(FIXTURE);
}
function resolveFiles(files: SourceFile[]): ResolvedFactory {
  const r = buildFactory(files);
  if (!r.factory) throw new Error(JSON.stringify(r.diagnostics));
  return r.factory;
}
function edit(files: SourceFile[], p: string, f: (s: string) => string): SourceFile[] {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  let hit = false;
  const out = files.map((x) => {
    if (x.path !== p) return x;
    hit = true;
    return { path: x.path, bytes: enc.encode(f(dec.decode(x.bytes))) };
  });
  if (!hit) throw new Error(`no ${p}`);
  return out;
}
function keys(factory: ResolvedFactory): Record<string, string> {
  const r = new Renderer();
  return Object.fromEntries(factory.targets.map((t) => [t.name, r.key(t)]));
}

describe('build keys', () => {
  it('are stable, hex sha256, different per platform and variant', async () => {
    const files = await fixtureFiles();
    const a = keys(resolveFiles(files));
    const b = keys(resolveFiles([...files].reverse()));
    expect(b).toEqual(a);
    for (const k of Object.values(a)) expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(Object.values(a)).size).toBe(Object.keys(a).length);
    expect(keyTag(a['tools-default-amd64']!)).toBe(`bk-${a['tools-default-amd64']}`);
  });

  it.each([
    [
      'a product description (an image label)',
      'manifests/products.yaml',
      (s: string) => s.replace('A small tools image.', 'Tools.'),
      ['tools-default-amd64', 'tools-default-arm64'],
    ],
    [
      "a product's tags",
      'manifests/products.yaml',
      (s: string) =>
        s.replace("tags: ['{version}']\nplatforms: [linux/amd64, linux/arm64]", "tags: ['{version}', latest]\nplatforms: [linux/amd64, linux/arm64]"),
      [],
    ],
    ['a comment', 'manifests/recipes.yaml', (s: string) => `# note\n${s}`, []],
    ['a file COPYed by tools and py-app fragments', 'fragments/hardening/1.0.0/files/motd', (s: string) => `${s}!`, 'all'],
    [
      'a fragment test',
      'fragments/tools/1.0.0/fragment.yaml',
      (s: string) => s.replace('tools is installed', 'tools are installed'),
      ['tools-default-amd64', 'tools-default-arm64'],
    ],
    ['the base image', 'manifests/infra.yaml', (s: string) => s.replace('alpine:3.20', 'alpine:3.21'), ['tools-default-amd64', 'tools-default-arm64']],
    ['a pool', 'manifests/infra.yaml', (s: string) => s.replace('timeout-minutes: 60', 'timeout-minutes: 61'), []],
    [
      'a product label',
      'manifests/products.yaml',
      (s: string) => s.replace('image: factory/tools', 'image: factory/tools\nlabels: { team: platform }'),
      ['tools-default-amd64', 'tools-default-arm64'],
    ],
  ] as const)('change %s -> keys that change', async (_what, file, change, expected) => {
    const files = await fixtureFiles();
    const before = keys(resolveFiles(files));
    const after = keys(resolveFiles(edit(files, file, change)));
    const changed = Object.keys(before)
      .filter((k) => before[k] !== after[k])
      .sort();
    expect(changed).toEqual(expected === 'all' ? Object.keys(before).sort() : [...expected]);
  });

  it('hash the canonical inputs, with the revision and pool left out', async () => {
    const factory = resolveFiles(await fixtureFiles());
    const t = factory.targets[0]!;
    const rendered = new Renderer().render(t.product, t.variant);
    const inputs = buildKeyInputs(t, rendered);
    expect(Object.keys(inputs).sort()).toEqual([
      'accelerator',
      'args',
      'base',
      'context',
      'dockerfile',
      'fragments',
      'labels',
      'platform',
      'product',
      'runner',
      'template',
      'tests',
      'version',
    ]);
    expect(buildKey(t, rendered)).toBe(buildKey(t, { ...rendered, sourceMap: [] }));
  });

  // A generator change shows up in what it generates: each row changes one generated part the
  // way a changed generators/ would, and says whether the key must follow.
  type Parts = ReturnType<typeof generatedParts>;
  const withLabel = (g: Parts, k: string, v: Parts['labels'][string]): Parts => ({ ...g, labels: { ...g.labels, [k]: v } });
  const withRunner = (g: Parts, r: Partial<NonNullable<Parts['runner']>>): Parts => ({ ...g, runner: { ...g.runner!, ...r } });
  it.each([
    ['a dev.factory label value', (g: Parts) => withLabel(g, 'dev.factory.variant', ['other']), true],
    ['a new dev.factory label', (g: Parts) => withLabel(g, 'dev.factory.generator', ['2']), true],
    ['a label fed by another bake variable', (g: Parts) => withLabel(g, 'org.opencontainers.image.revision', [{ ref: 'GIT_SHA' }]), true],
    ['the runner library', (g: Parts) => withRunner(g, { lib: `${g.runner!.lib}# changed\n` }), true],
    ['the runner script', (g: Parts) => withRunner(g, { script: `${g.runner!.script}# changed\n` }), true],
    ['the order labels were added in', (g: Parts) => ({ ...g, labels: Object.fromEntries(Object.entries(g.labels).reverse()) }), false],
    ['nothing (the parts generated again)', (g: Parts) => ({ ...g }), false],
  ] as const)('a generator change to %s -> key changes: %s', async (_what, change, changes) => {
    const factory = resolveFiles(await fixtureFiles());
    const t = factory.targets.find((x) => x.name === 'tools-default-amd64')!;
    const rendered = new Renderer().render(t.product, t.variant);
    const generated = generatedParts(t, rendered);
    expect(generated.runner).not.toBeNull();
    expect(buildKey(t, rendered, generated)).toBe(buildKey(t, rendered));
    expect(buildKey(t, rendered, change(generated)) !== buildKey(t, rendered)).toBe(changes);
  });

  it('leave the runner library out for a target without tests', async () => {
    const factory = resolveFiles(await fixtureFiles());
    const t = factory.targets.find((x) => x.name === 'tools-default-amd64')!;
    const untested = {
      ...t,
      product: {
        ...t.product,
        product: { ...t.product.product, doc: { ...t.product.product.doc, tests: [] } },
        fragments: t.product.fragments.map((f) => ({ ...f, meta: { ...f.meta, doc: { ...f.meta.doc, tests: [] } } })),
      },
    };
    const rendered = new Renderer().render(untested.product, untested.variant);
    expect(generatedParts(untested, rendered).runner).toBeNull();
    expect(buildKeyInputs(untested, rendered).runner).toBeNull();
  });

  it('canonicalJson sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: null } })).toBe('{"a":{"c":null,"d":[3,1]},"b":1}');
  });
});

describe('plan outputs', () => {
  const result: PlanResult = {
    version: 1,
    mode: 'diff',
    base: { ref: 'origin/main', commit: 'a'.repeat(40) },
    head: { ref: 'HEAD', commit: 'b'.repeat(40) },
    filters: { products: [], platforms: [] },
    force: false,
    registry: 'localhost:5000',
    changed: [
      { status: 'modified', path: 'fragments/x/1.0.0/Dockerfile.ejs' },
      { status: 'added', path: 'README.md' },
    ],
    ignored: [{ path: 'README.md', why: 'not a factory input' }],
    affected: [
      {
        target: 'x-default-amd64',
        id: 'x@1.0.0:default',
        product: 'x@1.0.0',
        variant: 'default',
        platform: 'linux/amd64',
        arch: 'amd64',
        pool: 'cpu.x64',
        image: 'f/x',
        key: 'k1',
        keyTag: 'bk-k1',
        keyRef: 'localhost:5000/f/x:bk-k1',
        status: 'build',
        reasons: [
          {
            kind: 'fragment',
            summary: 'fragment x@1.0.0 changed',
            chain: ['fragments/x/1.0.0/Dockerfile.ejs (modified)', 'fragment x@1.0.0', 'target x-default-amd64'],
            files: ['fragments/x/1.0.0/Dockerfile.ejs'],
          },
        ],
      },
      {
        target: 'x-default-arm64',
        id: 'x@1.0.0:default',
        product: 'x@1.0.0',
        variant: 'default',
        platform: 'linux/arm64',
        arch: 'arm64',
        pool: 'arm',
        image: 'f/x',
        key: 'k2',
        keyTag: 'bk-k2',
        keyRef: 'localhost:5000/f/x:bk-k2',
        status: 'skip',
        reasons: [{ kind: 'fragment', summary: 'fragment x@1.0.0 changed', chain: ['fragment x@1.0.0', 'target x-default-arm64'], files: [] }],
      },
    ],
    build: ['x-default-amd64'],
    skipped: ['x-default-arm64'],
    removed: [{ target: 'y-default-amd64', id: 'y@1.0.0:default' }],
    pools: [
      { name: 'arm', slug: 'arm', platform: 'linux/arm64', accelerator: 'cpu', runsOn: ['ubuntu-24.04-arm'], targets: 2, shards: 1, build: 0, skipped: 1 },
      { name: 'cpu.x64', slug: 'cpu_x64', platform: 'linux/amd64', accelerator: 'cpu', runsOn: ['ubuntu-24.04'], targets: 1, shards: 1, build: 1, skipped: 0 },
    ],
    matrices: {
      arm: { include: [] },
      'cpu.x64': {
        include: [
          {
            target: 'x-default-amd64',
            id: 'x@1.0.0:default',
            product: 'x@1.0.0',
            variant: 'default',
            platform: 'linux/amd64',
            arch: 'amd64',
            pool: 'cpu.x64',
            image: 'f/x',
            key: 'k1',
            'key-tag': 'bk-k1',
            'bake-file': 'build/x/1.0.0/docker-bake.hcl',
            'artifact-days': 7,
          },
        ],
      },
    },
    merges: [],
    warnings: ['registry check of r failed (timeout); planning a build'],
    summary: { targets: 3, affected: 2, build: 1, skipped: 1, removed: 1 },
  };

  it('names GitHub outputs after pool slugs, as the workflow reads them', () => {
    expect(poolSlug('cpu.x64')).toBe('cpu_x64');
    expect(poolOutputNames('cpu.x64')).toEqual({ matrix: 'matrix-cpu_x64', count: 'count-cpu_x64' });
    expect(githubOutputLines(result)).toBe(
      [
        'build-count=1',
        'merge-count=0',
        'matrix-arm={"include":[]}',
        'count-arm=0',
        `matrix-cpu_x64=${JSON.stringify(result.matrices['cpu.x64'])}`,
        'count-cpu_x64=1',
        '',
      ].join('\n'),
    );
  });

  it('splits a pool into shards of at most 256 legs, named as the workflow reads them', () => {
    expect([0, 1, 256, 257, 512, 513, 1000].map(poolShards)).toEqual([1, 1, 1, 2, 2, 3, 4]);
    expect(splitLegs([1, 2, 3, 4, 5], 2)).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(splitLegs([1], 3)).toEqual([[1], [], []]);
    const legs = Array.from({ length: 300 }, (_, i) => ({ ...result.matrices['cpu.x64']!.include[0]!, target: `t${i}` }));
    const big: PlanResult = {
      ...result,
      pools: [{ ...result.pools[1]!, targets: 600, shards: poolShards(600), build: 300 }],
      matrices: { 'cpu.x64': { include: legs } },
    };
    const lines = githubOutputLines(big).trim().split('\n');
    const counts = lines.filter((l) => l.startsWith('count-'));
    expect(counts).toEqual(['count-cpu_x64=100', 'count-cpu_x64-2=100', 'count-cpu_x64-3=100']);
    expect(poolOutputNames('cpu.x64', 3)).toEqual({ matrix: 'matrix-cpu_x64-3', count: 'count-cpu_x64-3' });
    for (const l of lines.filter((x) => x.startsWith('matrix-'))) {
      expect((JSON.parse(l.slice(l.indexOf('=') + 1)) as { include: unknown[] }).include.length).toBeLessThanOrEqual(MAX_MATRIX_LEGS);
    }
  });

  it('formats a short plan and an explained one', () => {
    expect(formatPlan(result)).toBe(
      [
        'plan: origin/main (aaaaaaaaaaaa) .. HEAD (bbbbbbbbbbbb), 2 changed file(s)',
        '2 of 3 target(s) affected: 1 to build, 1 already built',
        '  build  x-default-amd64  cpu.x64  fragment x@1.0.0 changed',
        '  skip   x-default-arm64  arm      fragment x@1.0.0 changed',
        '  gone   y-default-amd64 (y@1.0.0:default no longer exists)',
        'pool cpu.x64 (ubuntu-24.04): 1 to build',
        'warning: registry check of r failed (timeout); planning a build',
        '',
      ].join('\n'),
    );
    const explained = formatPlan(result, { explain: true });
    expect(explained).toContain(
      [
        '      because fragment x@1.0.0 changed:',
        '          fragments/x/1.0.0/Dockerfile.ejs (modified)',
        '        -> fragment x@1.0.0',
        '        -> target x-default-amd64',
      ].join('\n'),
    );
    expect(explained).toContain('      already built: localhost:5000/f/x:bk-k2');
    expect(explained).toContain('changed files that affect no target:\n  README.md: not a factory input');
  });
});
