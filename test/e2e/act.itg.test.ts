// End-to-end: the GENERATED .github/workflows/factory.yml run whole under act (self-hosted mode)
// on the build sandbox, as GitHub would run it for a small factory (the sample's `tools`
// product only: busybox, linux/amd64 natively and one linux/arm64 leg under QEMU). Each event
// runs in a clone whose `origin` is a local bare repository; images go under a registry
// namespace of this run only, so other runs' pushes cannot disturb the assertions.
//   push              after a fragment bump: plan -> build per pool -> merge -> records in one
//                     commit to origin -> summary
//   pull_request      checks only: nothing in the registry (no image, no cache ref), nothing committed
//   workflow_dispatch push=false (forced, amd64 only): builds, nothing pushed, nothing recorded
//   workflow_dispatch push=true, amd64 only, promote: rebuilds amd64, the list keeps the existing
//                     arm64 image, the promoted tag is published, that one record is committed
//   workflow_dispatch push=true on a platform of an unbuilt release: the plan refuses, saying how
//   schedule          the base watch: the busybox tag moved upstream, so the watch pushes a branch
//                     with the new pin, the plan of that commit rebuilds exactly the targets on
//                     busybox, they are published and recorded with the time the watch saw the
//                     digest (time to patch, measured); gc runs (and a dry run on the pull request)
// Signing: act has no OIDC, so the run signs the way a factory without OIDC does, with a cosign
// key pair (generated here) in the FACTORY_COSIGN_KEY secret, its public half in the
// FACTORY_COSIGN_PUBLIC_KEY variable, and no transparency log (FACTORY_COSIGN_TLOG=false): legs
// sign their bk-<key> images, the merge verifies them and signs the lists, the plan reuses only
// what verifies. cosign-installer is the one stand-in (test/e2e/actions: it cannot download).
// What act cannot stand for (the pull request comment API, OIDC, hosted runner images) is in
// docs/testing.md; the pull request comes from a fork, so the comment job is skipped as GitHub
// skips it for forks.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecord } from '../../src/core/record.js';
import { computeKpis } from '../../src/obs/kpi.js';
import { RegistryClient } from '../../src/registry/client.js';
import { git } from '../plan/repo.js';
import { startResultsService, type ResultsService } from '../action/results-service.js';
import { actHome, runAct, type ActHome, type ActRun } from './act-harness.js';
import { buildxCommand, copyFactory, factory, releaseFragment, report, ROOT, run, sandboxUp, type SandboxEnv } from './harness.js';

const runId = Date.now().toString(36);
const logDir = join(ROOT, '.factory', 'e2e', `act-${runId}`);
const registry = new RegistryClient();
const PRODUCT = 'tools';
const OWNER = 'acme';
const REPO = `${OWNER}/factory`;

let env: SandboxEnv;
let svc: ResultsService;
let home: ActHome;
let scratch: string;
let work: string;
let origin: string;
let namespace: string;
const COSIGN_PASSWORD = 'act-test-key-password';
const GOBIN = join(execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim(), 'bin');
let keys: { private: string; public: string; dir: string };
/** The busybox Base's tag, a copy of the sandbox's in this run's namespace: the test moves it. */
let busyboxTag: string;
const timings: (string | number)[][] = [['event', 'job', 'result', 'wall s']];

beforeAll(async () => {
  mkdirSync(logDir, { recursive: true });
  env = await sandboxUp(logDir);
  svc = await startResultsService();
  scratch = mkdtempSync(join(tmpdir(), 'factory-act-'));
  home = actHome(join(scratch, 'home'));
  namespace = `act-${runId}`;
  origin = join(scratch, 'origin.git');
  const keyDir = join(scratch, 'keys');
  mkdirSync(keyDir);
  execFileSync(join(GOBIN, 'cosign'), ['generate-key-pair'], { cwd: keyDir, env: { ...process.env, COSIGN_PASSWORD }, stdio: 'pipe' });
  keys = { private: readFileSync(join(keyDir, 'cosign.key'), 'utf8'), public: readFileSync(join(keyDir, 'cosign.pub'), 'utf8'), dir: keyDir };
  work = join(scratch, 'work');
  git(scratch, 'init', '-q', '--bare', '-b', 'main', origin);
  // The small factory: the sample with one product left.
  await copyFactory(work);
  for (const f of readdirSync(join(work, 'manifests'))) {
    if (/^(python-runtime|llm-runtime|llm-runtime-cuda)\.yaml$/.test(f)) rmSync(join(work, 'manifests', f));
  }
  writeFileSync(join(work, 'manifests', 'policy.yaml'), policy(env));
  // The Bases point at the sandbox registry and are pinned in the lock (the base watch reads
  // them); busybox at a tag of this run's own, so moving it disturbs nobody else.
  busyboxTag = `${env.REGISTRY}/${namespace}/base/busybox:stable`;
  await imagetools(['-t', busyboxTag, env.BASE_BUSYBOX], 'copy-busybox');
  const bases = join(work, 'manifests', 'bases.yaml');
  writeFileSync(
    bases,
    readFileSync(bases, 'utf8')
      .replace(/image: docker\.io\/library\/debian:\S+/, `image: ${env.BASE_DEBIAN.split('@')[0]}`)
      .replace(/image: docker\.io\/library\/busybox:\S+/, `image: ${busyboxTag}`)
      .replace(/image: docker\.io\/nvidia\/cuda:\S+/, `image: ${env.BASE_CUDA.split('@')[0]}`),
  );
  await factory(work, ['lock', '--resolve-bases'], join(logDir, 'lock-bases.log'));
  await factory(work, ['generate'], join(logDir, 'generate-base.log'));
  git(work, 'init', '-q', '-b', 'main');
  commit('base: the tools product only');
  git(work, 'remote', 'add', 'origin', origin);
  git(work, 'push', '-q', 'origin', 'main');
}, 10 * 60_000);

afterAll(async () => {
  if (timings.length > 1) report(logDir, 'act-timings.txt', `act end to end (logs: ${logDir})`, timings);
  await svc?.stop();
  if (scratch && !process.env.FACTORY_E2E_KEEP) rmSync(scratch, { recursive: true, force: true });
});

async function imagetools(args: string[], name: string): Promise<void> {
  const { cmd, pre } = buildxCommand();
  const r = await run(cmd, [...pre, 'imagetools', 'create', ...args], { logFile: join(logDir, `${name}.log`) });
  if (r.code !== 0) throw new Error(`buildx imagetools create ${args.join(' ')} failed: ${r.stderr}`);
}

/**
 * The Policy a user of a mirror-only builder writes: the SBOM scanner from the sandbox registry
 * (plain HTTP), no GitHub Pages (act has no Pages service to deploy to), and a base watch that
 * pushes its branch only (act has no pull request API). The busybox base comes from its lock
 * pin, which the base watch moves.
 */
function policy(e: SandboxEnv): string {
  return [
    'kind: Policy',
    'name: factory',
    'site:',
    '  pages: false',
    'baseWatch:',
    '  mode: branch',
    'bake:',
    '  variables:',
    `    BASE_DEBIAN: "${e.BASE_DEBIAN}"`,
    'sbom:',
    `  scanner: "${e.SBOM_SCANNER}"`,
    'registry:',
    '  insecure: true',
    '',
  ].join('\n');
}

function commit(message: string): string {
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', message);
  return git(work, 'rev-parse', 'HEAD');
}

function bump(fragment: string): string {
  // A content change (a comment line in the fragment's Dockerfile) released as a new version.
  const { to } = releaseFragment(work, fragment, (dir) => {
    appendFileSync(join(dir, 'Dockerfile.ejs'), `\n# ${runId}: ${fragment} bumped by the act test\n`);
  });
  return to;
}

const repository = { full_name: REPO, name: 'factory', owner: { login: OWNER, name: OWNER }, default_branch: 'main' };

/** One workflow run; the stand-in service keeps its artifacts under the run's backend id. */
async function act(event: string, payload: unknown, name: string, run: string): Promise<ActRun> {
  const r = await runAct({
    home,
    tree: work,
    event,
    payload,
    vars: {
      FACTORY_REGISTRY: `${env.REGISTRY}/${namespace}`,
      FACTORY_BUILDX_DRIVER: 'remote',
      FACTORY_BUILDX_ENDPOINT: env.BUILDKIT_HOST,
      FACTORY_COSIGN_PUBLIC_KEY: keys.public,
      FACTORY_COSIGN_TLOG: 'false',
    },
    secrets: { GITHUB_TOKEN: 'act-test-token', FACTORY_COSIGN_KEY: keys.private, FACTORY_COSIGN_PASSWORD: COSIGN_PASSWORD },
    env: {
      ACTIONS_RUNTIME_URL: svc.url,
      ACTIONS_RESULTS_URL: svc.url,
      ACTIONS_RUNTIME_TOKEN: svc.token(run, '1'),
      GITHUB_RUN_ID: run,
      // The plan job's `npm ci` uses the machine's npm cache first, as a warm runner cache would.
      npm_config_prefer_offline: 'true',
    },
    logFile: join(logDir, `${name}.log`),
  });
  for (const j of r.jobs) timings.push([name, j.name, j.result, j.seconds]);
  timings.push([name, '(whole run)', r.code === 0 ? 'ok' : `exit ${r.code}`, r.seconds]);
  return r;
}

/** `cosign verify` of one image by digest with the run's public key, as a consumer would. */
function cosignVerify(ref: string): { ok: boolean; out: string } {
  const r = spawnSync(join(GOBIN, 'cosign'), ['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', '--allow-http-registry', ref], {
    cwd: keys.dir,
    encoding: 'utf8',
  });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

function jobResults(r: ActRun): Record<string, string> {
  return Object.fromEntries(r.jobs.map((j) => [j.name, j.result]));
}

/** Every repository of the run's namespace with its tags and what each tag points at. */
async function registryState(): Promise<Record<string, Record<string, string>>> {
  // The catalog is sorted and paged (at most 1000 a page): start right before the namespace.
  const repositories: string[] = [];
  for (let last = namespace; ;) {
    const res = await fetch(`http://${env.REGISTRY}/v2/_catalog?n=1000&last=${encodeURIComponent(last)}`);
    const page = ((await res.json()) as { repositories?: string[] }).repositories ?? [];
    repositories.push(...page.filter((r) => r.startsWith(`${namespace}/`)));
    if (page.length < 1000 || !page[page.length - 1]!.startsWith(namespace)) break;
    last = page[page.length - 1]!;
  }
  const out: Record<string, Record<string, string>> = {};
  for (const repo of repositories.sort()) {
    out[repo] = {};
    for (const tag of (await registry.listTags(`${env.REGISTRY}/${repo}:latest`)).sort()) {
      out[repo][tag] = (await registry.resolve(`${env.REGISTRY}/${repo}:${tag}`)).digest;
    }
  }
  return out;
}

function artifactNames(run: string): string[] {
  return svc.artifacts
    .filter((a) => a.runBackendId === run && a.finalized)
    .map((a) => a.name)
    .sort();
}

/** Downloads one artifact of a run with the real client, as a later job would. */
async function download(run: string, name: string): Promise<string> {
  const saved = { url: process.env.ACTIONS_RESULTS_URL, token: process.env.ACTIONS_RUNTIME_TOKEN };
  process.env.ACTIONS_RESULTS_URL = svc.url;
  process.env.ACTIONS_RUNTIME_TOKEN = svc.token(run, 'test');
  try {
    const client = new DefaultArtifactClient();
    const { artifact } = await client.getArtifact(name);
    const dir = join(scratch, 'downloads', run, name);
    await client.downloadArtifact(artifact.id, { path: dir });
    return dir;
  } finally {
    process.env.ACTIONS_RESULTS_URL = saved.url;
    process.env.ACTIONS_RUNTIME_TOKEN = saved.token;
  }
}

function originLog(): string[] {
  return git(origin, 'log', '--format=%H %s', 'main').split('\n');
}

describe('the generated workflow under act', () => {
  let pushed: { before: string; after: string };

  it('push to main after a fragment bump: builds per pool, merges both platforms, commits the records once', async () => {
    const before = git(work, 'rev-parse', 'HEAD');
    bump('toolbox');
    await factory(work, ['generate'], join(logDir, 'generate-push.log'));
    const after = commit('toolbox: a new patch release');
    git(work, 'push', '-q', 'origin', 'main');
    pushed = { before, after };

    const r = await act('push', { ref: 'refs/heads/main', before, after, repository, pusher: { name: OWNER } }, 'push', '101');
    expect(r.code, `act push failed; log: ${r.logFile}`).toBe(0);
    const jobs = jobResults(r);
    expect(jobs).toMatchObject({
      plan: 'succeeded',
      [`build ${PRODUCT}-default-amd64`]: 'succeeded',
      [`build ${PRODUCT}-default-arm64`]: 'succeeded',
      summary: 'succeeded',
      record: 'succeeded',
    });
    expect(
      Object.keys(jobs).some((j) => j.startsWith('merge')),
      'a merge job ran',
    ).toBe(true);
    expect(
      Object.keys(jobs).some((j) => j.startsWith('check')),
      'no pull request check ran on a push',
    ).toBe(false);

    // Registry: the merged list under the version tags, one image per platform with its SBOM.
    const image = `${env.REGISTRY}/${namespace}/factory/${PRODUCT}`;
    const list = await registry.inspect(`${image}:1.0.1`);
    expect(list.images.map((i) => i.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    expect((await registry.resolve(`${image}:1`)).digest).toBe(list.digest);
    for (const img of list.images) {
      expect(list.attestations[img.digest], `SBOM attestation of ${img.platform}`).toBeDefined();
      // The bake variables reached the build: the busybox base is the sandbox's.
      expect(img.config.architecture).toBe(img.platform.split('/')[1]);
    }
    const state = await registryState();
    const tags = Object.keys(state[`${namespace}/factory/${PRODUCT}`] ?? {});
    expect(tags.filter((t) => t.startsWith('bk-'))).toHaveLength(2);
    // Signed: the list (by the merge job) and each bk-<key> image (by its leg), by digest.
    for (const digest of [list.digest, ...tags.filter((t) => t.startsWith('bk-')).map((t) => state[`${namespace}/factory/${PRODUCT}`]![t]!)]) {
      const v = cosignVerify(`${image}@${digest}`);
      expect(v.ok, `cosign verify ${image}@${digest}: ${v.out}`).toBe(true);
    }
    expect(Object.keys(state[`${namespace}/cache`] ?? {}).sort()).toEqual(expect.arrayContaining([`${PRODUCT}-default-amd64`, `${PRODUCT}-default-arm64`]));

    // Artifacts: the plan, one result, evidence and record per leg, the summary.
    const names = artifactNames('101');
    for (const arch of ['amd64', 'arm64']) {
      const t = `${PRODUCT}-default-${arch}`;
      expect(names).toContain(`factory-result-${t}`);
      expect(names).toContain(`evidence-${t}-linux-${arch}-attempt1`);
      expect(names).toContain(`record-${t}-linux-${arch}-attempt1`);
    }
    expect(names).toEqual(expect.arrayContaining(['factory-plan', 'factory-summary']));

    // Origin: exactly one commit on top of the push, holding exactly the two records.
    const log = originLog();
    expect(log[1]).toBe(`${after} toolbox: a new patch release`);
    const recordsCommit = log[0]!.split(' ')[0]!;
    expect(git(origin, 'rev-parse', `${recordsCommit}^`)).toBe(after);
    const changed = git(origin, 'diff-tree', '--no-commit-id', '--name-only', '-r', recordsCommit).split('\n').sort();
    const files = changed.filter((f) => !f.startsWith('records/history/'));
    expect(files).toEqual([`records/${PRODUCT}/1.0.1/${PRODUCT}-default-amd64.json`, `records/${PRODUCT}/1.0.1/${PRODUCT}-default-arm64.json`]);
    // ... and the month's history file with one line per leg.
    const history = changed.filter((f) => f.startsWith('records/history/'));
    expect(history).toHaveLength(1);
    const lines = git(origin, 'show', `${recordsCommit}:${history[0]!}`).split('\n').filter(Boolean);
    expect(lines.map((l) => (JSON.parse(l) as { target: string }).target).sort()).toEqual([`${PRODUCT}-default-amd64`, `${PRODUCT}-default-arm64`]);
    for (const f of files) {
      const rec = parseRecord(git(origin, 'show', `${recordsCommit}:${f}`), f);
      const arch = f.includes('amd64') ? 'amd64' : 'arm64';
      expect(rec.image.pushed).toBe(true);
      // The record names what the leg pushed (its image index, SBOM included); the list holds its image.
      const legImage = await registry.inspect(`${image}@${rec.image.digest!}`);
      expect(legImage.images.map((i) => i.digest)).toEqual([list.images.find((i) => i.platform === `linux/${arch}`)!.digest]);
    }

    // The job summary: the merge says what it published; the summary artifact has one row per leg.
    expect(r.summaries.some((s) => s.includes(`published ${image}: 1.0.1 1 from 2 platform image(s)`))).toBe(true);
    const summary = readFileSync(join(await download('101', 'factory-summary'), 'summary.md'), 'utf8');
    expect(summary).toMatch(new RegExp(`\\| \`${PRODUCT}-default-amd64\` \\| \`amd64\` \\| build \\| passed \\|`));
    expect(summary).toMatch(new RegExp(`\\| \`${PRODUCT}-default-arm64\` \\| \`arm64\` \\| build \\| passed \\|`));
    git(work, 'pull', '-q', '--ff-only', 'origin', 'main');
  });

  it('pull_request: checks both platforms and writes nothing: no image, no cache ref, no commit', async () => {
    expect(pushed, 'runs after the push test').toBeDefined();
    const base = git(work, 'rev-parse', 'HEAD');
    git(work, 'checkout', '-q', '-b', 'feature');
    bump('toolbox');
    await factory(work, ['generate'], join(logDir, 'generate-pr.log'));
    const head = commit('toolbox: another patch release, on a branch');
    const registryBefore = await registryState();
    const refsBefore = git(origin, 'for-each-ref');

    const pr = {
      number: 7,
      base: { ref: 'main', sha: base, repo: repository },
      // From a fork: GitHub skips the comment job then, and act has no pull request API to comment through.
      head: { ref: 'feature', sha: head, repo: { ...repository, full_name: `contributor/factory` } },
    };
    const r = await act('pull_request', { action: 'synchronize', number: 7, pull_request: pr, repository }, 'pull_request', '102');
    expect(r.code, `act pull_request failed; log: ${r.logFile}`).toBe(0);
    expect(jobResults(r)).toMatchObject({
      plan: 'succeeded',
      [`check ${PRODUCT}-default-amd64`]: 'succeeded',
      [`check ${PRODUCT}-default-arm64`]: 'succeeded',
      summary: 'succeeded',
    });
    for (const j of Object.keys(jobResults(r))) expect(j, 'no build, merge or record job on a pull request').not.toMatch(/^(build|merge|record)\b/);
    expect(await registryState()).toEqual(registryBefore);
    expect(git(origin, 'for-each-ref')).toBe(refsBefore);
    const results = artifactNames('102').filter((n) => n.startsWith('factory-result-'));
    expect(results).toEqual([`factory-result-${PRODUCT}-default-amd64`, `factory-result-${PRODUCT}-default-arm64`]);
    const dir = await download('102', `factory-result-${PRODUCT}-default-arm64`);
    const result = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8')) as { result: string };
    expect(result.result).toBe('passed');
    git(work, 'checkout', '-q', 'main');
  });

  it('workflow_dispatch with push=false: builds what was asked, pushes and records nothing', async () => {
    expect(pushed, 'runs after the push test').toBeDefined();
    const registryBefore = await registryState();
    const refsBefore = git(origin, 'for-each-ref');
    // As GitHub sends them: in the event payload every input is a string; the `inputs` context types them.
    // force: the version's images exist (the push test built them); build it again, without pushing.
    const inputs = { product: `${PRODUCT}@1.0.1`, platforms: 'linux/amd64', push: 'false', promote: '', force: 'true' };
    const r = await act('workflow_dispatch', { ref: 'refs/heads/main', inputs, repository }, 'workflow_dispatch', '103');
    expect(r.code, `act workflow_dispatch failed; log: ${r.logFile}`).toBe(0);
    const jobs = jobResults(r);
    expect(jobs).toMatchObject({ plan: 'succeeded', [`build ${PRODUCT}-default-amd64`]: 'succeeded', summary: 'succeeded' });
    expect(Object.keys(jobs)).not.toContain(`build ${PRODUCT}-default-arm64`);
    expect(
      Object.keys(jobs).filter((j) => /^(merge|record)\b/.test(j)),
      'no merge or record without push',
    ).toEqual([]);
    expect(await registryState()).toEqual(registryBefore);
    expect(git(origin, 'for-each-ref')).toBe(refsBefore);
  });
  it('workflow_dispatch of one product on one platform with push and promote: rebuilds it, publishes a whole list, records that leg', async () => {
    expect(pushed, 'runs after the push test').toBeDefined();
    const image = `${env.REGISTRY}/${namespace}/factory/${PRODUCT}`;
    const arm64Before = (await registry.inspect(`${image}:1.0.1`)).images.find((i) => i.platform === 'linux/arm64')!.digest;
    const head = originLog()[0]!.split(' ')[0]!;
    const started = Date.now();
    // The arm64 image of 1.0.1 exists under its build key (the push test): the list stays whole.
    const inputs = { product: `${PRODUCT}@1.0.1`, platforms: 'linux/amd64', push: 'true', promote: 'stable', force: 'true' };
    const r = await act('workflow_dispatch', { ref: 'refs/heads/main', inputs, repository }, 'dispatch-push', '104');
    expect(r.code, `act workflow_dispatch failed; log: ${r.logFile}`).toBe(0);
    const jobs = jobResults(r);
    expect(jobs).toMatchObject({ plan: 'succeeded', [`build ${PRODUCT}-default-amd64`]: 'succeeded', record: 'succeeded', summary: 'succeeded' });
    expect(Object.keys(jobs)).not.toContain(`build ${PRODUCT}-default-arm64`);
    expect(
      Object.keys(jobs).some((j) => j.startsWith('merge')),
      'a merge job ran',
    ).toBe(true);
    const list = await registry.inspect(`${image}:stable`);
    expect(list.images.map((i) => i.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(list.images.find((i) => i.platform === 'linux/arm64')!.digest, 'the existing arm64 image, not rebuilt').toBe(arm64Before);
    expect((await registry.resolve(`${image}:1.0.1`)).digest).toBe(list.digest);
    // One records commit holding the amd64 record only (and its history line).
    const log = originLog();
    expect(log[1]!.split(' ')[0]).toBe(head);
    const recordsCommit = log[0]!.split(' ')[0]!;
    const changed = git(origin, 'diff-tree', '--no-commit-id', '--name-only', '-r', recordsCommit).split('\n');
    expect(changed.filter((f) => !f.startsWith('records/history/'))).toEqual([`records/${PRODUCT}/1.0.1/${PRODUCT}-default-amd64.json`]);
    // act numbers every run 1: the new record is told apart by its time.
    const rec = parseRecord(git(origin, 'show', `${recordsCommit}:records/${PRODUCT}/1.0.1/${PRODUCT}-default-amd64.json`), 'amd64');
    expect(Date.parse(rec.finishedAt)).toBeGreaterThan(started);
    git(work, 'pull', '-q', '--ff-only', 'origin', 'main');
  });

  it('workflow_dispatch with push on a platform whose image is missing: the plan refuses and says what to do, nothing is built', async () => {
    expect(pushed, 'runs after the push test').toBeDefined();
    // A fragment release on main that nobody built yet (new build keys): a one-platform push would
    // publish half a list.
    bump('toolbox');
    await factory(work, ['generate'], join(logDir, 'generate-refuse.log'));
    commit('toolbox: a fragment release not built yet');
    git(work, 'push', '-q', 'origin', 'main');
    const registryBefore = await registryState();
    const inputs = { product: `${PRODUCT}@1.0.1`, platforms: 'linux/arm64', push: 'true', promote: '', force: 'false' };
    const r = await act('workflow_dispatch', { ref: 'refs/heads/main', inputs, repository }, 'dispatch-refused', '105');
    expect(r.code).not.toBe(0);
    expect(jobResults(r)).toMatchObject({ plan: 'failed' });
    expect(Object.keys(jobResults(r)).filter((j) => /^(build|merge|record)\b/.test(j))).toEqual([]);
    const log = readFileSync(r.logFile, 'utf8');
    expect(log).toMatch(/--platforms linux\/arm64 with push would publish incomplete manifest lists: .*also needs linux\/amd64/);
    expect(log).toMatch(/Dispatch again with platforms empty \(every platform\) or adding linux\/amd64, or with push off/);
    expect(await registryState()).toEqual(registryBefore);
  });

  it('schedule: the base watch moves the pin of a moved tag, rebuilds exactly its targets, publishes and records the time to patch', async () => {
    expect(pushed, 'runs after the push test').toBeDefined();
    const head = git(work, 'rev-parse', 'HEAD');
    const pinned = (JSON.parse(readFileSync(join(work, 'factory.lock.json'), 'utf8')) as Lock).bases.busybox!.digest;
    // Upstream republishes the tag (a security rebuild): same platforms, a new index digest.
    await imagetools(['--annotation', `index:org.opencontainers.image.description=patched ${runId}`, '-t', busyboxTag, env.BASE_BUSYBOX], 'move-busybox');
    const moved = (await registry.resolve(busyboxTag)).digest;
    expect(moved).not.toBe(pinned);
    const started = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();

    const r = await act('schedule', { schedule: '23 4 * * *', repository }, 'schedule', '106');
    expect(r.code, `act schedule failed; log: ${r.logFile}`).toBe(0);
    expect(jobResults(r)).toMatchObject({
      'base watch': 'succeeded',
      plan: 'succeeded',
      [`build ${PRODUCT}-default-amd64`]: 'succeeded',
      [`build ${PRODUCT}-default-arm64`]: 'succeeded',
      record: 'succeeded',
      gc: 'succeeded',
      summary: 'succeeded',
    });
    // The watch branch: one commit on main's head with the new pin and when it was first seen.
    const branch = git(origin, 'rev-parse', 'refs/heads/factory/base-watch');
    expect(git(origin, 'rev-parse', `${branch}^`)).toBe(head);
    const pin = (JSON.parse(git(origin, 'show', `${branch}:factory.lock.json`)) as Lock).bases.busybox!;
    expect(pin.digest).toBe(moved);
    expect(pin.seen! >= started).toBe(true);
    expect(git(origin, 'show', '-s', '--format=%s', branch)).toBe('base watch: new pins for busybox');
    // The plan of that commit: exactly the targets on busybox, for the base pin.
    const plan = JSON.parse(readFileSync(join(await download('106', 'factory-plan'), 'plan.json'), 'utf8')) as {
      affected: { target: string; reasons: { kind: string }[] }[];
    };
    expect(plan.affected.map((a) => a.target).sort()).toEqual([`${PRODUCT}-default-amd64`, `${PRODUCT}-default-arm64`]);
    for (const a of plan.affected) expect(a.reasons.map((x) => x.kind)).toContain('base');
    // Published from the new base, and recorded on main with the watch's sighting.
    const image = `${env.REGISTRY}/${namespace}/factory/${PRODUCT}`;
    expect((await registry.inspect(`${image}:1.0.1`)).images.map((i) => i.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    const log = originLog();
    expect(log[1]!.split(' ')[0]).toBe(head);
    const recordsCommit = log[0]!.split(' ')[0]!;
    const changed = git(origin, 'diff-tree', '--no-commit-id', '--name-only', '-r', recordsCommit).split('\n');
    const files = changed.filter((f) => !f.startsWith('records/history/')).sort();
    expect(files).toEqual([`records/${PRODUCT}/1.0.1/${PRODUCT}-default-amd64.json`, `records/${PRODUCT}/1.0.1/${PRODUCT}-default-arm64.json`]);
    for (const f of files) {
      const rec = parseRecord(git(origin, 'show', `${recordsCommit}:${f}`), f);
      expect(rec.base).toMatchObject({ digest: moved, seenAt: pin.seen });
    }
    // Time to patch, measured: from the watch's sighting to the rebuilt image pushed, computed by
    // the KPI code from this record and the previous one of the target (the dispatch's, on the old
    // pin). From the records commits, not the history: act numbers every run 1, so the history
    // (one line per target and run) keeps one of them.
    const file = `records/${PRODUCT}/1.0.1/${PRODUCT}-default-amd64.json`;
    const previous = git(origin, 'rev-list', '-n', '1', `${recordsCommit}^`, '--', file);
    const records = [previous, recordsCommit].map((c) => parseRecord(git(origin, 'show', `${c}:${file}`), file));
    expect(records[0]!.base.digest).toBe(pinned);
    // (The toolbox release on main since then is a patch of its own, estimated from the first record.)
    const patch = computeKpis(records, [], { poolOf: () => 'amd64' }).timeToPatch.find((t) => t.to === moved);
    expect(patch).toMatchObject({ product: `${PRODUCT}@1.0.1`, from: pinned, to: moved, firstSeenAt: pin.seen, measured: true });
    console.log(`time to patch (act, measured): ${(patch!.hours * 60).toFixed(1)} min`);
  });
});

interface Lock {
  bases: Record<string, { image: string; digest: string; seen?: string }>;
}
