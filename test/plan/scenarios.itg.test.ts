// Change-detection scenarios against real temporary git repositories. Each file under
// scenarios/ describes edits to the fixture factory (fixtures/factory) and the exact set of
// affected targets: no unaffected target, no missed one.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { planChanges, type PlanOptions } from '../../src/plan/index.js';
import { applyEdits, commitAll, Edits, repoFromFixture } from './repo.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.join(here, 'fixtures/factory');
const SCENARIOS = path.join(here, 'scenarios');

const Scenario = Edits.extend({
  description: z.string(),
  base: Edits.optional(),
  options: z
    .object({ all: z.boolean(), products: z.array(z.string()), platforms: z.array(z.string()), force: z.boolean() })
    .partial()
    .strict()
    .optional(),
  registry: z
    .object({ builtAtBase: z.array(z.string()) })
    .strict()
    .optional(),
  expect: z.array(z.string()),
  skipped: z.array(z.string()).optional(),
  removed: z.array(z.string()).optional(),
  ignored: z.array(z.string()).optional(),
  kinds: z.array(z.string()).optional(),
}).strict();

const files = fs
  .readdirSync(SCENARIOS)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

describe('factory plan change scenarios', () => {
  it('has at least 20 scenarios', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  it.each(files)('%s', async (file) => {
    const s = Scenario.parse(parse(fs.readFileSync(path.join(SCENARIOS, file), 'utf8')));
    const { description: _d, base: baseEdits, options, registry, expect: expected, skipped, removed, ignored, kinds, ...edits } = s;
    const { root, base } = repoFromFixture(FIXTURE, baseEdits);
    roots.push(root);

    // "Already built" = the images a plan at the base revision would have pushed.
    const existing = new Set<string>();
    if (registry) {
      const atBase = await planChanges({ repoRoot: root, all: true, head: base });
      for (const t of registry.builtAtBase) {
        const planned = atBase.affected.find((p) => p.target === t);
        if (!planned) throw new Error(`${file}: registry.builtAtBase names unknown target ${t}`);
        existing.add(planned.keyRef);
      }
    }
    applyEdits(root, edits);
    commitAll(root, 'change');

    const opts: PlanOptions = { repoRoot: root, base, ...options };
    if (registry) opts.registryCheck = async (ref) => existing.has(ref);
    const result = await planChanges(opts);

    expect(result.affected.map((p) => p.target)).toEqual([...expected].sort());
    // Every affected target explains itself.
    for (const p of result.affected) {
      expect(p.reasons.length, p.target).toBeGreaterThan(0);
      for (const r of p.reasons) expect(r.chain.at(-1)).toBe(`target ${p.target}`);
    }
    if (kinds) expect([...new Set(result.affected.flatMap((p) => p.reasons.map((r) => r.kind)))].sort()).toEqual([...kinds].sort());
    expect(result.skipped).toEqual([...(skipped ?? [])].sort());
    expect(result.removed.map((r) => r.target)).toEqual([...(removed ?? [])].sort());
    if (ignored) expect(result.ignored.map((i) => i.path)).toEqual([...ignored].sort());
    // The matrices hold exactly the targets to build, each in its own pool.
    const legs = Object.values(result.matrices).flatMap((m) => m.include.map((e) => e.target));
    expect(legs.sort()).toEqual(result.build);
  });
});
