// Runs the generated factory workflow under act (nektos/act) in self-hosted mode: every step on
// this machine, against the build sandbox. What act needs here (see ../shared/actions/README.md):
// - the pinned third-party actions mapped to local copies (--local-repository), read from the
//   generated workflow files themselves, so the harness follows whatever `generate` writes;
// - a Node 24 first on PATH (act runs JavaScript actions with it) and in the runner's tool cache
//   (actions/setup-node would download it otherwise);
// - an artifact service: the results-service stand-in of the action tests (Twirp + Azurite),
//   which @actions/artifact 6 runs against unmodified. act's own --artifact-server-path disagrees
//   with that client in three places (mime_type, signature padding, block order); bridging those
//   would mean a rewriting proxy in front of act's server, a fake of a fake.
// - a private DOCKER_CONFIG, so registry logins and buildx builders of a run stay in the run.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import type { PoolSettings } from '../../generators/workflow-pool.js';
import { ROOT } from './harness.js';

export const ACTIONS_DIR = process.env.FACTORY_ACTIONS_DIR ?? join(ROOT, '..', 'shared', 'actions');
/**
 * Stand-ins kept in this repository for actions that cannot run offline at all: only
 * sigstore/cosign-installer (it downloads cosign from GitHub releases; its stand-in puts the
 * machine's cosign of the same release on PATH). Looked up when ACTIONS_DIR has no copy.
 */
export const STAND_IN_ACTIONS_DIR = join(ROOT, 'test', 'e2e', 'actions');

/** `owner/repo@<sha> # <tag>` pins of the workflows under `tree`, mapped to the local copies. */
export function localRepositories(tree: string): string[] {
  const dir = join(tree, '.github', 'workflows');
  const pins = new Map<string, string>();
  for (const f of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/uses:\s*([\w.-]+\/[\w.-]+)@([0-9a-f]{40})\s*#\s*(\S+)/g)) {
      const shared = join(ACTIONS_DIR, `${m[1]}@${m[3]}`);
      const standIn = join(STAND_IN_ACTIONS_DIR, `${m[1]}@${m[3]}`);
      const local = existsSync(join(shared, 'action.yml')) ? shared : standIn;
      if (!existsSync(join(local, 'action.yml'))) {
        throw new Error(`${f} pins ${m[1]}@${m[3]} (${m[2]}), but neither ${shared} nor ${standIn} has an action.yml; see ${join(ACTIONS_DIR, 'README.md')}`);
      }
      pins.set(`${m[1]}@${m[2]}`, local);
    }
  }
  if (pins.size === 0) throw new Error(`no pinned actions found in ${dir}`);
  return [...pins].sort().map(([ref, local]) => `${ref}=${local}`);
}

/**
 * Runner labels of every job of the workflows, each mapped to act's host mode: a job's own
 * `runs-on`, or for a call of the pool workflow the labels of its `pool` input (PoolSettings).
 */
export function hostPlatforms(tree: string): string[] {
  const labels = new Set<string>(['ubuntu-latest']);
  const dir = join(tree, '.github', 'workflows');
  type WorkflowJob = { 'runs-on'?: string | string[]; with?: { pool?: string } };
  for (const f of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
    const jobs = (parse(readFileSync(join(dir, f), 'utf8')) as { jobs?: Record<string, WorkflowJob> }).jobs ?? {};
    for (const job of Object.values(jobs)) {
      const runsOn = job.with?.pool ? (JSON.parse(job.with.pool) as PoolSettings)['runs-on'] : job['runs-on'];
      for (const l of typeof runsOn === 'string' ? [runsOn] : (runsOn ?? [])) if (!l.startsWith('${{')) labels.add(l);
    }
  }
  return [...labels].sort().flatMap((l) => ['-P', `${l}=-self-hosted`]);
}

/** Path of a Node 24 binary (`npx -y node@24`: the npm registry's `node` package). */
export function node24(): string {
  const res = spawnSync('npx', ['-y', 'node@24', '-p', 'process.execPath + " " + process.version'], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`npx -y node@24 failed: ${res.stderr}`);
  const [path, version] = res.stdout.trim().split(' ');
  if (!path || !version?.startsWith('v24.')) throw new Error(`npx -y node@24 printed ${res.stdout}`);
  return `${path} ${version}`;
}

function buildxPlugin(): string {
  for (const d of [
    join(homedir(), '.docker', 'cli-plugins'),
    '/usr/local/lib/docker/cli-plugins',
    '/usr/libexec/docker/cli-plugins',
    '/usr/lib/docker/cli-plugins',
  ]) {
    if (existsSync(join(d, 'docker-buildx'))) return join(d, 'docker-buildx');
  }
  throw new Error('no docker-buildx CLI plugin found; scripts/sandbox.sh up installs one');
}

export interface ActHome {
  dir: string;
  path: string;
  cacheDir: string;
  dockerConfig: string;
}

/**
 * A scratch home for act runs: Node 24 first on PATH and in the tool cache act hands the runner
 * (<action-cache-path>/tool_cache), and a DOCKER_CONFIG carrying only the buildx plugin.
 */
export function actHome(dir: string): ActHome {
  const [node, version] = node24().split(' ') as [string, string];
  const bin = join(dir, 'node24', 'bin');
  const cacheDir = join(dir, 'act-cache');
  const tool = join(cacheDir, 'tool_cache', 'node', version.slice(1), 'x64');
  const dockerConfig = join(dir, 'docker');
  for (const d of [bin, join(tool, 'bin'), join(dockerConfig, 'cli-plugins')]) mkdirSync(d, { recursive: true });
  symlinkSync(node, join(bin, 'node'));
  symlinkSync(node, join(tool, 'bin', 'node'));
  writeFileSync(`${tool}.complete`, '');
  symlinkSync(buildxPlugin(), join(dockerConfig, 'cli-plugins', 'docker-buildx'));
  const gobin = join(process.env.GOPATH ?? join(homedir(), 'go'), 'bin');
  return { dir, path: [bin, gobin, process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'].join(':'), cacheDir, dockerConfig };
}

export interface ActJob {
  name: string;
  result: 'succeeded' | 'failed';
  seconds: number;
}

export interface ActRun {
  code: number;
  seconds: number;
  jobs: ActJob[];
  /** Lines the steps wrote to the job summary ($GITHUB_STEP_SUMMARY), as act echoes them. */
  summaries: string[];
  logFile: string;
}

export interface ActOptions {
  home: ActHome;
  tree: string;
  event: string;
  payload: unknown;
  vars: Record<string, string>;
  secrets: Record<string, string>;
  /** Environment of the runner: the stand-in artifact service's URL and token, and so on. */
  env: Record<string, string>;
  logFile: string;
}

/** One `act <event>` in `tree`; job results and wall times from its log, never throws on exit codes. */
export async function runAct(o: ActOptions): Promise<ActRun> {
  const eventFile = `${o.logFile}.event.json`;
  writeFileSync(eventFile, JSON.stringify(o.payload, null, 2));
  const args = [
    o.event,
    '-e',
    eventFile,
    '-W',
    join('.github', 'workflows', 'factory.yml'),
    ...hostPlatforms(o.tree),
    '--action-cache-path',
    o.home.cacheDir,
    '--action-offline-mode',
    // One job at a time: in self-hosted mode every job shares this machine and DOCKER_CONFIG, and
    // two legs' Post Set up Buildx steps cleaning buildx/certs at once made one fail (ENOENT) now
    // and then. On GitHub each job has its own runner; the order of jobs is still the workflow's.
    '--concurrent-jobs',
    '1',
    ...localRepositories(o.tree).flatMap((r) => ['--local-repository', r]),
    ...Object.entries(o.vars).flatMap(([k, v]) => ['--var', `${k}=${v}`]),
    ...Object.entries(o.secrets).flatMap(([k, v]) => ['-s', `${k}=${v}`]),
    '--actor',
    'factory-bot',
  ];
  // act merges its own environment into every step's: keep it to what a runner has.
  const env: NodeJS.ProcessEnv = {
    HOME: homedir(),
    PATH: o.home.path,
    DOCKER_CONFIG: o.home.dockerConfig,
    LANG: 'C.UTF-8',
    ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
    ...o.env,
  };
  mkdirSync(dirname(o.logFile), { recursive: true });
  writeFileSync(`${o.logFile}.command.txt`, `cd ${o.tree}\nact ${args.map((a) => JSON.stringify(a)).join(' ')}\n`);
  const log = createWriteStream(o.logFile);
  const started = Date.now();
  const seen = new Map<string, { first: number; last: number; result?: ActJob['result'] }>();
  const summaries: string[] = [];
  let pending = '';
  const onLine = (line: string) => {
    const now = Date.now();
    log.write(`${((now - started) / 1000).toFixed(1).padStart(6)} ${line}\n`);
    // `[workflow/job]`, or `[caller job/called workflow/job]` for a reusable workflow's job.
    const m = /^\[(?:[^\]]*\/)?([^/\]]+?)\s*\]\s(.*)$/.exec(line);
    if (!m) return;
    const job = seen.get(m[1]!) ?? { first: now, last: now };
    job.last = now;
    const done = /🏁\s+Job (succeeded|failed)/.exec(m[2]!);
    if (done) job.result = done[1] as ActJob['result'];
    const summary = /⚙\s+Summary - (.*)$/.exec(m[2]!);
    if (summary) summaries.push(summary[1]!);
    seen.set(m[1]!, job);
  };
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('act', args, { cwd: o.tree, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const feed = (b: Buffer) => {
      pending += b.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    child.once('error', (e) => reject(new Error(`cannot run act (scripts/test-env.sh installs it): ${e.message}`)));
    child.once('close', (c) => resolve(c ?? 1));
  });
  if (pending) onLine(pending);
  await new Promise<void>((resolve) => log.end(resolve));
  const jobs = [...seen]
    .filter(([, j]) => j.result)
    .map(([name, j]) => ({ name, result: j.result!, seconds: Math.round((j.last - j.first) / 100) / 10 }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { code, seconds: Math.round((Date.now() - started) / 100) / 10, jobs, summaries, logFile: o.logFile };
}
