// npm run bench:scale [-- --sizes 10,100,1000,10000] [--runs 3] [--timeout 120] [--keep]
//
// Whole-process figures: every row spawns the real process (the compiled CLI bin/factory.js,
// buildx), disk to disk, on a synthetic factory of each size written to its own temporary git
// repository (bench/synthetic.ts). Wall time is measured here around the spawn; CPU time is the
// child's user + system (and that of every process it waited for: plan's git, buildx's plugins)
// as /usr/bin/time reports it. Each cell is the median of --runs runs, no warm-up.
//
// The two buildx rows are a part of a build job, its parse step: `buildx bake --print` of one
// target from the product version's own bake file (build/<product>/<version>/docker-bake.hcl,
// what a job bakes now) against the same target from the root docker-bake.hcl (the baseline,
// the single-file layout). The root file grows with the factory, so the baseline gets a
// per-call limit (--timeout, seconds) and runs once when its first run takes over 30 s.
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { productBakeFile, splitRef } from '../src/core/ids.js';
import { commitAll, git } from '../test/plan/repo.js';
import { formatCell, formatRatio, markdownTable, parseSizes, parseTimeOutput, type Cell, type Sample } from './scale-table.js';
import { syntheticFactory } from './synthetic.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FACTORY_BIN = path.join(REPO_ROOT, 'bin/factory.js');
/** A baseline run slower than this is not repeated. */
const ONCE_PAST_MS = 30_000;
/** Per-call limit of every other row: only there so that a hang cannot stall the bench. */
const OTHER_LIMIT_S = 900;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
  return v;
}

const sizes = parseSizes(flag('--sizes') ?? '10,100,1000,10000');
const runs = Number(flag('--runs') ?? '3');
const limitS = Number(flag('--timeout') ?? '120');
const keep = process.argv.includes('--keep');
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs: a positive integer');
if (!(limitS > 0)) throw new Error('--timeout: seconds, > 0');

const TIME = '/usr/bin/time';
const haveTime = fs.existsSync(TIME);
const buildx: string[] = fs.existsSync('/usr/local/bin/buildx') ? ['/usr/local/bin/buildx'] : ['docker', 'buildx'];
const BAKE_ENV = { ...process.env, BUILDX_BUILDER: '', REGISTRY: 'registry.test:5000/acme' };

interface RunResult {
  sample: Sample;
  timedOut: boolean;
  status: number | null;
  stderrTail: string;
}

/**
 * Runs `argv` once under /usr/bin/time (or bash's `time`), stdout and stderr to files in
 * `scratch`, in its own process group so that a timeout kills it and everything it started.
 */
function runOnce(argv: string[], opts: { cwd: string; scratch: string; stdout: string; env?: NodeJS.ProcessEnv; limitS: number }): Promise<RunResult> {
  const timeFile = path.join(opts.scratch, 'time.txt');
  const errFile = path.join(opts.scratch, 'stderr.txt');
  fs.rmSync(timeFile, { force: true });
  const wrapped = haveTime
    ? [TIME, '-f', '%e %U %S', '-o', timeFile, ...argv]
    : ['bash', '-c', 'TIMEFORMAT="%R %U %S"; { time "$@" 2>&3; } 3>&2 2>"$0"', timeFile, ...argv];
  const out = fs.openSync(opts.stdout, 'w');
  const err = fs.openSync(errFile, 'w');
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(wrapped[0]!, wrapped.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', out, err], detached: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, opts.limitS * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (status) => {
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      clearTimeout(timer);
      fs.closeSync(out);
      fs.closeSync(err);
      const stderrTail = fs.readFileSync(errFile, 'utf8').slice(-2000);
      if (timedOut) {
        resolve({ sample: { wallMs, cpuMs: NaN }, timedOut, status, stderrTail });
        return;
      }
      try {
        const t = parseTimeOutput(fs.readFileSync(timeFile, 'utf8'));
        resolve({ sample: { wallMs, cpuMs: t.cpuS * 1000 }, timedOut, status, stderrTail });
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** `runs` runs of a command (fewer: see onceOverMs; a timeout ends the cell); fails on a non-zero exit. */
async function measure(
  label: string,
  argv: string[],
  opts: { cwd: string; scratch: string; stdout?: string; env?: NodeJS.ProcessEnv; limitS?: number; onceOverMs?: number; before?: (run: number) => void },
): Promise<Cell> {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    opts.before?.(i);
    const limit = opts.limitS ?? OTHER_LIMIT_S;
    const r = await runOnce(argv, {
      cwd: opts.cwd,
      scratch: opts.scratch,
      stdout: opts.stdout ?? path.join(opts.scratch, 'stdout.txt'),
      env: opts.env,
      limitS: limit,
    });
    if (r.timedOut) {
      process.stderr.write(`  ${label}: timed out after ${limit} s\n`);
      return { kind: 'timeout', limitS: limit };
    }
    if (r.status !== 0) throw new Error(`${label}: exit ${r.status}\n${argv.join(' ')}\n${r.stderrTail}`);
    samples.push(r.sample);
    process.stderr.write(`  ${label}: ${Math.round(r.sample.wallMs)} ms wall, ${Math.round(r.sample.cpuMs)} ms cpu\n`);
    if (opts.onceOverMs !== undefined && r.sample.wallMs > opts.onceOverMs) break;
  }
  return { kind: 'ok', samples };
}

/** Every file under `root` but .git, relative, with `/`. */
function listFiles(root: string): Set<string> {
  const files = new Set<string>();
  for (const e of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (e.isDirectory()) continue;
    const rel = path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/');
    if (rel === '.git' || rel.startsWith('.git/')) continue;
    files.add(rel);
  }
  return files;
}

const ROWS = ['help', 'validate', 'generate-cold', 'generate-again', 'generate-check', 'plan', 'bake-product', 'bake-root'] as const;
type RowKey = (typeof ROWS)[number];

interface SizeResult {
  size: number;
  targets: number;
  outputs: number;
  target: string;
  productBake: string;
  productBakeBytes: number;
  rootBakeBytes: number;
  cells: Partial<Record<RowKey, Cell>>;
}

async function benchSize(size: number): Promise<SizeResult> {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `factory-bench-scale-${size}-`)));
  const root = path.join(base, 'factory');
  const scratch = path.join(base, 'scratch');
  fs.mkdirSync(root);
  fs.mkdirSync(scratch);
  process.stderr.write(
    `size ${size}: ${root} (load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})\n`,
  );
  try {
    for (const f of syntheticFactory(size)) {
      const abs = path.join(root, f.path);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, f.bytes);
    }
    git(root, 'init', '-q', '-b', 'main');
    commitAll(root, 'sources');
    const sources = listFiles(root);
    const factory = (...args: string[]) => [process.execPath, FACTORY_BIN, '--root', root, ...args];
    const cells: SizeResult['cells'] = {};
    const at = { cwd: root, scratch };

    cells.help = await measure('factory --help', factory('--help'), at);

    // Cold: no generated file at all. What the first run generated is removed before each run.
    let generated: Set<string> | undefined;
    const removeGenerated = () => {
      if (!generated) return;
      const newTop = new Set([...generated].map((f) => f.split('/')[0]!).filter((top) => ![...sources].some((s) => s === top || s.startsWith(`${top}/`))));
      for (const top of newTop) fs.rmSync(path.join(root, top), { recursive: true, force: true });
      for (const f of generated) if (!newTop.has(f.split('/')[0]!)) fs.rmSync(path.join(root, f), { force: true });
    };
    cells['generate-cold'] = await measure('factory generate (cold)', factory('generate'), {
      ...at,
      before: (run) => {
        if (run === 0) return;
        generated ??= new Set([...listFiles(root)].filter((f) => !sources.has(f)));
        removeGenerated();
        if (fs.existsSync(path.join(root, 'docker-bake.hcl'))) throw new Error('generate (cold): the outputs are still there');
      },
    });
    generated ??= new Set([...listFiles(root)].filter((f) => !sources.has(f)));
    // The repository as a factory commits it: sources and generated files.
    commitAll(root, 'generated');

    cells.validate = await measure('factory validate', factory('validate'), at);
    cells['generate-again'] = await measure('factory generate (no change)', factory('generate'), at);
    cells['generate-check'] = await measure('factory generate --check', factory('generate', '--check'), at);
    const dirty = git(root, 'status', '--porcelain');
    if (dirty) throw new Error(`generate changed the committed outputs:\n${dirty.slice(0, 2000)}`);

    const planFile = path.join(scratch, 'plan.json');
    cells.plan = await measure('factory plan --all --json', factory('plan', '--all', '--json'), { ...at, stdout: planFile });
    const plan = JSON.parse(fs.readFileSync(planFile, 'utf8')) as { affected: { target: string; product: string }[] };
    const first = plan.affected[0];
    if (!first) throw new Error('the plan has no targets');
    const ref = splitRef(first.product);
    if (!ref) throw new Error(`not name@version: ${first.product}`);
    const productBake = productBakeFile(ref);
    const bakeOut = path.join(scratch, 'bake-print.json');
    const bake = (file: string) => [...buildx, 'bake', '-f', file, '--print', first.target];
    cells['bake-product'] = await measure(`buildx bake -f ${productBake} --print ${first.target}`, bake(productBake), {
      ...at,
      stdout: bakeOut,
      env: BAKE_ENV,
    });
    const printed = JSON.parse(fs.readFileSync(bakeOut, 'utf8')) as { target?: Record<string, unknown> };
    if (!printed.target?.[first.target]) throw new Error(`buildx --print did not print ${first.target}`);
    cells['bake-root'] = await measure(`buildx bake -f docker-bake.hcl --print ${first.target}`, bake('docker-bake.hcl'), {
      ...at,
      stdout: bakeOut,
      env: BAKE_ENV,
      limitS,
      onceOverMs: ONCE_PAST_MS,
    });

    return {
      size,
      targets: plan.affected.length,
      outputs: generated.size,
      target: first.target,
      productBake,
      productBakeBytes: fs.statSync(path.join(root, productBake)).size,
      rootBakeBytes: fs.statSync(path.join(root, 'docker-bake.hcl')).size,
      cells,
    };
  } finally {
    if (keep) process.stderr.write(`kept ${base}\n`);
    else fs.rmSync(base, { recursive: true, force: true });
  }
}

const LABELS: Record<RowKey, string> = {
  help: '`factory --help`',
  validate: '`factory validate`',
  'generate-cold': '`factory generate`, cold (no output yet)',
  'generate-again': '`factory generate`, no change',
  'generate-check': '`factory generate --check`',
  plan: '`factory plan --all --json`',
  'bake-product': "part (a job's parse): `buildx bake --print` one target, product file",
  'bake-root': "part (a job's parse): `buildx bake --print` one target, root `docker-bake.hcl` (baseline)",
};

const loadStart = os.loadavg();
const started = new Date();
const buildxVersion = execFileSync(buildx[0]!, [...buildx.slice(1), 'version'], { encoding: 'utf8' }).trim();
const results: SizeResult[] = [];
for (const size of sizes) results.push(await benchSize(size));
const loadEnd = os.loadavg();

const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ');
const kib = (n: number) => (n < 1 << 20 ? `${(n / 1024).toFixed(0)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);
const out: string[] = [];
out.push(
  `machine: nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / (1 << 30)).toFixed(0)} GiB; ` +
    `node ${process.version}; ${buildxVersion}; CPU time from ${haveTime ? TIME : "bash's time"}`,
);
out.push(`load average (1, 5, 15 min) at start: ${load(loadStart)}; at end: ${load(loadEnd)}`);
out.push(`started ${started.toISOString()}, took ${((Date.now() - started.getTime()) / 60_000).toFixed(1)} min`);
out.push('');
out.push(
  markdownTable(
    ['command (median ms: wall / cpu)', ...results.map((r) => `${r.targets.toLocaleString('en-US')} targets`)],
    ROWS.map((key) => [LABELS[key], ...results.map((r) => formatCell(r.cells[key], runs))]),
  ),
);
out.push(
  `(median of ${runs} runs, no warm-up; "(1 run)": the baseline ran once, its first run took over ${ONCE_PAST_MS / 1000} s; ` +
    `timeout: the per-call limit of ${limitS} s; factory = node bin/factory.js --root <the temporary factory>; ` +
    `buildx with BUILDX_BUILDER='' REGISTRY=registry.test:5000/acme, no daemon)`,
);
out.push('');
for (const r of results) {
  out.push(
    `${r.targets.toLocaleString('en-US')} targets: ${r.outputs.toLocaleString('en-US')} generated files; target ${r.target}; ` +
      `${r.productBake} ${kib(r.productBakeBytes)}, docker-bake.hcl ${kib(r.rootBakeBytes)}; ` +
      `root-file / product-file parse, wall: ${formatRatio(r.cells['bake-root'], r.cells['bake-product'])}`,
  );
}
process.stdout.write(`${out.join('\n')}\n`);
