// npm run bench:plan — change detection on the sample factory and a synthetic 200-product
// factory, in real git repositories: how many targets a single-fragment change builds against
// a full rebuild, what the build keys save after a factory-wide change, and how long a plan
// takes (median of several runs). Prints a table; --json prints the rows.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeLock, serializeLock } from '../src/core/lock.js';
import { buildFactory } from '../src/core/index.js';
import type { SourceFile } from '../src/core/types.js';
import { formatDiagnostics } from '../src/core/diagnostics.js';
import { FactoryError } from '../src/core/types.js';
import { readTree } from '../src/io/tree.js';
import { readTreeAt } from '../src/plan/git.js';
import { planChanges, type PlanResult } from '../src/plan/index.js';
import { commitAll, git } from '../test/plan/repo.js';
import { syntheticFactory } from './synthetic.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TIMING_RUNS = 5;
const MAX_FRAGMENT_CHANGES = 12;

interface Row {
  factory: string;
  targets: number;
  change: string;
  /** Targets the change affects (median over the changes of this kind, with min and max). */
  affected: { median: number; min: number; max: number };
  /** Targets actually built once build keys are checked. */
  build: { median: number; min: number; max: number };
  changes: number;
  planMs: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const stats = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

function writeTree(root: string, files: SourceFile[]): void {
  for (const f of files) {
    const abs = path.join(root, f.path);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    if (f.link !== undefined) fs.symlinkSync(f.link, abs);
    else fs.writeFileSync(abs, f.bytes);
  }
}

/** Median wall time of `runs` plans (after one warm-up). */
async function timed(runs: number, plan: () => Promise<PlanResult>): Promise<{ ms: number; result: PlanResult }> {
  let result = await plan();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    result = await plan();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { ms: median(times), result };
}

/** Fragment versions used by at least one product, evenly sampled. */
function usedFragmentDirs(files: SourceFile[]): string[] {
  const { factory } = buildFactory(files);
  if (!factory) throw new Error('the factory does not resolve');
  const dirs = [...new Set(factory.products.flatMap((p) => p.fragments.map((f) => f.dir)))].sort();
  if (dirs.length <= MAX_FRAGMENT_CHANGES) return dirs;
  return Array.from({ length: MAX_FRAGMENT_CHANGES }, (_, i) => dirs[Math.floor((i * dirs.length) / MAX_FRAGMENT_CHANGES)]!);
}

async function benchFactory(name: string, files: SourceFile[]): Promise<Row[]> {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-bench-plan-')));
  try {
    writeTree(root, files);
    git(root, 'init', '-q', '-b', 'main');
    const base = commitAll(root, 'base');
    const hasLock = files.some((f) => f.path === 'factory.lock.json');
    const rows: Row[] = [];

    const full = await timed(TIMING_RUNS, () => planChanges({ repoRoot: root, all: true }));
    const targets = full.result.summary.targets;
    rows.push({
      factory: name,
      targets,
      change: 'full rebuild (--all)',
      affected: stats([full.result.affected.length]),
      build: stats([full.result.build.length]),
      changes: 1,
      planMs: full.ms,
    });
    // "Already built": every image of the full rebuild is in the registry under its key.
    const registry = new Set(full.result.affected.map((p) => p.keyRef));
    const registryCheck = async (ref: string) => registry.has(ref);

    const affected: number[] = [];
    const built: number[] = [];
    const times: number[] = [];
    for (const dir of usedFragmentDirs(files)) {
      git(root, 'checkout', '-q', '-B', 'change', base);
      const snippet = path.join(root, dir, 'Dockerfile.ejs');
      fs.appendFileSync(snippet, 'RUN true\n');
      if (hasLock) {
        // What `factory lock` does for a version that was never published.
        const { factory } = buildFactory(await readTree(root).then((t) => t.filter((f) => f.path !== 'factory.lock.json')));
        if (!factory) throw new Error(`${name}: the changed tree does not resolve`);
        fs.writeFileSync(
          path.join(root, 'factory.lock.json'),
          serializeLock({ ...computeLock(factory.loaded), bases: JSON.parse(fs.readFileSync(path.join(root, 'factory.lock.json'), 'utf8')).bases ?? {} }),
        );
      }
      commitAll(root, `change ${dir}`);
      const r = await timed(TIMING_RUNS, () => planChanges({ repoRoot: root, base, registryCheck }));
      affected.push(r.result.affected.length);
      built.push(r.result.build.length);
      times.push(r.ms);
    }
    rows.push({
      factory: name,
      targets,
      change: 'one fragment version edited',
      affected: stats(affected),
      build: stats(built),
      changes: affected.length,
      planMs: median(times),
    });

    git(root, 'checkout', '-q', '-B', 'change', base);
    fs.mkdirSync(path.join(root, 'generators'), { recursive: true });
    fs.writeFileSync(path.join(root, 'generators/bake.ts'), '// refactor\n');
    commitAll(root, 'factory-wide change');
    const wide = await timed(TIMING_RUNS, () => planChanges({ repoRoot: root, base, registryCheck }));
    rows.push({
      factory: name,
      targets,
      change: 'factory-wide file, images built',
      affected: stats([wide.result.affected.length]),
      build: stats([wide.result.build.length]),
      changes: 1,
      planMs: wide.ms,
    });
    return rows;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

let rows: Row[];
try {
  rows = [
    // The committed sample factory (HEAD), so uncommitted edits in the checkout do not matter.
    ...(await benchFactory('sample', await readTreeAt(REPO_ROOT, 'HEAD'))),
    ...(await benchFactory('synthetic-200', syntheticFactory(2_000))),
  ];
} catch (e) {
  if (!(e instanceof FactoryError)) throw e;
  process.stderr.write(`bench:plan: a benchmark factory does not load:\n${formatDiagnostics(e.diagnostics)}`);
  process.exit(1);
}

if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
} else {
  const range = (s: Row['affected']) => (s.min === s.max ? String(s.median) : `${s.median} (${s.min}-${s.max})`);
  process.stdout.write('factory         targets  change                            n   affected        to build        % of full  plan ms\n');
  for (const r of rows) {
    process.stdout.write(
      `${r.factory.padEnd(14)}  ${String(r.targets).padStart(7)}  ${r.change.padEnd(32)}  ${String(r.changes).padStart(2)}  ${range(r.affected).padEnd(14)}  ${range(r.build).padEnd(14)}  ${((100 * r.build.median) / r.targets).toFixed(1).padStart(8)}%  ${r.planMs.toFixed(0).padStart(7)}\n`,
    );
  }
  process.stdout.write(
    `(affected/to build: median over n changes, (min-max); plan ms: median of ${TIMING_RUNS} runs after a warm-up, real git; node ${process.version}; ${new Date().toISOString().slice(0, 10)})\n`,
  );
}
