// Shared helpers for core tests: in-memory trees and the on-disk fixtures.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourceFile } from '../../src/core/types.js';
import { readTree } from '../../src/io/tree.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FIXTURES = path.resolve(here, '../fixtures');

const enc = new TextEncoder();

/** SourceFile[] from { path: text } (texts are UTF-8 encoded). */
export function filesFrom(tree: Record<string, string>): SourceFile[] {
  return Object.entries(tree).map(([p, text]) => ({ path: p, bytes: enc.encode(text) }));
}

export function readGood(name = 'minimal'): Promise<SourceFile[]> {
  return readTree(path.join(FIXTURES, 'good', name));
}

/** Replaces (or adds, or with `undefined` removes) files of a tree. */
export function patch(files: SourceFile[], changes: Record<string, string | undefined>): SourceFile[] {
  const out = files.filter((f) => !(f.path in changes));
  for (const [p, text] of Object.entries(changes)) if (text !== undefined) out.push({ path: p, bytes: enc.encode(text) });
  return out;
}

export function textOf(files: SourceFile[], p: string): string {
  const f = files.find((x) => x.path === p);
  if (!f) throw new Error(`no ${p} in tree`);
  return new TextDecoder().decode(f.bytes);
}

/** A deterministic shuffle (so a failing order can be reproduced). */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
