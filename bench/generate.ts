// npm run bench:generate — the whole pure pipeline (load, validate, resolve, render, generate)
// on synthetic factories of 10 to 10,000 targets. Each size runs in its own process so peak
// memory (max RSS) belongs to that size alone; time is the median of several runs after one
// warm-up. CPU time (user+system, process.cpuUsage) is reported beside wall time because on a
// shared machine wall time mostly measures the neighbours; the phase split (load+resolve vs
// generate) says where the time goes. Prints a table; --json prints machine-readable rows.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildFactory } from '../src/core/index.js';
import { generate } from '../generators/index.js';
import { syntheticFactory } from './synthetic.js';

const SIZES = [10, 100, 1_000, 10_000];

interface Row {
  targets: number;
  files: number;
  outputs: number;
  medianMs: number;
  minMs: number;
  /** median CPU time (user + system) of one run */
  cpuMs: number;
  /** median wall time of buildFactory (load + validate + resolve) and of generate */
  buildMs: number;
  generateMs: number;
  runs: number;
  peakRssMiB: number;
}

function measure(size: number): Row {
  const files = syntheticFactory(size);
  const runs = size >= 10_000 ? 5 : 7;
  const times: number[] = [];
  const cpu: number[] = [];
  const build: number[] = [];
  const gen: number[] = [];
  let targets = 0;
  let outputs = 0;
  for (let i = 0; i <= runs; i++) {
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    const { factory, diagnostics } = buildFactory(files);
    const built = process.hrtime.bigint();
    if (!factory || diagnostics.some((d) => d.severity === 'error')) {
      throw new Error(
        `synthetic factory of ${size} has errors:\n${diagnostics
          .slice(0, 5)
          .map((d) => d.message)
          .join('\n')}`,
      );
    }
    outputs = generate(factory).length;
    const end = process.hrtime.bigint();
    const used = process.cpuUsage(cpuStart);
    targets = factory.targets.length;
    if (i > 0) {
      // the first run warms the JIT
      times.push(Number(end - start) / 1e6);
      cpu.push((used.user + used.system) / 1e3);
      build.push(Number(built - start) / 1e6);
      gen.push(Number(end - built) / 1e6);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  times.sort((a, b) => a - b);
  return {
    targets,
    files: files.length,
    outputs,
    medianMs: times[Math.floor(times.length / 2)]!,
    minMs: times[0]!,
    cpuMs: median(cpu),
    buildMs: median(build),
    generateMs: median(gen),
    runs,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

const sizeArg = process.argv.indexOf('--size');
if (sizeArg > 0) {
  process.stdout.write(`${JSON.stringify(measure(Number(process.argv[sizeArg + 1])))}\n`);
} else {
  const rows: Row[] = [];
  for (const size of SIZES) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--size', String(size)], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (child.status !== 0) {
      process.stderr.write(child.stderr);
      process.exit(1);
    }
    rows.push(JSON.parse(child.stdout.trim().split('\n').pop()!) as Row);
  }
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    const base = rows[0]!;
    process.stdout.write('targets  outputs  median ms  min ms  cpu ms  load+resolve ms  generate ms  ms/target  peak RSS MiB  x time vs 10\n');
    for (const r of rows) {
      process.stdout.write(
        `${String(r.targets).padStart(7)}  ${String(r.outputs).padStart(7)}  ${r.medianMs.toFixed(1).padStart(9)}  ${r.minMs.toFixed(1).padStart(6)}  ${r.cpuMs.toFixed(0).padStart(6)}  ${r.buildMs.toFixed(1).padStart(15)}  ${r.generateMs.toFixed(1).padStart(11)}  ${(r.medianMs / r.targets).toFixed(3).padStart(9)}  ${r.peakRssMiB.toFixed(0).padStart(12)}  ${(r.medianMs / base.medianMs).toFixed(1).padStart(12)}\n`,
      );
    }
    process.stdout.write(
      `(median of ${rows.map((r) => r.runs).join('/')} runs after a warm-up; cpu = user+system time of one run, median; node ${process.version}; ${new Date().toISOString().slice(0, 10)})\n`,
    );
  }
}
