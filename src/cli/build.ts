// `factory build`: one `buildx bake` of the id's targets on the generated docker-bake.hcl, with
// buildx's defer-error mode so that one failing target does not cancel the others (the CI
// builds each target in its own leg; a local build should lose no more work than that), then a
// line per target from the bake metadata file: built (with its digest) or failed.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_TEST_RESULTS_DIR, TEST_RESULTS_VARIABLE } from '../../generators/bake.js';
import { parseResults } from '../action/test-results.js';
import { isTestTargetName } from '../core/ids.js';
import { EXIT } from './errors.js';
import { paint, printJson, type Io } from './output.js';

export interface BuildRun {
  io: Io;
  json: boolean;
  root: string;
  /** The buildx command (`[buildx]` or `[docker, buildx]`). */
  buildx: string[];
  targets: string[];
  builder?: string;
  push: boolean;
  print: boolean;
  /** More bake options before the targets: the device grant of device pools' test targets. */
  extra?: string[];
}

export interface TargetOutcome {
  target: string;
  status: 'built' | 'failed';
  digest?: string;
  /** A test target's results (its results.json): a target whose tests failed has failed. */
  tests?: { passed: number; failed: number; skipped: number };
}

export async function runBuild(b: BuildRun): Promise<number> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'factory-build-'));
  const metadata = path.join(tmp, 'metadata.json');
  try {
    const [cmd, ...pre] = b.buildx;
    const args = [...pre, 'bake', '-f', 'docker-bake.hcl'];
    if (b.builder) args.push('--builder', b.builder);
    if (b.print) args.push('--print');
    else args.push('-j', 'defer-error', '--metadata-file', metadata, ...(b.push ? ['--push'] : []));
    args.push(...(b.extra ?? []), ...b.targets);
    if (!b.json) b.io.err(paint(b.io, 'dim', `$ ${[cmd, ...args].join(' ')}`));
    const code = await spawnInherit(cmd!, args, b.root, b.io);
    if (code === undefined) return EXIT.internal;
    if (b.print) return code === 0 ? EXIT.ok : EXIT.failed;
    const outcomes = await withTestResults(outcomesOf(b.targets, await readMetadata(metadata)), b.root);
    report(b, outcomes);
    return outcomes.every((o) => o.status === 'built') && code === 0 ? EXIT.ok : EXIT.failed;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** The targets' outcomes: bake writes metadata for every target that finished, none for a failed one. */
export function outcomesOf(targets: readonly string[], metadata: Record<string, unknown>): TargetOutcome[] {
  return targets.map((target) => {
    const entry = metadata[target] as Record<string, unknown> | undefined;
    if (!entry) return { target, status: 'failed' };
    const digest = entry['containerimage.digest'];
    return { target, status: 'built', ...(typeof digest === 'string' ? { digest } : {}) };
  });
}

/**
 * A test target exports its results.json instead of failing (the verdict stage is the CI's):
 * read them, so that `factory build --test` says how the tests went and fails when one did.
 */
async function withTestResults(outcomes: TargetOutcome[], root: string): Promise<TargetOutcome[]> {
  const dir = path.resolve(root, process.env[TEST_RESULTS_VARIABLE] || DEFAULT_TEST_RESULTS_DIR);
  return Promise.all(
    outcomes.map(async (o) => {
      if (o.status !== 'built' || !isTestTargetName(o.target)) return o;
      const file = path.join(dir, o.target, 'results.json');
      const text = await fs.readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) return o;
      const cases = parseResults(text, path.relative(root, file));
      const count = (s: string) => cases.filter((c) => c.status === s).length;
      const tests = { passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
      return { ...o, status: tests.failed > 0 ? 'failed' : 'built', tests };
    }),
  );
}

async function readMetadata(file: string): Promise<Record<string, unknown>> {
  try {
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {}; // no file: nothing finished (bake failed before building)
  }
}

function report(b: BuildRun, outcomes: readonly TargetOutcome[]): void {
  const failed = outcomes.filter((o) => o.status === 'failed').length;
  if (b.json) {
    printJson(b.io, { ok: failed === 0, targets: outcomes });
    return;
  }
  for (const o of outcomes) {
    const mark = o.status === 'built' ? paint(b.io, 'green', 'built ') : paint(b.io, 'red', 'failed');
    const tests = o.tests ? ` (tests: ${o.tests.passed} passed, ${o.tests.failed} failed, ${o.tests.skipped} skipped)` : '';
    const why = o.digest ? ` ${o.digest}` : o.status === 'failed' && !o.tests ? ' (its error is in the bake output above)' : '';
    b.io.err(`  ${mark} ${o.target}${why}${tests}`);
  }
  b.io.err(`${outcomes.length - failed} of ${outcomes.length} targets built${failed ? `, ${failed} failed` : ''}.`);
}

function spawnInherit(cmd: string, args: string[], cwd: string, io: Io): Promise<number | undefined> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: 'inherit' });
    child.on('error', (e) => {
      io.err(`factory build: cannot run ${cmd}: ${e.message}. Install buildx (scripts/sandbox.sh up does) or put it on PATH.`);
      resolve(undefined);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
}
