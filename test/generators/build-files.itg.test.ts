// Real BuildKit builds of generated files, against the local sandbox (scripts/sandbox.sh up):
// the test stages and runner on a real image, the verdict stage, and the named-context stage
// override that shared `stage-*` targets rely on. Skipped, saying why, when the sandbox is down.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Test } from '../../src/core/types.js';
import { BUILDX } from '../golden/buildx.js';
import { base, factory, fragment, pool, product, template } from '../golden/build-fixture.js';
import { generateBuildFiles } from '../../generators/build-files.js';
import { parseEnvLines } from '../sandbox-env.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

function sandboxEnv(): { env?: Record<string, string>; why?: string } {
  if (!BUILDX) return { why: 'no buildx (set BUILDX_BIN or put buildx on PATH)' };
  const r = spawnSync(join(ROOT, 'scripts/sandbox.sh'), ['env'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) return { why: `sandbox is down (scripts/sandbox.sh up): ${r.stderr.trim().split('\n').at(-1)}` };
  const env = parseEnvLines(r.stdout);
  if (!env.BASE_BUSYBOX || !env.BUILDKIT_HOST) return { why: 'sandbox env lacks BASE_BUSYBOX or BUILDKIT_HOST' };
  const ping = spawnSync(BUILDX, ['inspect'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  if (ping.status !== 0) return { why: `sandbox builder unreachable: ${ping.stderr.trim()}` };
  return { env };
}
const sandbox = sandboxEnv();
if (sandbox.why) console.warn(`build-files.itg: skipped: ${sandbox.why}`);

const work = mkdtempSync(join(tmpdir(), 'build-itg-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function bake(cwd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(BUILDX!, ['bake', '-f', 'docker-bake.hcl', ...args], {
    cwd,
    env: { ...process.env, ...sandbox.env },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe.skipIf(sandbox.why !== undefined)('generated files built by BuildKit', () => {
  it('a named context with the name of a stage replaces that stage', () => {
    const dir = join(work, 'ctx');
    mkdirSync(dir, { recursive: true });
    const img = sandbox.env!.BASE_BUSYBOX!;
    writeFileSync(
      join(dir, 'Dockerfile'),
      `ARG BASE_IMAGE=${img}\nFROM \${BASE_IMAGE} AS base\nFROM base AS core-x\nRUN echo from-stage > /marker\nFROM core-x AS final\nRUN cat /marker > /final\n`,
    );
    writeFileSync(
      join(dir, 'docker-bake.hcl'),
      `target "stage-x" {\n  dockerfile-inline = "FROM ${img}\\nRUN echo from-context > /marker\\n"\n}\n` +
        `target "app" {\n  dockerfile = "Dockerfile"\n  target = "final"\n  contexts = { "core-x" = "target:stage-x" }\n  output = ["type=local,dest=out"]\n}\n`,
    );
    const r = bake(dir, ['app']);
    expect(r.status, r.out).toBe(0);
    expect(readFileSync(join(dir, 'out/final'), 'utf8')).toBe('from-context\n');
  });

  // A small factory on the sandbox busybox: two products sharing two stages, fragment tests of
  // every kind, a product test that fails on purpose.
  const tpl = template('mini', '1.0.0', "<%- slot('security') %>\n<%- slot('core') %>\n<%- slot('app') %>\n", { base: 'busybox' });
  const hardening = fragment(
    'hardening',
    '1.0.0',
    'security',
    'RUN echo app:x:1000:1000::/home/app:/bin/sh >> /etc/passwd && echo app:x:1000: >> /etc/group && mkdir -p /home/app\nCOPY files/motd /etc/motd\n',
    {
      tests: [
        { name: 'motd', file: '/etc/motd', exists: true, mode: '644' },
        { name: 'app user', command: 'id app', exit: 0, stdout: { contains: 'uid=1000' } },
      ],
    },
  );
  // The file its COPY names, as the loader would list it (the render checks it exists).
  const motd = { path: 'fragments/hardening/1.0.0/files/motd', bytes: new TextEncoder().encode('hi\n') };
  hardening.files.push(motd);
  hardening.allFiles.push(motd);
  const greet = fragment('greet', '1.0.0', 'core', 'ARG GREETING\nENV GREETING=${GREETING}\nRUN echo "$GREETING" > /etc/greeting\n', {
    args: { GREETING: 'hello' },
    tests: [
      { name: 'greeting', command: 'cat /etc/greeting', exit: 0, stdout: { contains: 'hello' } },
      { name: 'greeting env', 'env-equals': { GREETING: 'hello' } },
    ],
  });
  const rootTest: Test = { name: 'as root', command: 'id -u', user: 'root', exit: 0, stdout: { matches: '^0$' } };
  const appA = fragment('app-a', '1.0.0', 'app', 'RUN echo a > /etc/app\n', {
    requires: ['greet'],
    tests: [
      { name: 'app a', command: 'cat /etc/app', exit: 0, stdout: { contains: 'a' } },
      rootTest,
      { name: 'whoami', command: 'id -un', exit: 0, stdout: { matches: '^app$' } },
    ],
  });
  const appB = fragment('app-b', '1.0.0', 'app', 'RUN echo b > /etc/app\n', {
    tests: [{ name: 'app b', command: 'cat /etc/app', exit: 0, stdout: { contains: 'b' } }],
  });
  const variant = { name: 'default', matrix: {}, args: { GREETING: 'hello' } };
  const busybox = { name: 'busybox', image: 'docker.io/library/busybox:stable' };
  const a = product({
    name: 'a',
    template: tpl,
    fragments: [hardening, greet, appA],
    variants: [variant],
    base: busybox,
    product: {
      platforms: ['linux/amd64'],
      tests: [
        { name: 'runs as app', 'runs-as': 'app' },
        { name: 'title label', label: { 'org.opencontainers.image.title': 'a' } },
      ],
    },
  });
  const b = product({
    name: 'b',
    template: tpl,
    fragments: [hardening, greet, appB],
    variants: [variant],
    base: busybox,
    product: { platforms: ['linux/amd64'], tests: [{ name: 'deliberately failing', command: 'echo boom >&2; exit 4', exit: 0 }] },
  });
  const dir = join(work, 'factory');

  it('runs the combined and isolated tests and exports results.json', () => {
    const f = factory([a, b], [pool('amd64', 'linux/amd64'), pool('arm64', 'linux/arm64')], [base('busybox', 'docker.io/library/busybox:stable')]);
    for (const file of generateBuildFiles(f)) {
      mkdirSync(dirname(join(dir, file.path)), { recursive: true });
      writeFileSync(join(dir, file.path), file.text);
    }
    mkdirSync(join(dir, 'fragments/hardening/1.0.0/files'), { recursive: true });
    writeFileSync(join(dir, 'fragments/hardening/1.0.0/files/motd'), 'hi\n');
    expect(readFileSync(join(dir, 'docker-bake.hcl'), 'utf8')).toContain('"core-greet" = "target:stage-core-greet-amd64-');

    // The SBOM scanner image is not in the sandbox registry: attestations are the action's test.
    const r = bake(dir, ['test-a-default-amd64', 'test-b-default-amd64', 'test-fragment-app-a-1_0_0-amd64', '--set', '*.attest=type=sbom,disabled=true']);
    expect(r.status, r.out.slice(-3000)).toBe(0); // a failing test does not fail the build
    const results = (t: string) => JSON.parse(readFileSync(join(dir, '.factory/test-results', t, 'results.json'), 'utf8'));
    const status = (t: string) => Object.fromEntries(results(t).tests.map((x: { name: string; status: string }) => [x.name, x.status]));

    expect(status('test-a-default-amd64')).toEqual({
      motd: 'passed',
      'app user': 'passed',
      greeting: 'passed',
      'greeting env': 'passed',
      'app a': 'passed',
      'as root': 'passed',
      whoami: 'passed', // commands run as the image user
      'runs as app': 'passed',
      'title label': 'passed',
    });
    const rb = results('test-b-default-amd64');
    expect(rb.summary).toEqual({ passed: 5, failed: 1, skipped: 0, total: 6 });
    expect(rb.tests.at(-1)).toMatchObject({
      name: 'deliberately failing',
      origin: 'b@1.0.0',
      status: 'failed',
      exitCode: 4,
      output: 'boom',
      message: 'exit code 4, expected 0',
    });
    expect(readFileSync(join(dir, '.factory/test-results/test-b-default-amd64/summary'), 'utf8')).toBe('passed=5\nfailed=1\nskipped=0\ntotal=6\n');
    // Isolated: app-a with what it requires (greet) on the bare base; no app user there.
    expect(status('test-fragment-app-a-1_0_0-amd64')).toEqual({ 'app a': 'passed', 'as root': 'passed', whoami: 'failed' });
  });

  it.skipIf(!sandbox.env?.BASE_DEBIAN)('switches users with util-linux su on Debian, keeping the image environment', () => {
    const ddir = join(work, 'debian');
    const dtpl = template('deb', '1.0.0', "<%- slot('security') %>\n<%- slot('core') %>\n<%- slot('app') %>\n", { base: 'debian' });
    const user = fragment('user', '1.0.0', 'security', 'RUN useradd --uid 1000 --create-home app\nENV PATH=/opt/tool/bin:$PATH\n', {
      tests: [
        { name: 'whoami', command: 'id -un', exit: 0, stdout: { matches: '^app$' } },
        { name: 'path kept', command: 'echo "$PATH"', exit: 0, stdout: { contains: '/opt/tool/bin:' } },
        { name: 'home dir mode', file: '/home/app', exists: true, mode: '0755' },
        rootTest,
      ],
    });
    const p = product({
      name: 'deb',
      template: dtpl,
      fragments: [user],
      base: { name: 'debian', image: 'docker.io/library/debian:bookworm' },
      product: { platforms: ['linux/amd64'], tests: [{ name: 'runs as app', 'runs-as': 'app' }] },
    });
    const f = factory([p], [pool('amd64', 'linux/amd64'), pool('arm64', 'linux/arm64')], [base('debian', 'docker.io/library/debian:bookworm')]);
    for (const file of generateBuildFiles(f)) {
      mkdirSync(dirname(join(ddir, file.path)), { recursive: true });
      writeFileSync(join(ddir, file.path), file.text);
    }
    const r = bake(ddir, ['test-deb-default-amd64', '--set', '*.attest=type=sbom,disabled=true']);
    expect(r.status, r.out.slice(-3000)).toBe(0);
    const res = JSON.parse(readFileSync(join(ddir, '.factory/test-results/test-deb-default-amd64/results.json'), 'utf8'));
    expect(res.summary, JSON.stringify(res.tests)).toEqual({ passed: 5, failed: 0, skipped: 0, total: 5 });
  });

  it('the test-verdict stage fails when a test failed, and passes otherwise', () => {
    const bad = bake(dir, [
      'test-b-default-amd64',
      '--set',
      'test-b-default-amd64.target=test-verdict',
      '--set',
      'test-b-default-amd64.output=type=cacheonly',
      '--set',
      '*.attest=type=sbom,disabled=true',
    ]);
    expect(bad.status).not.toBe(0);
    expect(bad.out).toContain('deliberately failing: exit code 4, expected 0');
    const good = bake(dir, ['test-fragment-hardening-1_0_0-amd64', '--set', '*.target=test-verdict', '--set', '*.output=type=cacheonly']);
    expect(good.status, good.out.slice(-2000)).toBe(0);
  });
});
