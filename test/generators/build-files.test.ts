import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildFactory } from '../../src/core/index.js';
import { FactoryError, type ResolvedFactory } from '../../src/core/types.js';
import { readTree } from '../../src/io/tree.js';
import { BUILDX, NO_BUILDX } from '../golden/buildx.js';
import { factory, fragment, pool, product, template } from '../golden/build-fixture.js';
import { generateBuildFiles } from '../../generators/build-files.js';
import { readSourceMap, sourceMapJson } from '../../src/core/source-map-file.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = join(ROOT, 'test/fixtures/good/minimal');
const GOLDEN = join(ROOT, 'test/golden/minimal');

async function minimal(): Promise<ResolvedFactory> {
  const { factory: f, diagnostics } = buildFactory(await readTree(FIXTURE));
  if (!f) throw new Error(`fixture does not resolve: ${JSON.stringify(diagnostics)}`);
  return f;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

describe('generateBuildFiles on test/fixtures/good/minimal', () => {
  // Golden files: `UPDATE_GOLDEN=1 npx vitest run test/generators/build-files.test.ts` rewrites them;
  // review the diff like any other change of the generated output.
  it('matches the golden files', async () => {
    const files = generateBuildFiles(await minimal());
    if (process.env.UPDATE_GOLDEN) {
      rmSync(GOLDEN, { recursive: true, force: true });
      for (const f of files) {
        mkdirSync(dirname(join(GOLDEN, f.path)), { recursive: true });
        writeFileSync(join(GOLDEN, f.path), f.text);
      }
    }
    expect(files.map((f) => f.path)).toEqual(listFiles(GOLDEN));
    for (const f of files) expect(f.text, f.path).toBe(readFileSync(join(GOLDEN, f.path), 'utf8'));
  });

  it('is byte-identical whatever the order of the files on disk', async () => {
    const files = await readTree(FIXTURE);
    const a = generateBuildFiles(buildFactory(files).factory!);
    const b = generateBuildFiles(buildFactory([...files].reverse()).factory!);
    expect(b).toEqual(a);
    expect(a.map((f) => f.path)).toEqual([...a.map((f) => f.path)].sort());
  });

  it('writes a source map whose every line names the file and line that produced it', async () => {
    const files = generateBuildFiles(await minimal());
    const byPath = new Map(files.map((f) => [f.path, f]));
    const dockerfile = byPath.get('build/py-app/1.0.0/python3.11/Dockerfile')!.text.split('\n');
    const map = readSourceMap(byPath.get('build/py-app/1.0.0/python3.11/Dockerfile.map.json')!.text);
    expect(map.dockerfile).toBe('build/py-app/1.0.0/python3.11/Dockerfile');
    expect(map.entries).toHaveLength(dockerfile.length - 1);
    const fixture = new Map((await readTree(FIXTURE)).map((f) => [f.path, new TextDecoder().decode(f.bytes).split('\n')]));
    for (const e of map.entries) {
      const rendered = dockerfile[e.line - 1]!;
      const source = fixture.get(e.file)?.[e.sourceLine - 1];
      expect(source, `${e.file}:${e.sourceLine}`).toBeDefined();
      // A line copied from a snippet keeps its text (fragment files/ paths are rebased).
      if (e.file.endsWith('.ejs') && !source!.includes('<%') && rendered !== '') {
        expect(rendered.replace(/fragments\/[^/]+\/[^/]+\/files\//g, 'files/')).toBe(source);
      }
    }
    const hello = map.entries.find((e) => dockerfile[e.line - 1]!.startsWith('COPY --chmod=0755'))!;
    expect(hello).toMatchObject({ file: 'fragments/app/1.0.0/Dockerfile.ejs', sourceLine: 1, origin: 'app@1.0.0' });
  });

  it('round-trips the source map JSON', () => {
    const d = {
      path: 'build/x/Dockerfile',
      text: 'A\nB\n',
      stages: [],
      sourceMap: [
        { line: 1, file: 'f', sourceLine: 3, origin: 'o@1.0.0' },
        { line: 2, file: 'g', sourceLine: 1, origin: 'o@1.0.0' },
      ],
    };
    expect(readSourceMap(sourceMapJson(d))).toEqual({ dockerfile: 'build/x/Dockerfile', entries: d.sourceMap });
    expect(() => readSourceMap('{"version":2}')).toThrow(/version 1/);
    expect(() => readSourceMap('{"version":1,"dockerfile":"D","files":["f"],"origins":["o"],"lines":[[1,5,1,0]]}')).toThrow(/lines\[0\]/);
  });

  it.skipIf(NO_BUILDX)('produces a bake file that the real buildx accepts, with every file it references', async () => {
    const files = generateBuildFiles(await minimal());
    const dir = mkdtempSync(join(tmpdir(), 'build-files-'));
    try {
      for (const f of files) {
        mkdirSync(dirname(join(dir, f.path)), { recursive: true });
        writeFileSync(join(dir, f.path), f.text);
      }
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(REGISTRY|CACHE_REPO|TAG_SUFFIX|BASE_.*|BUILDX_BUILDER)$/.test(k)));
      const out = execFileSync(BUILDX!, ['bake', '--print', '-f', 'docker-bake.hcl', 'default', 'tests'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const j = JSON.parse(out.toString()) as {
        target: Record<string, { dockerfile: string; target: string; contexts?: Record<string, string>; tags?: string[] }>;
      };
      const names = Object.keys(j.target).sort();
      expect(names.filter((n) => !n.startsWith('test-') && !n.startsWith('stage-'))).toEqual([
        'py-app-python3_11-amd64',
        'py-app-python3_11-arm64',
        'py-app-python3_12-amd64',
        'py-app-python3_12-arm64',
        'tools-default-amd64',
        'tools-default-arm64',
      ]);
      expect(j.target['tools-default-arm64']!.tags).toEqual(['localhost:5000/factory/tools:2.1.0-arm64']);
      for (const [name, t] of Object.entries(j.target)) {
        expect(existsSync(join(dir, t.dockerfile)), `${name}: ${t.dockerfile}`).toBe(true);
        const text = readFileSync(join(dir, t.dockerfile), 'utf8');
        expect(text, `${name} builds stage ${t.target}`).toMatch(new RegExp(`^FROM \\S+ AS ${t.target}$`, 'm'));
        for (const [ctx, ref] of Object.entries(t.contexts ?? {})) {
          const other = ref.slice('target:'.length);
          expect(j.target[other], `${name} -> ${ref}`).toBeDefined();
          // A shared stage context replaces a stage of the same name in the consumer.
          if (other.startsWith('stage-')) expect(text).toMatch(new RegExp(`^FROM \\S+ AS ${ctx}$`, 'm'));
        }
        // Every COPY source from the context exists among the generated files or the fixture.
        for (const m of text.matchAll(/^COPY (?:--chmod=\S+ )?(\S+) \S+$/gm)) {
          const src = m[1]!;
          if (src.startsWith('--from')) continue;
          expect(existsSync(join(dir, src)) || existsSync(join(FIXTURE, src)), `${name}: COPY ${src}`).toBe(true);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('generateBuildFiles errors', () => {
  it('reports the render problems of every product in one run', () => {
    const tpl = template('t', '1.0.0', "<%- slot('security') %>\n<%- slot('core') %>\n<%- slot('app') %>\n");
    const a = product({ name: 'a', template: tpl, fragments: [fragment('x', '1.0.0', 'core', 'RUN <%= nope %>\n')] });
    const b = product({ name: 'b', template: tpl, fragments: [fragment('y', '1.0.0', 'app', 'RUN ok\n<% if ( { %>\n')] });
    try {
      generateBuildFiles(factory([a, b], [pool('amd64', 'linux/amd64'), pool('arm64', 'linux/arm64')]));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FactoryError);
      const ds = (e as FactoryError).diagnostics;
      // Each once, naming every render it broke (the variant and the isolated test).
      expect(ds.map((d) => [d.code, d.location?.file, d.location?.line])).toEqual([
        ['render-undefined', 'fragments/x/1.0.0/Dockerfile.ejs', 1],
        ['render-syntax', 'fragments/y/1.0.0/Dockerfile.ejs', 2],
      ]);
      expect(ds[0]!.message).toBe('"nope" is not defined (rendering a@1.0.0:default, the isolated test of x@1.0.0)');
    }
  });

  it('refuses two variants that map to one directory', () => {
    const tpl = template('t', '1.0.0', "<%- slot('core') %>\n");
    const p = product({
      name: 'a',
      template: tpl,
      fragments: [fragment('x', '1.0.0', 'core', 'RUN x\n')],
      variants: [
        { name: 'v1:2', matrix: { v: '1:2' }, args: {} },
        { name: 'v1/2', matrix: { v: '1/2' }, args: {} },
      ],
    });
    expect(() => generateBuildFiles(factory([p], [pool('amd64', 'linux/amd64'), pool('arm64', 'linux/arm64')]))).toThrow(
      /would both be written to build\/a\/1.0.0\/v1_2\/Dockerfile/,
    );
  });
});
