#!/usr/bin/env node
// Which folder may import which (tests left out): the pure core on the ground floor, then the
// edges' tools, the generators, the plan (its build keys hash what the generators write), the
// action and the observability code, and the `factory` CLI on top, wiring everything.
// `npm run lint` runs it; exit 1 names every import that goes up a floor.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');

/** Area -> the areas it may import (besides itself). */
const MAY_IMPORT = {
  'src/core': [],
  'src/io': ['src/core'],
  'src/registry': ['src/core'],
  generators: ['src/core'],
  'src/plan': ['src/core', 'src/io', 'generators'],
  'src/obs': ['src/core'],
  'src/action': ['src/core', 'src/registry', 'src/obs'],
  'src/supply': ['src/core', 'src/registry', 'src/action'],
  'src/site': ['src/core', 'src/obs'],
  'src/cli': ['src/core', 'src/io', 'src/registry', 'generators', 'src/plan', 'src/obs', 'src/action', 'src/supply', 'src/site'],
};

function areaOf(rel) {
  if (rel.startsWith('generators/')) return 'generators';
  const m = /^src\/[^/]+/.exec(rel);
  return m && MAY_IMPORT[m[0]] ? m[0] : undefined;
}

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.ts$/.test(name) && !/\.test\.ts$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'|import\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;
const problems = [];
for (const file of ['src', 'generators'].flatMap((d) => sourceFiles(join(root, d)))) {
  const rel = relative(root, file);
  const from = areaOf(rel);
  if (!from) continue;
  for (const m of readFileSync(file, 'utf8').matchAll(IMPORT_RE)) {
    const target = relative(root, resolve(dirname(file), m[1] ?? m[2]));
    const to = areaOf(target);
    if (!to || to === from || MAY_IMPORT[from].includes(to)) continue;
    problems.push(`${rel}: imports ${target} (${from} may import ${MAY_IMPORT[from].join(', ') || 'nothing outside itself'})`);
  }
}
for (const p of problems) console.log(p);
if (problems.length) {
  console.error(`import-floors: ${problems.length} import(s) go up a floor; move what both need down (see scripts/import-floors.mjs)`);
  process.exit(1);
}
