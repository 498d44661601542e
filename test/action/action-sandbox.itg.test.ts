// The bundled action (dist/index.js) run as a runner runs it: INPUT_*/GITHUB_* env, GITHUB_OUTPUT
// and GITHUB_STEP_SUMMARY files, the real BuildKit sandbox (scripts/sandbox.sh), the locally
// built SBOM scanner, and the results-service stand-in with Azurite for the artifacts.
// Needs the sandbox: `sudo scripts/sandbox.sh up`. Fails (does not skip) when it is down.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadByPrefix } from '../../src/action/artifact.js';
import { parseRecord } from '../../src/core/record.js';
import { startResultsService, type ResultsService } from './results-service.js';
import { sandboxVars } from '../sandbox-env.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-action-itg-'));
let sandbox: Record<string, string> = {};
let scanner = '';
let svc: ResultsService;

beforeAll(async () => {
  try {
    execFileSync(path.join(repo, 'scripts/sandbox.sh'), ['status'], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(
      `the BuildKit sandbox is not up; start it with \`scripts/sandbox.sh up\` (as root):\n${(e as { stdout?: Buffer }).stdout?.toString() ?? ''}`,
    );
  }
  sandbox = sandboxVars();
  // Builds and pushes the scanner image when it is missing (minutes the first time).
  scanner = execFileSync(path.join(repo, 'scripts/sandbox-scanner.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  svc = await startResultsService();
}, 900_000);
afterAll(async () => {
  await svc?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  log: string;
  outputs: Record<string, string>;
  summary: string;
  temp: string;
}

/** Runs dist/index.js with a runner's environment; asynchronous because the artifact service lives in this process. */
function runAction(name: string, workspace: string, inputs: Record<string, string>, extraEnv: Record<string, string> = {}): Promise<Run> {
  const dir = path.join(root, name);
  const temp = path.join(dir, 'runner-temp');
  fs.mkdirSync(temp, { recursive: true });
  const files = { out: path.join(dir, 'output'), summary: path.join(dir, 'summary.md') };
  fs.writeFileSync(files.out, '');
  fs.writeFileSync(files.summary, '');
  const env: Record<string, string> = {
    // The bake variables the workflow sets from the sandbox: REGISTRY, BASE_*, SOURCE_DATE_EPOCH.
    ...sandbox,
    PATH: `${path.dirname(process.execPath)}:/usr/local/lib/factory-sandbox/bin:${process.env.PATH}`,
    HOME: os.homedir(),
    BUILDX_BUILDER: sandbox.BUILDX_BUILDER!,
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'acme/factory',
    GITHUB_RUN_ID: '900',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_OUTPUT: files.out,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_TEMP: temp,
    ACTIONS_RESULTS_URL: svc.url,
    ACTIONS_RUNTIME_TOKEN: svc.token(`run-${name}`, 'job'),
    ...extraEnv,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repo, 'dist/index.js')], { env, cwd: workspace });
    let log = '';
    child.stdout.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr.on('data', (b: Buffer) => (log += b.toString()));
    child.on('close', (status) => {
      const outputs: Record<string, string> = {};
      // GITHUB_OUTPUT heredoc format: name<<DELIM / value / DELIM
      const text = fs.readFileSync(files.out, 'utf8');
      for (const m of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1]!] = m[3]!;
      resolve({ status, log, outputs, summary: fs.readFileSync(files.summary, 'utf8'), temp });
    });
  });
}

describe('build mode on the sandbox', () => {
  it('builds, tests and pushes tools-default-amd64: outputs, summary, record, SBOM and evidence', async () => {
    const r = await runAction('pass', repo, {
      target: 'tools-default-amd64',
      push: 'true',
      'sbom-scanner': scanner,
      'records-dir': '.factory/itg-records',
      'retention-days': '1',
    });
    expect(r.log, r.log).not.toContain('::error');
    expect(r.status).toBe(0);
    expect(r.outputs.result).toBe('passed');
    expect(r.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.outputs['image-refs']!.split('\n')).toContain(`${sandbox.REGISTRY}/factory/tools:1.0.1-amd64`);
    expect(r.outputs['record-path']).toBe('.factory/itg-records/tools/1.0.1/tools-default-amd64.json');
    expect(Number(r.outputs['cache-hit-ratio'])).toBeGreaterThanOrEqual(0);

    const record = parseRecord(fs.readFileSync(path.join(repo, r.outputs['record-path']!), 'utf8'), 'record');
    expect(record).toMatchObject({ product: { id: 'tools@1.0.1' }, variant: 'default', platform: 'linux/amd64', result: 'passed' });
    expect(record.image.digest).toBe(r.outputs.digest);
    expect(record.base.digest).toBe(sandbox.BASE_BUSYBOX!.split('@')[1]);
    expect(record.fragments.map((f) => f.ref)).toEqual(['hardening@1.0.0', 'toolbox@1.0.1']);
    expect(record.fragments.every((f) => /^sha256:/.test(f.digest ?? ''))).toBe(true);
    expect(record.template?.digest).toMatch(/^sha256:/);
    expect(record.tests.targets).toEqual(['test-tools-default-amd64', 'test-fragment-hardening-1_0_0-amd64', 'test-fragment-toolbox-1_0_1-amd64']);
    expect(record.tests.total).toBeGreaterThan(0);
    expect(record.tests.failed).toBe(0);
    expect(record.kpis.layerCount).toBeGreaterThan(0);
    expect(record.kpis.imageSizeBytes).toBeGreaterThan(0);
    expect(record.sbom?.packages).toBeGreaterThan(0);
    expect(r.summary).toContain('| `tools-default-amd64` | linux/amd64 | ✅ passed |');
    fs.rmSync(path.join(repo, '.factory/itg-records'), { recursive: true, force: true });

    // Evidence went through @actions/artifact to Azurite; download it like a reviewer would.
    process.env.ACTIONS_RESULTS_URL = svc.url;
    process.env.ACTIONS_RUNTIME_TOKEN = svc.token('run-pass', 'reviewer');
    const [evidence] = await downloadByPrefix('evidence', path.join(root, 'pass-download'));
    expect(evidence!.name).toBe('evidence-tools-default-amd64-linux-amd64-attempt1');
    const ev = (p: string) => path.join(evidence!.dir, p);
    for (const f of [
      'build.rawjson.log',
      'bake-metadata.json',
      'bake-definition.json',
      'test.rawjson.log',
      'tests/junit.xml',
      'tests/results.json',
      'summary.md',
      'provenance/tools-default-amd64.json',
    ]) {
      expect(fs.existsSync(ev(f)), f).toBe(true);
    }
    // The image build writes the image's cache; the test build, which rebuilds it as a context,
    // must not write it again (see testArgs in src/action/context.ts).
    const cacheExports = (f: string) =>
      [...fs.readFileSync(ev(f), 'utf8').matchAll(/"name":"(?:\[([^\]"]+)\] )?exporting cache to registry"/g)].map((m) => m[1] ?? '');
    expect(cacheExports('build.rawjson.log').length, 'the image build exports its cache').toBeGreaterThan(0);
    expect(cacheExports('test.rawjson.log').filter((t) => !t.startsWith('test-'))).toEqual([]);
    const sbom = JSON.parse(fs.readFileSync(ev('sbom/tools-default-amd64.spdx.json'), 'utf8')) as { spdxVersion: string; packages: unknown[] };
    expect(sbom.spdxVersion).toMatch(/^SPDX-2\./);
    expect(sbom.packages).toHaveLength(record.sbom!.packages);
    expect(fs.readFileSync(ev('tests/junit.xml'), 'utf8')).toMatch(/<testsuite name="test-tools-default-amd64" tests="\d+" failures="0"/);
    expect(
      svc.artifacts
        .filter((a) => a.runBackendId === 'run-pass')
        .map((a) => a.name)
        .sort(),
    ).toEqual(['evidence-tools-default-amd64-linux-amd64-attempt1', 'record-tools-default-amd64-linux-amd64-attempt1']);
  }, 600_000);

  it('reports a deliberately failing step: annotation on the fragment line, summary, failed record, evidence', async () => {
    const ws = path.join(root, 'broken-ws');
    fs.mkdirSync(ws, { recursive: true });
    const fixture = path.join(repo, 'test/action/fixtures/recorded');
    for (const f of ['Dockerfile', 'Dockerfile.map.json', 'hello.txt']) fs.copyFileSync(path.join(fixture, f), path.join(ws, f));
    fs.writeFileSync(
      path.join(ws, 'docker-bake.hcl'),
      `target "hello-broken-amd64" {
  args = { BASE_IMAGE = "${sandbox.BASE_BUSYBOX}", FAIL = "1" }
  platforms = ["linux/amd64"]
  tags = ["${sandbox.REGISTRY}/itg/hello:1.0.0-amd64"]
  labels = { "dev.factory.product" = "hello@1.0.0", "dev.factory.variant" = "default", "dev.factory.template" = "busybox@1.0.0", "dev.factory.fragments" = "tools@1.0.0,hello@1.0.0" }
}
`,
    );
    // The factory lives in a subdirectory of the workspace (input workdir).
    const r = await runAction('fail', root, { target: 'hello-broken-amd64', workdir: 'broken-ws', push: 'true', 'sbom-scanner': scanner });
    expect(r.status).toBe(1);
    expect(r.outputs.result).toBe('failed');
    // The annotation points at the fragment line that wrote the failing Dockerfile line, by its
    // path from the repository root.
    const annotation = r.log.split('\n').find((l) => l.startsWith('::error title=factory%3A hello-broken-amd64 failed'));
    expect(annotation).toMatch(
      /^::error title=factory%3A hello-broken-amd64 failed,file=broken-ws\/fragments\/hello\/1\.0\.0\/Dockerfile\.ejs,line=2::hello-broken-amd64: step \[app-hello 1\/2\] RUN echo .* failed, exit code 3 \(Dockerfile:10\)/,
    );
    // The job fails with one message naming the same place.
    expect(r.log).toMatch(
      /^::error::hello-broken-amd64: step \[app-hello 1\/2\] RUN .* failed at fragments\/hello\/1\.0\.0\/Dockerfile\.ejs:2: process .* exit code: 3$/m,
    );
    const report = JSON.parse(r.outputs['error-report']!) as Record<string, unknown>;
    expect(report).toMatchObject({ kind: 'build', target: 'hello-broken-amd64', stage: 'app-hello', exitCode: 3 });
    // stdout and stderr of the step reach BuildKit through separate pipes: their order varies.
    expect([...(report.log as string[])].sort()).toEqual(['about to check', 'failing on purpose', 'stderr text']);
    expect(r.summary).toContain('### ❌ hello-broken-amd64: build step failed');
    expect(r.summary).toContain('- source: `fragments/hello/1.0.0/Dockerfile.ejs:2` (hello@1.0.0)');

    const record = parseRecord(fs.readFileSync(path.join(ws, 'records/hello/1.0.0/hello-broken-amd64.json'), 'utf8'), 'record');
    expect(record.result).toBe('failed');
    expect(record.failure?.source).toEqual({ file: 'fragments/hello/1.0.0/Dockerfile.ejs', line: 2, origin: 'hello@1.0.0' });
    expect(record.kpis.steps.failed).toBe(1);
    // Failed targets leave evidence and a record artifact too.
    expect(
      svc.artifacts
        .filter((a) => a.runBackendId === 'run-fail')
        .map((a) => a.name)
        .sort(),
    ).toEqual(['evidence-hello-broken-amd64-linux-amd64-attempt1', 'record-hello-broken-amd64-linux-amd64-attempt1']);
  }, 600_000);

  it('refuses a group of test targets only', async () => {
    const r = await runAction('only-tests', repo, { target: 'tests' });
    expect(r.status).toBe(1);
    expect(r.log).toMatch(/^::error::input `target`: "tests" names only test targets; name an image target or group/m);
  }, 120_000);

  it('names an unknown target with the close matches', async () => {
    const r = await runAction('unknown', repo, { target: 'tools-default-amd65' });
    expect(r.status).toBe(1);
    expect(r.log).toMatch(
      /^::error::input `target`: unknown bake target or group "tools-default-amd65" in docker-bake.hcl; did you mean tools-default-amd64, tools-default-arm64\?$/m,
    );
  }, 120_000);

  it('keeps a local BuildKit cache between jobs (cache: local) and reads the OCI export without push', async () => {
    const state = path.join(root, 'local-state');
    fs.writeFileSync(state, '');
    const r = await runAction(
      'local',
      repo,
      {
        target: 'tools-default-amd64',
        push: 'false',
        cache: 'local',
        tests: 'none',
        'sbom-scanner': scanner,
        'records-dir': '.factory/itg-records-local',
        evidence: 'false',
      },
      { GITHUB_STATE: state },
    );
    fs.rmSync(path.join(repo, '.factory/itg-records-local'), { recursive: true, force: true });
    expect(r.status, r.log).toBe(0);
    // No Actions cache service here: said once, and the build goes on.
    expect(r.log).toContain('::warning::cache: local BuildKit cache not restored: the Actions cache service is not available on this runner');
    expect(r.outputs.digest).toMatch(/^sha256:/);
    expect(r.summary).toMatch(/\| `tools-default-amd64` \| linux\/amd64 \| ✅ passed \| [^|]+ \| [^|]+ \| [^|]+ \| `sha256:[0-9a-f]{12}` \| [1-9]\d* \|/);
    const cacheDir = path.join(r.temp, 'factory-buildkit-cache');
    expect(fs.existsSync(path.join(`${cacheDir}-new`, 'tools-default-amd64', 'index.json'))).toBe(true);

    // The post step, with the state the main step saved: the fresh export replaces the old cache.
    const saved: Record<string, string> = {};
    for (const m of fs.readFileSync(state, 'utf8').matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) saved[`STATE_${m[1]}`] = m[3]!;
    expect(saved.STATE_isPost).toBe('true');
    const post = await runAction('local-post', repo, {}, { ...saved, RUNNER_TEMP: r.temp });
    expect(post.status, post.log).toBe(0);
    expect(fs.existsSync(path.join(cacheDir, 'tools-default-amd64', 'index.json'))).toBe(true);
    expect(fs.existsSync(`${cacheDir}-new`)).toBe(false);
    expect(post.log).toContain('::warning::cache: local BuildKit cache not saved: the Actions cache service is not available on this runner');
  }, 600_000);
});
