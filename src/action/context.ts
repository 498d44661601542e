// Turns the INPUT_* / GITHUB_* environment into typed objects and builds the buildx bake
// command lines. Pure apart from reading the environment, so tests drive it through env vars.
import * as path from 'node:path';
import * as core from '@actions/core';
import { DEFAULT_SBOM_SCANNER, Inputs, RECORD_ARTIFACT_PREFIX } from './constants.js';
import { ActionError } from './errors.js';
import type { ActionInputs, BakeDefinition, BakeTarget, BuildInputs, CacheBackend, RunContext } from './types.js';

const CACHE_BACKENDS: readonly CacheBackend[] = ['registry', 'gha', 'local', 'none'];
// Bake target and group names: what buildx accepts, minus the characters that would need quoting.
const TARGET_RE = /^[A-Za-z0-9_-]+$/;
// A registry host (with port) and an optional namespace path of OCI path components.
const REGISTRY_RE = /^[a-z0-9]+(?:[.-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
// Bake variables as HCL names them; the action passes them in the environment.
const VARIABLE_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function inputError(name: string, got: string, want: string): ActionError {
  return new ActionError(`input \`${name}\`: ${want}, got ${JSON.stringify(got)}`);
}

function getBool(name: string, dflt: boolean): boolean {
  const raw = core.getInput(name).trim();
  if (raw === '') return dflt;
  if (/^(true|True|TRUE)$/.test(raw)) return true;
  if (/^(false|False|FALSE)$/.test(raw)) return false;
  throw inputError(name, raw, 'expected true or false');
}

function getInt(name: string, min: number, max: number): number | undefined {
  const raw = core.getInput(name).trim();
  if (raw === '') return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw inputError(name, raw, `expected a whole number from ${min} to ${max}`);
  }
  return Number(raw);
}

/** A list input: one item per line or comma-separated, like docker/bake-action's `files`. */
export function getList(name: string, opts: { comma?: boolean } = {}): string[] {
  const raw = core.getInput(name);
  const items: string[] = [];
  for (const line of raw.split(/\r?\n/)) {
    const parts = opts.comma === false ? [line] : line.split(',');
    for (const p of parts) {
      const v = p.trim();
      if (v !== '' && !v.startsWith('#')) items.push(v);
    }
  }
  return items;
}

/** `variables`: one KEY=VALUE per line (values may contain `=` and commas). */
function getVariables(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of getList(Inputs.Variables, { comma: false })) {
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim() : '';
    if (!VARIABLE_RE.test(key)) throw inputError(Inputs.Variables, line, 'expected one bake variable per line as KEY=VALUE');
    out[key] = line.slice(eq + 1).trim();
  }
  return out;
}

export function getRunContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    repository: env.GITHUB_REPOSITORY ?? '',
    serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
    apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
    runId: env.GITHUB_RUN_ID ?? '0',
    runAttempt: env.GITHUB_RUN_ATTEMPT || '1',
    job: env.GITHUB_JOB ?? '',
    action: env.GITHUB_ACTION ?? '',
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    refName: env.GITHUB_REF_NAME ?? '',
    workspace,
    runnerTemp: env.RUNNER_TEMP || path.join(workspace, '.factory', 'tmp'),
  };
}

export function runUrl(ctx: RunContext): string | undefined {
  if (!ctx.repository || ctx.runId === '0') return undefined;
  return `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}/attempts/${ctx.runAttempt}`;
}

export function getInputs(ctx: RunContext = getRunContext()): ActionInputs {
  const mode = core.getInput(Inputs.Mode).trim() || 'build';
  const workdir = path.resolve(ctx.workspace, core.getInput(Inputs.Workdir).trim() || '.');
  const recordsDir = core.getInput(Inputs.RecordsDir).trim() || 'records';
  if (path.isAbsolute(recordsDir) || recordsDir.split(/[\\/]/).includes('..')) {
    throw inputError(Inputs.RecordsDir, recordsDir, 'expected a path inside the repository (relative, no "..")');
  }
  if (mode === 'record') return recordInputs(ctx, workdir, recordsDir);
  if (mode !== 'build') throw inputError(Inputs.Mode, mode, 'expected "build" or "record"');
  return buildInputs(ctx, workdir, recordsDir);
}

function recordInputs(ctx: RunContext, workdir: string, recordsDir: string): ActionInputs {
  const branch = core.getInput(Inputs.Branch).trim() || ctx.refName;
  if (!branch) {
    throw new ActionError('input `branch`: no branch to commit records to; set `branch:` or run on a push event');
  }
  return {
    mode: 'record',
    workdir,
    recordsDir,
    recordArtifactPrefix: core.getInput(Inputs.RecordArtifactPrefix).trim() || RECORD_ARTIFACT_PREFIX,
    branch,
    pushRetries: getInt(Inputs.PushRetries, 0, 20) ?? 5,
    historyDays: getInt(Inputs.HistoryDays, 0, 3650) ?? 90,
  };
}

function buildInputs(ctx: RunContext, workdir: string, recordsDir: string): BuildInputs {
  const target = core.getInput(Inputs.Target).trim();
  if (target === '') throw new ActionError('input `target` is required: name a bake target or group of docker-bake.hcl');
  if (!TARGET_RE.test(target)) throw inputError(Inputs.Target, target, 'expected a bake target or group name ([A-Za-z0-9_-])');

  const cache = (core.getInput(Inputs.Cache).trim() || 'registry') as CacheBackend;
  if (!CACHE_BACKENDS.includes(cache)) throw inputError(Inputs.Cache, cache, `expected one of ${CACHE_BACKENDS.join(', ')}`);
  const tests = testsInput();
  const set = getList(Inputs.Set, { comma: false });
  for (const s of set) {
    if (!/^[^=\s]+\.[^=\s]+=/.test(s)) throw inputError(Inputs.Set, s, 'expected one `target.key=value` per line');
  }
  const sbomScanner = core.getInput(Inputs.SbomScanner).trim() || DEFAULT_SBOM_SCANNER;
  if (!/^[a-z0-9][a-z0-9._:/@-]*$/.test(sbomScanner)) throw inputError(Inputs.SbomScanner, sbomScanner, 'expected an image reference');

  const files = getList(Inputs.Files);
  const inputs: BuildInputs = {
    mode: 'build',
    target,
    files: files.length > 0 ? files : ['docker-bake.hcl'],
    workdir,
    push: getBool(Inputs.Push, false),
    load: getBool(Inputs.Load, false),
    cache,
    cacheWrite: getBool(Inputs.CacheWrite, true),
    cacheFrom: getList(Inputs.CacheFrom, { comma: false }),
    cacheTo: getList(Inputs.CacheTo, { comma: false }),
    cacheDir: path.resolve(workdir, core.getInput(Inputs.CacheDir).trim() || path.join(ctx.runnerTemp, 'factory-buildkit-cache')),
    tests,
    set,
    sbom: getBool(Inputs.Sbom, true),
    sbomScanner,
    registryInsecure: getBool(Inputs.RegistryInsecure, false),
    variables: getVariables(),
    retries: getInt(Inputs.Retries, 0, 5) ?? 0,
    evidence: getBool(Inputs.Evidence, true),
    recordsDir,
  };
  addOptionalInputs(inputs);
  if (inputs.cache !== 'registry' && inputs.cache !== 'none' && (inputs.cacheFrom.length > 0 || inputs.cacheTo.length > 0)) {
    throw new ActionError(`inputs \`cache-from\`/\`cache-to\` override the cache; they cannot be combined with \`cache: ${inputs.cache}\``);
  }
  return inputs;
}

/** `tests`: "auto", "none" or test target names. */
function testsInput(): BuildInputs['tests'] {
  const testsRaw = getList(Inputs.Tests);
  if (testsRaw.length === 1 && (testsRaw[0] === 'auto' || testsRaw[0] === 'none')) return testsRaw[0];
  if (testsRaw.length === 0) return 'auto';
  for (const t of testsRaw) if (!TARGET_RE.test(t)) throw inputError(Inputs.Tests, t, 'expected "auto", "none" or test target names');
  return testsRaw;
}

/** The build inputs that have no default: set on `inputs` only when given. */
function addOptionalInputs(inputs: BuildInputs): void {
  const registry = core.getInput(Inputs.Registry).trim().replace(/\/+$/, '');
  if (registry) {
    if (!REGISTRY_RE.test(registry)) {
      throw inputError(
        Inputs.Registry,
        registry,
        'expected a registry host with an optional namespace, in lower case, such as "ghcr.io/acme" or "localhost:5000"',
      );
    }
    inputs.registry = registry;
  }
  const keyTag = core.getInput(Inputs.KeyTag).trim();
  if (keyTag) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(keyTag))
      throw inputError(Inputs.KeyTag, keyTag, 'expected an image tag (letters, digits, _ . -, at most 128)');
    inputs.keyTag = keyTag;
  }
  const retention = getInt(Inputs.RetentionDays, 1, 90);
  if (retention !== undefined) inputs.retentionDays = retention;
  const token = core.getInput(Inputs.GithubToken).trim();
  if (token) inputs.githubToken = token;
}

/** Per-run file locations of one target set (everything the evidence artifact holds). */
export interface RunPaths {
  /** Root of this run's evidence; uploaded as is. */
  dir: string;
  metadata: string;
  rawjson: string;
  testMetadata: string;
  testRawjson: string;
  definition: string;
  ociDir(target: string): string;
  testsDir(testTarget: string): string;
}

export function runPaths(dir: string): RunPaths {
  return {
    dir,
    metadata: path.join(dir, 'bake-metadata.json'),
    rawjson: path.join(dir, 'build.rawjson.log'),
    testMetadata: path.join(dir, 'test-metadata.json'),
    testRawjson: path.join(dir, 'test.rawjson.log'),
    definition: path.join(dir, 'bake-definition.json'),
    ociDir: (t) => path.join(dir, 'oci', t),
    testsDir: (t) => path.join(dir, 'tests', t),
  };
}

function fileArgs(files: string[]): string[] {
  return files.flatMap((f) => ['--file', f]);
}

function cacheTo(t: BakeTarget): string[] {
  return (t['cache-to'] ?? []).map((c) =>
    typeof c === 'string'
      ? c
      : Object.entries(c as Record<string, unknown>)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(','),
  );
}

/**
 * Targets that must not export a cache: all of them when the job may not write caches (pull
 * requests, pools without registry credentials); otherwise, on pools whose cache is not the
 * registry, every target the bake file gives a registry export (test and stage targets too).
 */
export function noCacheExport(inputs: Pick<BuildInputs, 'cache' | 'cacheWrite'>, def: BakeDefinition): string[] {
  const names = Object.keys(def.target).sort();
  if (!inputs.cacheWrite) return names;
  if (inputs.cache === 'registry') return [];
  return names.filter((n) => cacheTo(def.target[n]!).some((c) => /(^|,)type=registry(,|$)/.test(c)));
}

/**
 * Cache overrides per image target. `registry` keeps what the bake file sets (per-target
 * per-arch refs) unless cache-from/cache-to are given; `local` writes to a fresh directory
 * that the post step swaps in, so the saved cache does not grow with every run.
 */
export function cacheSets(inputs: BuildInputs, target: string): string[] {
  switch (inputs.cache) {
    case 'registry':
      return [
        ...(inputs.cacheFrom.length ? inputs.cacheFrom.map((c) => `${target}.cache-from=${c}`) : []),
        ...(inputs.cacheTo.length && inputs.cacheWrite ? inputs.cacheTo.map((c) => `${target}.cache-to=${c}`) : []),
      ];
    case 'gha':
      return [`${target}.cache-from=type=gha,scope=${target}`, ...(inputs.cacheWrite ? [`${target}.cache-to=type=gha,scope=${target},mode=max`] : [])];
    case 'local':
      return [
        `${target}.cache-from=type=local,src=${path.join(inputs.cacheDir, target)}`,
        ...(inputs.cacheWrite ? [`${target}.cache-to=type=local,dest=${path.join(inputs.cacheDir + '-new', target)},mode=max`] : []),
      ];
    case 'none':
      return [`${target}.cache-from=`, `${target}.cache-to=`];
  }
}

/**
 * The image build: `buildx bake` of the image targets, from the definition the selection
 * printed (paths.definition), so buildx parses a few targets, not the whole factory.
 */
export function buildArgs(inputs: BuildInputs, targets: string[], paths: RunPaths, def: BakeDefinition): string[] {
  const dropped = noCacheExport(inputs, def);
  const sets: string[] = [];
  for (const t of targets) {
    sets.push(...cacheSets(inputs, t));
    if (inputs.sbom) sets.push(`${t}.attest=type=sbom,generator=${inputs.sbomScanner}`);
    sets.push(`${t}.output=${imageOutput(inputs, paths.ociDir(t))}`);
  }
  // An image target whose cacheSets chose its export keeps it; every other dropped target
  // (shared stages, images with no export of their own) gets an empty cache-to.
  const ownExport = (t: string) => targets.includes(t) && sets.some((s) => s.startsWith(`${t}.cache-to=`));
  for (const t of dropped) if (!ownExport(t)) sets.push(`${t}.cache-to=`);
  sets.push(...inputs.set);
  // bake refuses to write outside the working directory unless told; grant exactly what the
  // action writes: the OCI export in the evidence directory and the local cache directory.
  const writes = [...(!inputs.push && !inputs.load ? [paths.dir] : []), ...(inputs.cache === 'local' && inputs.cacheWrite ? [`${inputs.cacheDir}-new`] : [])];
  const reads = inputs.cache === 'local' ? [inputs.cacheDir] : [];
  return [
    'bake',
    ...fileArgs([paths.definition]),
    '--metadata-file',
    paths.metadata,
    '--progress=rawjson',
    ...reads.flatMap((r) => ['--allow', `fs.read=${r}`]),
    ...writes.flatMap((w) => ['--allow', `fs.write=${w}`]),
    ...sets.flatMap((s) => ['--set', s]),
    ...targets,
  ];
}

/**
 * The image output of a target. Set explicitly rather than with --push/--load: those replace
 * the output with one that has no rewrite-timestamp, and without it layer file times differ
 * from build to build, so the same inputs and SOURCE_DATE_EPOCH would not give the same digest.
 * Without push or load the image is still exported (as an OCI layout) so the SBOM and the size
 * KPIs can be read from it.
 */
export function imageOutput(inputs: Pick<BuildInputs, 'push' | 'load'>, ociDir: string): string {
  if (inputs.push) return 'type=image,push=true,rewrite-timestamp=true,oci-mediatypes=true';
  if (inputs.load) return 'type=docker,rewrite-timestamp=true';
  return `type=oci,dest=${ociDir},tar=false,rewrite-timestamp=true`;
}

/**
 * The test run: test targets export results.json to a directory the action chooses. They take
 * the image targets as build contexts, so those get the same attestation override as in the
 * image build: the same definition is a cache hit, and no default scanner is pulled.
 *
 * Every target the tests pull in (the rest of `def`: the images and the shared stages under them)
 * exports no cache here. The image build has just written their refs; exporting them again
 * from a build that shares its steps with the test targets can leave steps out (BuildKit links
 * a shared step's cache keys to whichever request loaded it first), and that partial export
 * would replace the complete one. `npm run bench:cache-reexport` measures it on the sandbox.
 */
export function testArgs(inputs: BuildInputs, testTargets: string[], paths: RunPaths, imageTargets: string[], def: BakeDefinition): string[] {
  const sbom = inputs.sbom ? imageTargets.map((t) => `${t}.attest=type=sbom,generator=${inputs.sbomScanner}`) : [];
  // `def` holds exactly the test targets and what they pull in (select.ts trims it).
  const pulledIn = Object.keys(def.target).filter((t) => !testTargets.includes(t));
  const dropped = new Set([...pulledIn, ...noCacheExport(inputs, def)]);
  const noExport = [...dropped].sort().map((t) => `${t}.cache-to=`);
  // The generated bake file asks for the device entitlement only for the test targets of pools
  // with a CDI device (the Pool document is the grant); anything else asking for it is refused by bake.
  const devices = testTargets.some((t) => def.target[t]?.entitlements?.includes('device'));
  return [
    'bake',
    ...fileArgs([paths.definition]),
    '--metadata-file',
    paths.testMetadata,
    '--progress=rawjson',
    '--allow',
    `fs.write=${paths.dir}`,
    ...(devices ? ['--allow', 'device'] : []),
    ...sbom.flatMap((s) => ['--set', s]),
    ...noExport.flatMap((s) => ['--set', s]),
    ...testTargets.flatMap((t) => ['--set', `${t}.output=type=local,dest=${paths.testsDir(t)}`]),
    ...testTargets,
  ];
}

/**
 * Environment for buildx: the bake variables the inputs set. SOURCE_DATE_EPOCH defaults to the
 * commit time (`commitTime`), so image timestamps say when the sources changed, not 1970.
 */
export function bakeEnv(inputs: BuildInputs, ctx: RunContext, commitTime?: string): Record<string, string> {
  const env: Record<string, string> = {};
  if (inputs.registry) env.REGISTRY = inputs.registry;
  if (ctx.sha && !process.env.REVISION) env.REVISION = ctx.sha;
  if (ctx.repository && !process.env.SOURCE_URL) env.SOURCE_URL = `${ctx.serverUrl}/${ctx.repository}`;
  if (commitTime && !process.env.SOURCE_DATE_EPOCH) env.SOURCE_DATE_EPOCH = commitTime;
  return { ...env, ...inputs.variables };
}
