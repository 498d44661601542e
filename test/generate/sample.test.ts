// Golden and determinism tests of the generated files for the sample factory in this
// repository: the committed outputs are the golden files, and the real buildx must accept the
// committed docker-bake.hcl.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../../generators/index.js';
import { buildFactory } from '../../src/core/index.js';
import { productBakeFile } from '../../src/core/ids.js';
import { computeLock, serializeLock } from '../../src/core/lock.js';
import type { OutputFile, ResolvedFactory, SourceFile } from '../../src/core/types.js';
import { readTree } from '../../src/io/tree.js';

const ROOT = path.resolve(__dirname, '../..');

function resolved(files: SourceFile[]): ResolvedFactory {
  const { factory, diagnostics } = buildFactory(files);
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return factory!;
}

/** A deterministic shuffle (mulberry32), so a failure can be reproduced from its seed. */
function shuffled<T>(items: T[], seed: number): T[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function findBuildx(): string | undefined {
  const candidates = [process.env.BUILDX_BIN, ...(process.env.PATH ?? '').split(':').map((d) => path.join(d, 'buildx')), '/root/go/bin/buildx'];
  return candidates.find((c): c is string => Boolean(c) && existsSync(c!));
}

describe('the sample factory', async () => {
  const files = await readTree(ROOT);
  const factory = resolved(files);
  const outputs: OutputFile[] = generate(factory);

  it('has the products, variants and platforms the issue asks for', () => {
    expect(factory.products.length).toBeGreaterThanOrEqual(3);
    expect(factory.loaded.templates.length).toBeGreaterThanOrEqual(2);
    expect(factory.loaded.fragments.length).toBeGreaterThanOrEqual(8);
    const slots = new Set(factory.loaded.fragments.map((f) => f.meta.doc.slot));
    for (const s of ['security', 'core', 'light', 'app']) expect(slots).toContain(s);
    const names = factory.loaded.fragments.map((f) => f.meta.doc.name);
    expect(names.some((n, i) => names.indexOf(n) !== i)).toBe(true); // two versions of one fragment
    expect(new Set(factory.targets.map((t) => t.platform))).toEqual(new Set(['linux/amd64', 'linux/arm64']));
    expect(factory.targets.some((t) => t.accelerator === 'cuda')).toBe(true);
    for (const f of factory.loaded.fragments) expect(f.meta.doc.tests.length, f.dir).toBeGreaterThan(0);
    // Products share fragments.
    const users = new Map<string, number>();
    for (const p of factory.products) for (const f of p.fragments) users.set(f.dir, (users.get(f.dir) ?? 0) + 1);
    expect([...users.values()].some((n) => n >= 2)).toBe(true);
  });

  it('committed generated files are exactly what the generator produces (golden)', () => {
    const stale = outputs.filter((o) => {
      const abs = path.join(ROOT, o.path);
      return !existsSync(abs) || readFileSync(abs, 'utf8') !== o.text;
    });
    expect(
      stale.map((s) => s.path),
      "run 'npm run generate' and commit the result",
    ).toEqual([]);
    const lock = readFileSync(path.join(ROOT, 'factory.lock.json'), 'utf8');
    expect(lock).toBe(serializeLock(computeLock(factory.loaded)));
  });

  it.each([1, 2, 3, 42])('gives byte-identical outputs whatever the order of files on disk (seed %i)', (seed) => {
    const again = generate(resolved(shuffled(files, seed)));
    expect(again.map((o) => o.path)).toEqual(outputs.map((o) => o.path));
    for (let i = 0; i < outputs.length; i++) expect(again[i]!.text, outputs[i]!.path).toBe(outputs[i]!.text);
  });

  it('docker-bake.hcl is accepted by the real buildx bake --print, with every target', () => {
    const buildx = findBuildx();
    if (!buildx) throw new Error('buildx not found: run `bash scripts/sandbox.sh up` (installs it) or set BUILDX_BIN');
    const hcl = outputs.find((o) => o.path === 'docker-bake.hcl')!;
    expect(hcl).toBeDefined();
    const printed = JSON.parse(
      execFileSync(buildx, ['bake', '-f', 'docker-bake.hcl', '--print', 'default', 'tests'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, REGISTRY: 'registry.test:5000/acme', BUILDX_BUILDER: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as { target: Record<string, { tags?: string[]; platforms?: string[]; 'cache-from'?: unknown[]; 'cache-to'?: unknown[] }> };
    for (const t of factory.targets) {
      const printedTarget = printed.target[t.name];
      expect(printedTarget, t.name).toBeDefined();
      expect(printedTarget!.platforms).toEqual([t.platform]);
      expect(printedTarget!.tags!.every((tag) => tag.startsWith('registry.test:5000/acme/'))).toBe(true);
      expect(printedTarget!.tags!.length).toBe(t.tags.length);
      // Per-target, per-arch cache: no two targets write the same cache ref.
      expect(JSON.stringify(printedTarget!['cache-to'])).toContain(t.name);
    }
    const cacheTo = factory.targets.map((t) => JSON.stringify(printed.target[t.name]!['cache-to']));
    expect(new Set(cacheTo).size).toBe(cacheTo.length);
    expect(Object.keys(printed.target).some((n) => n.startsWith('test-'))).toBe(true);
  });

  it('each product bake file holds exactly its targets, defined as in docker-bake.hcl (real buildx bake --print)', () => {
    const buildx = findBuildx();
    if (!buildx) throw new Error('buildx not found: run `bash scripts/sandbox.sh up` (installs it) or set BUILDX_BIN');
    type Printed = { group: Record<string, { targets: string[] }>; target: Record<string, unknown> };
    const print = (file: string, names: string[]): Printed =>
      JSON.parse(
        execFileSync(buildx, ['bake', '-f', file, '--print', ...names], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, REGISTRY: 'registry.test:5000/acme', BUILDX_BUILDER: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      ) as Printed;
    const whole = print('docker-bake.hcl', ['default', 'tests']);
    const seen: string[] = [];
    for (const product of factory.products) {
      const file = productBakeFile(product.product.doc);
      expect(outputs.map((o) => o.path)).toContain(file);
      const own = factory.targets
        .filter((t) => t.product === product)
        .map((t) => t.name)
        .sort();
      const printed = print(file, ['default', 'tests']);
      // The printed default group is the names asked for, with the `default` group expanded.
      expect(printed.group.default!.targets.filter((n) => n !== 'tests').sort(), file).toEqual(own);
      // Every target it defines (images, their tests, the stages they pull in) is the whole file's,
      // but for stages the whole file shares with other products: built inline here, from the
      // same per-arch cache.
      for (const [name, def] of Object.entries(printed.target)) {
        const want = { ...(whole.target[name] as { contexts?: Record<string, string> }) };
        const contexts = Object.entries(want.contexts ?? {}).filter(([, v]) => !v.startsWith('target:stage-') || v.slice(7) in printed.target);
        if (contexts.length > 0) want.contexts = Object.fromEntries(contexts);
        else delete want.contexts;
        expect(def, `${file}: ${name}`).toEqual(want);
      }
      // Its tests: its images' combined tests and the isolated tests of its fragments, nothing else.
      const refs = new Set(product.fragments.map((f) => `${f.meta.doc.name}-${f.meta.doc.version}`.replace(/[^A-Za-z0-9_-]/g, '_')));
      for (const t of printed.group.tests!.targets) {
        expect(own.some((n) => t === `test-${n}`) || [...refs].some((r) => t.startsWith(`test-fragment-${r}-`)), `${file}: ${t}`).toBe(true);
      }
      seen.push(...own);
    }
    expect(seen.sort()).toEqual(factory.targets.map((t) => t.name).sort());
  });
});
