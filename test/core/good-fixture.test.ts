// test/fixtures/good/minimal is the shared fixture other parts build on (render, bake,
// workflows): it must keep resolving cleanly, with what those tests rely on.
import { describe, expect, it } from 'vitest';
import { buildFactory, checkLock, formatDiagnostic } from '../../src/core/index.js';
import { readGood } from './helpers.js';

describe('good/minimal', () => {
  it('resolves without any diagnostic, lock included', async () => {
    const { factory, diagnostics } = buildFactory(await readGood());
    expect(diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
    expect(checkLock(factory!.loaded)).toEqual([]);
  });

  it('has 2 products sharing fragments, a matrix and 2 platforms', async () => {
    const f = buildFactory(await readGood()).factory!;
    expect(f.products).toHaveLength(2);
    const [py, tools] = f.products;
    expect(py!.variants.length).toBeGreaterThan(1);
    const shared = py!.fragments.map((x) => x.dir).filter((d) => tools!.fragments.some((y) => y.dir === d));
    expect(shared).toEqual(['fragments/hardening/1.0.0']);
    expect(new Set(f.targets.map((t) => t.platform))).toEqual(new Set(['linux/amd64', 'linux/arm64']));
    expect(py!.fragments.some((x) => x.files.length > 0)).toBe(true);
  });
});
