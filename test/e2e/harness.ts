// Shared plumbing of the end-to-end suite and bench:build: bring the sandbox up, copy the
// factory into a scratch tree, generate it, run `docker buildx bake` (the real CLI, through the
// sandbox's remote builders) with rawjson progress kept as files, and read what came out.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, createWriteStream } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countSteps, parseRawJson, parseStepName, type Progress, type StepCounts } from '../../src/action/rawjson.js';
import { parseEnvLines } from '../sandbox-env.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SANDBOX = join(ROOT, 'scripts', 'sandbox.sh');
/** Timestamps of every image the suite builds: the same value in every build, or digests differ. */
export const SOURCE_DATE_EPOCH = '1700000000';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a command; stdout and stderr also go to `logFile` when given. Never throws on exit codes. */
export function run(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; logFile?: string } = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const log = opts.logFile ? createWriteStream(opts.logFile) : undefined;
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      log?.write(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      err.push(b);
      log?.write(b);
    });
    child.once('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
    child.once('close', (code) => {
      log?.end();
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        seconds: Math.round((Date.now() - started) / 100) / 10,
      });
    });
  });
}

export interface SandboxEnv {
  REGISTRY: string;
  /** The sandbox buildkitd's address (a buildx remote driver endpoint). */
  BUILDKIT_HOST: string;
  BUILDX_BUILDER: string;
  BASE_DEBIAN: string;
  BASE_BUSYBOX: string;
  BASE_CUDA: string;
  SBOM_SCANNER: string;
}

/**
 * `scripts/sandbox.sh up` (idempotent; seconds when already up) and its variables. Fails with
 * the reason and the log file when the sandbox cannot start: e2e tests are never skipped.
 */
export async function sandboxUp(logDir: string): Promise<SandboxEnv & { upSeconds: number }> {
  const logFile = join(logDir, 'sandbox-up.log');
  const up = await run('bash', [SANDBOX, 'up'], { logFile });
  if (up.code !== 0) {
    const tail = up.stderr.trim().split('\n').slice(-5).join('\n');
    throw new Error(
      `the e2e suite needs the build sandbox, and \`scripts/sandbox.sh up\` failed (exit ${up.code}); log: ${logFile}\n${tail}\n` +
        'It must run as root on Debian 12 with Go on PATH; see the header of scripts/sandbox.sh.',
    );
  }
  const env = await run('bash', [SANDBOX, 'env']);
  const vars = parseEnvLines(env.stdout);
  for (const k of ['REGISTRY', 'BUILDKIT_HOST', 'BUILDX_BUILDER', 'BASE_DEBIAN', 'BASE_BUSYBOX', 'BASE_CUDA', 'SBOM_SCANNER']) {
    if (!vars[k]) throw new Error(`scripts/sandbox.sh env printed no ${k}; run scripts/sandbox.sh status to see what is missing`);
  }
  return { ...(vars as unknown as SandboxEnv), upSeconds: up.seconds };
}

/** An extra buildkitd with an empty state and its buildx builder ("fresh builder state"). */
export async function freshBuilder(name: string, logDir: string): Promise<{ builder: string; stop: () => Promise<void> }> {
  const res = await run('bash', [SANDBOX, 'builder-up', name], { logFile: join(logDir, `builder-${name}.log`) });
  if (res.code !== 0) throw new Error(`scripts/sandbox.sh builder-up ${name} failed; see ${join(logDir, `builder-${name}.log`)}`);
  return {
    builder: res.stdout.trim().split('\n').pop() ?? `factory-${name}`,
    stop: async () => {
      await run('bash', [SANDBOX, 'builder-down', name]);
    },
  };
}

/** Tracked files of the checkout (working-tree content), copied to `dest`: the factory under test. */
export async function copyFactory(dest: string): Promise<void> {
  const ls = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT });
  if (ls.code !== 0) throw new Error(`git ls-files failed in ${ROOT}: ${ls.stderr}`);
  for (const f of ls.stdout.split('\0').filter(Boolean)) {
    if (f.startsWith('node_modules/') || !existsSync(join(ROOT, f))) continue;
    mkdirSync(dirname(join(dest, f)), { recursive: true });
    cpSync(join(ROOT, f), join(dest, f));
  }
}

const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const CLI = join(ROOT, 'src', 'cli', 'main.ts');

/** `factory <args> --root tree`; throws with the CLI's own diagnostics on failure. */
export async function factory(tree: string, args: readonly string[], logFile?: string): Promise<RunResult> {
  const res = await run(TSX, [CLI, '--root', tree, '--no-color', ...args], { cwd: tree, logFile });
  if (res.code !== 0) {
    throw new Error(`factory ${args.join(' ')} failed (exit ${res.code}) in ${tree}:\n${res.stderr}${res.stdout}`);
  }
  return res;
}

export interface BakeTarget {
  platforms?: string[];
  tags?: string[];
  labels?: Record<string, string>;
  annotations?: string[];
  output?: (string | Record<string, string>)[];
  'cache-to'?: unknown[];
  dockerfile?: string;
}

export interface BakePlan {
  group: Record<string, { targets: string[] }>;
  target: Record<string, BakeTarget>;
}

export interface BakeOptions {
  tree: string;
  builder: string;
  targets: readonly string[];
  /** Bake variables (REGISTRY, BASE_*, CACHE_REPO, ...) passed through the environment. */
  vars: Record<string, string>;
  sets?: readonly string[];
  logDir: string;
  name: string;
  jobs?: 'fail-fast' | 'defer-error';
  /** Paths outside `tree` the build reads (bake asks for an fs.read entitlement for them). */
  allowRead?: readonly string[];
  /** Other entitlements to grant, e.g. "device" for the test targets of device pools. */
  allow?: readonly string[];
}

export interface BakeRun {
  name: string;
  code: number;
  seconds: number;
  progress: Progress;
  steps: StepCounts;
  metadata: Record<string, Record<string, unknown>>;
  rawjsonFile: string;
}

/** Which `buildx` runs the builds: the docker CLI plugin when `docker` is there, as users run it. */
export function buildxCommand(): { cmd: string; pre: string[] } {
  return existsSync('/usr/local/bin/docker') || existsSync('/usr/bin/docker') ? { cmd: 'docker', pre: ['buildx'] } : { cmd: 'buildx', pre: [] };
}

export async function bakePrint(tree: string, targets: readonly string[], vars: Record<string, string>): Promise<BakePlan> {
  const { cmd, pre } = buildxCommand();
  const res = await run(cmd, [...pre, 'bake', '--print', ...targets], { cwd: tree, env: { ...process.env, ...vars } });
  if (res.code !== 0) throw new Error(`buildx bake --print failed in ${tree}:\n${res.stderr}`);
  return JSON.parse(res.stdout) as BakePlan;
}

export async function bake(o: BakeOptions): Promise<BakeRun> {
  const { cmd, pre } = buildxCommand();
  const rawjsonFile = join(o.logDir, `${o.name}.rawjson.log`);
  const metadataFile = join(o.logDir, `${o.name}.metadata.json`);
  const args = [
    ...pre,
    'bake',
    '--builder',
    o.builder,
    '--progress',
    'rawjson',
    '--metadata-file',
    metadataFile,
    '--jobs',
    o.jobs ?? 'fail-fast',
    ...(o.allowRead ?? []).map((p) => `--allow=fs.read=${p}`),
    ...(o.allow ?? []).map((e) => `--allow=${e}`),
    ...(o.sets ?? []).flatMap((s) => ['--set', s]),
    ...o.targets,
  ];
  writeFileSync(
    join(o.logDir, `${o.name}.command.txt`),
    `cd ${o.tree}\n${Object.entries(o.vars)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} ${cmd} ${args.join(' ')}\n`,
  );
  const res = await run(cmd, args, { cwd: o.tree, env: { ...process.env, ...o.vars, BUILDX_NO_DEFAULT_ATTESTATIONS: '1' }, logFile: rawjsonFile });
  const progress = parseRawJson(res.stderr);
  let metadata: Record<string, Record<string, unknown>> = {};
  if (existsSync(metadataFile)) metadata = JSON.parse(readFileSync(metadataFile, 'utf8')) as typeof metadata;
  return { name: o.name, code: res.code, seconds: res.seconds, progress, steps: countSteps(progress), metadata, rawjsonFile };
}

/**
 * One bake per target, one after another on the same builder, as the workflow's jobs build
 * them (one target each). A single bake of many targets that share stages, from a fresh
 * builder, now and then misses the registry cache for a step one of them shares (buildx#414,
 * buildx#3878: 3 of 31 steps in one CI run, never here); the jobs never bake that way.
 * Vertex names get the target prefix buildx gives them in a bake of several targets, so
 * `executedSteps` and `countSteps` attribute them alike; `sets(t)` are that target's overrides.
 */
export async function bakeEach(o: Omit<BakeOptions, 'targets' | 'sets'> & { targets: readonly string[]; sets: (t: string) => string[] }): Promise<BakeRun> {
  const runs: BakeRun[] = [];
  for (const t of o.targets) {
    const r = await bake({ ...o, targets: [t], sets: o.sets(t), name: `${o.name}-${t}` });
    for (const v of r.progress.vertexes) if (v.name.startsWith('[')) v.name = `[${t} ${v.name.slice(1)}`;
    runs.push(r);
    if (r.code !== 0) break;
  }
  const progress: Progress = {
    vertexes: runs.flatMap((r) => r.progress.vertexes),
    warnings: runs.flatMap((r) => r.progress.warnings),
    text: runs.flatMap((r) => r.progress.text),
  };
  const failed = runs.find((r) => r.code !== 0);
  return {
    name: o.name,
    code: failed?.code ?? 0,
    seconds: Math.round(runs.reduce((n, r) => n + r.seconds, 0) * 10) / 10,
    progress,
    steps: countSteps(progress),
    metadata: Object.assign({}, ...runs.map((r) => r.metadata)) as BakeRun['metadata'],
    rawjsonFile: (failed ?? runs[runs.length - 1])?.rawjsonFile ?? join(o.logDir, `${o.name}.rawjson.log`),
  };
}

/** Steps (not FROM) of a run that executed rather than came from cache, as {target, stage, instruction}. */
export function executedSteps(r: BakeRun, targets: readonly string[]): { target?: string; stage?: string; instruction: string }[] {
  return r.progress.vertexes
    .filter((v) => !v.cached && v.completed && !v.error)
    .map((v) => parseStepName(v.name, targets))
    .filter((s): s is NonNullable<typeof s> => s !== undefined && !/^FROM\s/i.test(s.instruction));
}

/**
 * `--set` overrides that make each image target push a reproducible image: the generated
 * targets leave `output` to `--push`, which has no rewrite-timestamp; and the SBOM generator is
 * the sandbox's scanner, since docker/buildkit-syft-scanner cannot be pulled here.
 */
export function imageSets(plan: BakePlan, imageTargets: readonly string[], scanner: string): string[] {
  const sets: string[] = [];
  for (const t of imageTargets) {
    sets.push(`${t}.output=type=image,push=true,rewrite-timestamp=true,oci-mediatypes=true`);
    sets.push(`${t}.attest=type=sbom,generator=${scanner}`);
    if (!plan.target[t]) throw new Error(`bake plan has no target ${t}`);
  }
  return sets;
}

export function rel(p: string): string {
  return relative(ROOT, p) || '.';
}

/** A table of figures, printed and kept next to the logs. */
export function report(logDir: string, file: string, title: string, rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  const text = [title, ...rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i]!)).join('  '))].join('\n');
  writeFileSync(join(logDir, file), `${text}\n`);
  console.log(`\n${text}\n`);
  return text;
}

/**
 * Steps a change to fragment `name` must re-run in one rendered Dockerfile: the instructions that
 * make BuildKit vertexes (RUN, COPY, ADD, WORKDIR) in the fragment's stage and every stage after
 * it (the template chains stages linearly: <slot>-<fragment> ... final).
 */
export function downstreamSteps(dockerfile: string, name: string): number {
  const lines = dockerfile.replace(/\\\r?\n/g, ' ').split('\n');
  let inside = false;
  let n = 0;
  for (const line of lines) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from) {
      if (from[1]!.endsWith(`-${name}`)) inside = true;
      continue;
    }
    if (inside && /^(RUN|COPY|ADD|WORKDIR)\s/i.test(line)) n++;
  }
  return n;
}

/**
 * Releases a new patch version of fragment `name` in `tree`, the way a maintainer does: the
 * latest version directory copied to the next patch version, `change` applied to the copy, and
 * every manifest that pinned the old version moved to the new one (a locked version's content
 * must not change, so a content change is always a new version). Returns the new `name@version`.
 */
export function releaseFragment(tree: string, name: string, change: (versionDir: string) => void): { from: string; to: string } {
  const root = join(tree, 'fragments', name);
  const semver = (v: string): number[] => v.split(/[.-]/).slice(0, 3).map(Number);
  const versions = readdirSync(root).filter((v) => /^\d+\.\d+\.\d+$/.test(v));
  versions.sort((a, b) => {
    const [x, y] = [semver(a), semver(b)];
    return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
  });
  const latest = versions[versions.length - 1];
  if (!latest) throw new Error(`fragment ${name} has no version directory under ${root}`);
  const [major, minor, patch] = semver(latest);
  const next = `${major}.${minor}.${patch! + 1}`;
  cpSync(join(root, latest), join(root, next), { recursive: true });
  const meta = join(root, next, 'fragment.yaml');
  const doc = readFileSync(meta, 'utf8');
  if (!new RegExp(`^version:\\s*['"]?${latest.replace(/\./g, '\\.')}['"]?\\s*$`, 'm').test(doc)) {
    throw new Error(`${meta} does not declare version ${latest}`);
  }
  writeFileSync(meta, doc.replace(new RegExp(`^version:.*$`, 'm'), `version: ${next}`));
  change(join(root, next));
  const from = `${name}@${latest}`;
  const to = `${name}@${next}`;
  const manifests = join(tree, 'manifests');
  let moved = 0;
  for (const f of readdirSync(manifests).filter((f) => /\.ya?ml$/.test(f))) {
    const text = readFileSync(join(manifests, f), 'utf8');
    // Only list entries (`- name@version`), not comments that mention the version.
    const updated = text.replace(new RegExp(`^(\\s*-\\s*)${from.replace(/\./g, '\\.')}\\s*$`, 'gm'), `$1${to}`);
    if (updated !== text) {
      writeFileSync(join(manifests, f), updated);
      moved++;
    }
  }
  if (moved === 0) throw new Error(`no manifest pins ${from}; nothing would use ${to}`);
  return { from, to };
}
