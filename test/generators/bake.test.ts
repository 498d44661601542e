import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILDX, NO_BUILDX } from '../golden/buildx.js';
import { base, factory, fragment, pool, product, template } from '../golden/build-fixture.js';
import { renderDockerfile } from '../../src/core/render.js';
import { FactoryError, type RenderedDockerfile, type ResolvedFactory } from '../../src/core/types.js';
import { cacheTag, declaredArgs, dockerfileKey, generateBake } from '../../generators/bake.js';
import { baseVariable } from '../../src/core/ids.js';

const TPL = "<%- slot('security') %>\n<%- slot('core') %>\n<%- slot('app') %>\n";
const tpl = template('runtime', '1.0.0', TPL);
const hardening = fragment('hardening', '1.0.0', 'security', 'RUN harden\n');
const python = fragment('python', '1.0.0', 'core', 'ARG PYTHON_VERSION\nRUN install python ${PYTHON_VERSION}\n', { args: { PYTHON_VERSION: '3.11' } });
const web = fragment('web', '1.0.0', 'app', 'RUN web\n');
const cli = fragment('cli', '1.0.0', 'app', 'ARG CLI_FLAVOR\nRUN cli ${CLI_FLAVOR}\n');
const pools = [
  pool('amd64', 'linux/amd64'),
  pool('arm64', 'linux/arm64', { cache: 'gha' }),
  pool('gpu', 'linux/amd64', { accelerator: 'cuda', cache: 'local' }),
];

function build(
  products: ReturnType<typeof product>[],
  bases = [base('debian', 'docker.io/library/debian:bookworm-slim')],
): { f: ResolvedFactory; hcl: string } {
  const f = factory(products, pools, bases);
  const dockerfiles = new Map<string, RenderedDockerfile>();
  for (const p of f.products) for (const v of p.variants) dockerfiles.set(dockerfileKey(p, v), renderDockerfile(p, v));
  return { f, hcl: generateBake(f, dockerfiles) };
}

const py311 = { name: 'python3.11', matrix: { python: '3.11' }, args: { PYTHON_VERSION: '3.11', CLI_FLAVOR: 'a' } };
const py312 = { name: 'python3.12', matrix: { python: '3.12' }, args: { PYTHON_VERSION: '3.12', CLI_FLAVOR: 'a' } };
const webapp = product({ name: 'webapp', template: tpl, fragments: [hardening, python, web], variants: [py311, py312] });
const cliapp = product({
  name: 'cliapp',
  template: tpl,
  fragments: [hardening, python, cli],
  variants: [{ name: 'default', matrix: {}, args: { PYTHON_VERSION: '3.11', CLI_FLAVOR: 'b' } }],
});
const gpu = product({ name: 'gpu', template: tpl, fragments: [hardening, web], product: { accelerator: 'cuda', platforms: ['linux/amd64'] } });

/** Parsed `buildx bake --print` of a bake file (no daemon needed). */
function bakePrint(
  hcl: string,
  targets: string[],
  env: Record<string, string> = {},
): { group: Record<string, { targets: string[] }>; target: Record<string, Record<string, unknown>> } {
  const dir = mkdtempSync(join(tmpdir(), 'bake-print-'));
  try {
    writeFileSync(join(dir, 'docker-bake.hcl'), hcl);
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(REGISTRY|CACHE_REPO|TAG_SUFFIX|SOURCE_DATE_EPOCH|REVISION|SOURCE_URL|SBOM_SCANNER|BASE_.*|BUILDX_BUILDER)$/.test(k),
      ),
    );
    const out = execFileSync(BUILDX!, ['bake', '--print', '-f', 'docker-bake.hcl', ...targets], {
      cwd: dir,
      env: { ...clean, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(out.toString());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('generateBake', () => {
  const { hcl } = build([webapp, cliapp, gpu]);

  it('is byte-identical whatever the order of products and targets', () => {
    const again = build([gpu, cliapp, webapp]).hcl;
    expect(again).toBe(hcl);
  });

  it('shares the deepest common stage of two products, and not stages whose declared args differ', () => {
    // webapp:python3.11 and cliapp share security + python (PYTHON_VERSION 3.11; CLI_FLAVOR is
    // not declared there). webapp:python3.12 differs in a declared arg at the python stage but
    // shares hardening with cliapp; gpu shares hardening on amd64 but in another cache kind.
    const stageTargets = [...hcl.matchAll(/^target "(stage-[^"]+)"/gm)].map((m) => m[1]);
    expect(stageTargets).toHaveLength(4);
    expect(stageTargets.filter((n) => n!.startsWith('stage-core-python-amd64-'))).toHaveLength(1);
    expect(stageTargets.filter((n) => n!.startsWith('stage-core-python-arm64-'))).toHaveLength(1);
    expect(stageTargets.filter((n) => n!.startsWith('stage-security-hardening-amd64-'))).toHaveLength(1);
    expect(stageTargets.filter((n) => n!.startsWith('stage-security-hardening-arm64-'))).toHaveLength(1);
    const block = (name: string) => hcl.slice(hcl.indexOf(`target "${name}"`), hcl.indexOf('\n}\n', hcl.indexOf(`target "${name}"`)));
    expect(block('webapp-python3_11-amd64')).toMatch(/contexts = \{\n {4}"core-python" = "target:stage-core-python-amd64-/);
    expect(block('cliapp-default-amd64')).toMatch(/"core-python" = "target:stage-core-python-amd64-/);
    expect(block('webapp-python3_12-arm64')).toMatch(/"security-hardening" = "target:stage-security-hardening-arm64-/);
    expect(block('gpu-default-amd64')).not.toContain('contexts');
    // The stage target passes only the args its stages declare.
    const stage = block(stageTargets.find((n) => n!.startsWith('stage-core-python-amd64-'))!);
    expect(stage).toContain('"PYTHON_VERSION" = "3.11"');
    expect(stage).not.toContain('CLI_FLAVOR');
    expect(stage).toContain('target = "core-python"');
  });

  it('gives each pool its own cache kind, per target and per arch', () => {
    const block = (name: string) => hcl.slice(hcl.indexOf(`target "${name}"`), hcl.indexOf('\n}\n', hcl.indexOf(`target "${name}"`)));
    expect(block('webapp-python3_11-amd64')).toContain(
      'cache-to = ["type=registry,ref=${CACHE_REPO}:webapp-python3_11-amd64,mode=max,image-manifest=true,oci-mediatypes=true"]',
    );
    expect(block('webapp-python3_11-arm64')).toContain('cache-from = ["type=gha,scope=webapp-python3_11-arm64"]');
    // No factory-wide ref that nothing writes (every build logged it as not found).
    expect(hcl).not.toContain('shared-');
    expect(block('gpu-default-amd64')).toContain('cache-to = ["type=local,dest=${CACHE_DIR}/gpu-default-amd64,mode=max"]');
  });

  it('refuses a build arg the factory sets itself, once per variant, with its location', () => {
    const bad = product({ name: 'bad', template: tpl, fragments: [hardening], variants: [{ name: 'default', matrix: {}, args: { BASE_IMAGE: 'x' } }] });
    try {
      build([bad]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FactoryError);
      const ds = (e as FactoryError).diagnostics;
      expect(ds).toHaveLength(1); // two platforms, one problem
      expect(ds[0]).toMatchObject({ code: 'reserved-arg', field: 'args.BASE_IMAGE', location: { file: 'manifests/bad.yaml' } });
    }
  });

  it('declares a variable for a base known only to the resolver', () => {
    const other = product({ name: 'other', template: tpl, fragments: [hardening], base: { name: 'alpine', image: 'docker.io/library/alpine:3.20' } });
    const { hcl: text } = build([other]);
    expect(text).toContain('variable "BASE_ALPINE" {\n  description = "image of the base \\"alpine\\""\n  default = "docker.io/library/alpine:3.20"\n}');
    expect(text).toContain('"BASE_IMAGE" = "${BASE_ALPINE}"');
  });

  it('names base variables and long cache tags safely', () => {
    expect(baseVariable('debian-12.slim')).toBe('BASE_DEBIAN_12_SLIM');
    expect(cacheTag('x'.repeat(200))).toHaveLength(128);
    expect(cacheTag('x'.repeat(200))).not.toBe(cacheTag(`${'x'.repeat(199)}y`));
    expect(declaredArgs('ARG A=1 B\nRUN x\n  arg C\nFROM x AS y')).toEqual(['A', 'B', 'C']);
  });

  it('pins a base to the lock digest', () => {
    const f = build([webapp]).f;
    const locked = {
      ...f,
      loaded: {
        ...f.loaded,
        lock: {
          doc: {
            version: 1 as const,
            templates: {},
            fragments: {},
            bases: { debian: { image: 'docker.io/library/debian:bookworm-slim', digest: `sha256:${'a'.repeat(64)}` } },
          },
        },
      },
    } as unknown as ResolvedFactory;
    const dockerfiles = new Map<string, RenderedDockerfile>();
    for (const p of locked.products) for (const v of p.variants) dockerfiles.set(dockerfileKey(p, v), renderDockerfile(p, v));
    expect(generateBake(locked, dockerfiles)).toContain(`default = "docker.io/library/debian:bookworm-slim@sha256:${'a'.repeat(64)}"`);
  });

  describe.skipIf(NO_BUILDX)('with the real buildx bake --print', () => {
    it('parses, and yields the targets, groups, tags, cache refs, contexts and platforms', () => {
      expect(bakePrint(hcl, ['default']).group.default!.targets).toEqual([
        'cliapp-default-amd64',
        'cliapp-default-arm64',
        'gpu-default-amd64',
        'webapp-python3_11-amd64',
        'webapp-python3_11-arm64',
        'webapp-python3_12-amd64',
        'webapp-python3_12-arm64',
      ]);
      const j = bakePrint(hcl, ['tests', 'default']);
      expect(j.group.tests!.targets).toContain('test-fragment-python-1_0_0-arm64');
      expect(j.group.tests!.targets).toContain('test-gpu-default-amd64');
      const t = j.target['webapp-python3_11-amd64']!;
      expect(t.platforms).toEqual(['linux/amd64']);
      expect(t.tags).toEqual(['localhost:5000/factory/webapp:1.0.0-python3.11-amd64']);
      expect(t['cache-from']).toEqual([{ ref: 'localhost:5000/cache:webapp-python3_11-amd64', type: 'registry' }]);
      expect(t.contexts).toEqual({ 'core-python': expect.stringMatching(/^target:stage-core-python-amd64-/) });
      expect(t.args).toEqual({ BASE_IMAGE: 'docker.io/library/debian:bookworm-slim', SOURCE_DATE_EPOCH: '0', PYTHON_VERSION: '3.11', CLI_FLAVOR: 'a' });
      expect(t.attest).toEqual([
        { type: 'sbom', generator: 'docker/buildkit-syft-scanner:stable-1' },
        { type: 'provenance', mode: 'max' },
      ]);
      expect((t.labels as Record<string, string>)['org.opencontainers.image.created']).toBe('1970-01-01T00:00:00Z');
      expect(j.target['test-webapp-python3_11-amd64']!.contexts).toEqual({ 'factory-image-under-test': 'target:webapp-python3_11-amd64' });
      expect(j.target['test-webapp-python3_11-amd64']!.output).toEqual([{ type: 'local', dest: '.factory/test-results/test-webapp-python3_11-amd64' }]);
    });

    it('lets the environment override the variables', () => {
      const j = bakePrint(hcl, ['webapp-python3_11-amd64'], {
        REGISTRY: 'ghcr.io/acme',
        TAG_SUFFIX: '-pr7',
        SOURCE_DATE_EPOCH: '1700000000',
        REVISION: 'abc123',
        BASE_DEBIAN: 'registry.local/debian@sha256:' + 'b'.repeat(64),
      });
      const t = j.target['webapp-python3_11-amd64']!;
      expect(t.tags).toEqual(['ghcr.io/acme/factory/webapp:1.0.0-python3.11-amd64-pr7']);
      expect((t['cache-to'] as { ref: string }[])[0]!.ref).toBe('ghcr.io/acme/cache:webapp-python3_11-amd64'); // CACHE_REPO follows REGISTRY
      expect((t.args as Record<string, string>).BASE_IMAGE).toBe('registry.local/debian@sha256:' + 'b'.repeat(64));
      const labels = t.labels as Record<string, string>;
      expect(labels['org.opencontainers.image.created']).toBe('2023-11-14T22:13:20Z');
      expect(labels['org.opencontainers.image.revision']).toBe('abc123');
      expect(t.annotations).toContain('index,manifest:org.opencontainers.image.revision=abc123');
    });

    it('keeps hostile manifest values inside their HCL strings', () => {
      const evil = 'x" } target "pwn" { context = "/" } #${REGISTRY} %{ if true }\\';
      const p = product({ name: 'evil', template: tpl, fragments: [hardening], product: { description: evil, labels: { 'org.example.note': evil } } });
      const j = bakePrint(build([p]).hcl, ['default']);
      expect(Object.keys(j.target)).not.toContain('pwn');
      // bake --print re-escapes ${ and %{ in labels (buildx bake.go Target.MarshalJSON).
      const labels = j.target['evil-default-amd64']!.labels as Record<string, string>;
      const unprint = (v: string) => v.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
      expect(unprint(labels['org.opencontainers.image.description']!)).toBe(evil);
      expect(unprint(labels['org.example.note']!)).toBe(evil);
    });
  });
});
