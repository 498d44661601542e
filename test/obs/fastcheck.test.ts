// The compiled record check says yes exactly when the zod schema does: on the fixture records and
// on every one-field mutation of them (field removed, replaced by a value of each other kind,
// an unknown key added to each object), so the fast path cannot accept a line zod refuses.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RecordSchema } from '../../src/core/record.js';
import { compileCheck } from '../../src/obs/fastcheck.js';

const fixtures = ['passed.json', 'failed.json'].map((f) => JSON.parse(fs.readFileSync(path.resolve(__dirname, '../action/fixtures/records', f), 'utf8')));
const replacements: unknown[] = [null, 'x', '', -1, 0, 0.5, 1.5, 2 ** 60, true, [], ['x'], {}, 'sha256:abc', '2026-11-02T01:00:00.000Z', 'passed'];

/** Every value reachable in `v`, as the path to it. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (v && typeof v === 'object') return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
  return [at];
}

function mutate(v: unknown, at: (string | number)[], f: (parent: Record<string | number, unknown>, key: string | number) => void): unknown {
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let parent = copy;
  for (const k of at.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  f(parent, at.at(-1)!);
  return copy;
}

describe('compileCheck(RecordSchema)', () => {
  const check = compileCheck(RecordSchema);
  const same = (v: unknown) => expect(check(v), JSON.stringify(v).slice(0, 300)).toBe(RecordSchema.safeParse(v).success);

  it('accepts the fixture records', () => {
    for (const r of fixtures) expect(check(r)).toBe(true);
  });

  it('agrees with zod on every one-field mutation', () => {
    let cases = 0;
    for (const r of fixtures) {
      for (const at of paths(r)) {
        if (at.length === 0) continue;
        same(mutate(r, at, (p, k) => (Array.isArray(p) ? p.splice(Number(k), 1) : delete p[k])));
        for (const x of replacements) same(mutate(r, at, (p, k) => (p[k] = x)));
        cases += 1 + replacements.length;
      }
      const objects = paths(r).filter((at) => {
        const v = at.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], r);
        return v !== null && typeof v === 'object' && !Array.isArray(v);
      });
      for (const at of objects) same(mutate(r, [...at, 'unknownKey'], (p, k) => (p[k] = 1)));
      expect(objects.length).toBeGreaterThan(5);
    }
    expect(cases).toBeGreaterThan(500);
  });

  it('refuses what it cannot compile, so callers fall back to zod', () => {
    expect(() => compileCheck(z.union([z.string(), z.number()]))).toThrow(/not supported/);
    expect(() => compileCheck(z.object({ a: z.string() }).catchall(z.string()))).toThrow(/not supported/);
  });
});
