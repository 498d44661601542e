// Only verified images are reused or published, on the sandbox: a copy of the sample factory in a
// git repository, images under its build-key tags in a registry namespace of this run, cosign
// with a generated key pair and no transparency log (as test/supply/verify.itg.test.ts signs).
//   reuse:   a signed image with provenance under bk-<key>: the plan skips that target, by digest
//   tamper:  an unsigned image re-tagged as bk-<key>, or a signed one naming another repository:
//            the plan rebuilds the target and says why
//   merge:   refuses a list with an unsigned source digest (exit 1), publishes a signed one
//   bad input: an unknown key file, a registry that is down
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeJobResult } from '../../src/core/job-result.js';
import { git } from '../plan/repo.js';
import { sandboxVars } from '../sandbox-env.js';

const repo = path.resolve(__dirname, '../..');
const root = mkdtempSync(path.join(os.tmpdir(), 'factory-reuse-'));
const GOBIN = path.join(execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim(), 'bin');
const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  PATH: `${GOBIN}:/usr/local/lib/factory-sandbox/bin:${process.env.PATH}`,
  COSIGN_PASSWORD: '',
  NO_COLOR: '1',
};
for (const k of ['GITHUB_REPOSITORY', 'GITHUB_REF', 'FACTORY_COSIGN_PUBLIC_KEY', 'FACTORY_COSIGN_TLOG']) delete env[k];
const SOURCE = 'https://github.com/acme/factory';
const REVISION = '0123456789abcdef0123456789abcdef01234567';
let ns = '';
let registry = '';

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const factory = (args: string[], extra: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/factory.js'), '--root', root, ...args], {
    cwd: root,
    env: { ...env, ...extra },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const trust = ['--verify-key', 'cosign.pub', '--insecure-ignore-tlog', '--repository', 'acme/factory'];

interface Planned {
  target: string;
  status: string;
  keyRef: string;
  keyTag: string;
  digest?: string;
  untrusted?: string;
}
const plan = (...extra: string[]) => {
  const r = factory(['--json', 'plan', '--all', '--product', 'tools', '--check-registry', ...trust, ...extra], { REGISTRY: ns });
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as { affected: Planned[]; warnings: string[]; merges: { sources: { status: string; digest?: string }[] }[] };
};
const target = (p: ReturnType<typeof plan>, arch: string) => p.affected.find((t) => t.target === `tools-default-${arch}`)!;

/** A small real image with SLSA provenance and the source labels the factory's legs set; its digest. */
function image(tag: string, source = SOURCE, note = ''): string {
  const dir = mkdtempSync(path.join(root, 'ctx-'));
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${env.BASE_BUSYBOX}\nRUN echo ${JSON.stringify(`${tag} ${note}`)} > /note\n`);
  const meta = path.join(dir, 'meta.json');
  sh('buildx', [
    'build',
    '--platform',
    'linux/amd64',
    '--provenance',
    'mode=min',
    '--label',
    `org.opencontainers.image.source=${source}`,
    '--label',
    `org.opencontainers.image.revision=${REVISION}`,
    '--metadata-file',
    meta,
    '--push',
    '-t',
    tag,
    dir,
  ]);
  return (JSON.parse(execFileSync('cat', [meta], { encoding: 'utf8' })) as Record<string, string>)['containerimage.digest']!;
}
const sign = (ref: string) =>
  sh('cosign', ['sign', '--key', 'cosign.key', '--recursive', '--tlog-upload=false', '--use-signing-config=false', '--allow-http-registry', '-y', ref]);

beforeAll(() => {
  const sandbox = sandboxVars();
  Object.assign(env, sandbox);
  registry = sandbox.REGISTRY!;
  ns = `${registry}/reuse-${process.pid}-${Date.now()}`;
  for (const p of ['manifests', 'templates', 'fragments', 'factory.lock.json']) cpSync(path.join(repo, p), path.join(root, p), { recursive: true });
  git(root, 'init', '-q', '-b', 'main');
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'factory');
  sh('cosign', ['generate-key-pair']);
}, 300_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('build-key reuse only of verified images', () => {
  let amd64: Planned;

  it('reuses a signed image with provenance naming the repository, by its digest', () => {
    amd64 = target(plan(), 'amd64');
    expect(amd64.status).toBe('build');
    const digest = image(amd64.keyRef);
    sign(`${amd64.keyRef.slice(0, amd64.keyRef.lastIndexOf(':'))}@${digest}`);
    const p = plan();
    expect(target(p, 'amd64')).toMatchObject({ status: 'skip', digest });
    expect(target(p, 'arm64').status).toBe('build');
    expect(p.merges[0]!.sources.find((s) => s.status === 'existing')!.digest).toBe(digest);
    // The text plan says it verified the image.
    const text = factory(['plan', '--all', '--product', 'tools', '--check-registry', '--explain', ...trust], { REGISTRY: ns });
    expect(text.out).toContain(`already built: ${amd64.keyRef} (${digest}, signature verified)`);
  }, 300_000);

  it('rebuilds when an unsigned image is re-tagged as bk-<key>, saying why', () => {
    const digest = image(amd64.keyRef, SOURCE, 'planted');
    const p = plan();
    const t = target(p, 'amd64');
    expect(t.status).toBe('build');
    expect(t.untrusted).toMatch(new RegExp(`^${digest} is not signed by the key cosign\\.pub \\(.*no signatures found`));
    expect(p.warnings.join('\n')).toContain(`not reusing ${amd64.keyRef}: ${digest} is not signed`);
    const text = factory(['plan', '--all', '--product', 'tools', '--check-registry', ...trust], { REGISTRY: ns });
    expect(text.out).toMatch(
      /build {2}tools-default-amd64 .*\n {6}rebuilt: .* exists, but is not reused: sha256:[0-9a-f]{64} is not signed by the key cosign\.pub/,
    );
  }, 300_000);

  it('rebuilds when a signed image names another repository in its provenance', () => {
    const digest = image(amd64.keyRef, 'https://github.com/mallory/factory');
    sign(`${amd64.keyRef.slice(0, amd64.keyRef.lastIndexOf(':'))}@${digest}`);
    const t = target(plan(), 'amd64');
    expect(t.status).toBe('build');
    expect(t.untrusted).toBe('linux/amd64: its provenance names https://github.com/mallory/factory, not https://github.com/acme/factory');
  }, 300_000);

  it('refuses an unknown key file: exit 1, a clear message', () => {
    const r = factory(['plan', '--all', '--check-registry', '--verify-key', 'missing.pub'], { REGISTRY: ns });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--verify-key missing\.pub: no such file \(or not readable\); give the cosign public key/);
    expect(r.err).not.toMatch(/at .*\.js:\d+/);
  });

  it('plans a build, with a warning, when the registry is down (building again is always safe)', () => {
    const r = factory(['--json', 'plan', '--all', '--product', 'tools', '--check-registry', ...trust], { REGISTRY: '127.0.0.1:9/none' });
    expect(r.code).toBe(0);
    const p = JSON.parse(r.out) as { build: string[]; warnings: string[] };
    expect(p.build).toEqual(['tools-default-amd64', 'tools-default-arm64']);
    expect(p.warnings[0]).toMatch(/^registry check of 127\.0\.0\.1:9\/none\/factory\/tools:bk-[0-9a-f]{64} failed \(.*\); planning a build$/);
  });
});

describe('factory merge verifies every source digest', () => {
  /** A workspace whose plan publishes one list from one pushed leg image. */
  function workspace(digest: string, image: string, reg = registry): string {
    const dir = mkdtempSync(path.join(root, 'merge-'));
    const source = { target: 'm-amd64', platform: 'linux/amd64', status: 'build', keyTag: 'bk-m' };
    const planFile = { version: 1, registry: reg, affected: [], removed: [], merges: [{ image, tags: ['1.0.0'], sources: [source] }] };
    planFile.merges[0]!.tags = ['1.0.0'];
    writeFileSync(path.join(dir, 'plan.json'), JSON.stringify({ ...planFile, summary: { targets: 1, affected: 1, build: 1, skipped: 0 } }));
    cpSync(path.join(root, 'cosign.pub'), path.join(dir, 'cosign.pub'));
    execFileSync('mkdir', [path.join(dir, 'results')]);
    const result = { version: 1 as const, target: 'm-amd64', result: 'passed' as const, attempts: 1, pushed: true, digest, refs: [] };
    writeFileSync(path.join(dir, 'results/m-amd64.json'), serializeJobResult(result));
    return dir;
  }
  const merge = (dir: string) => {
    const r = spawnSync(
      process.execPath,
      [path.join(repo, 'bin/factory.js'), '--root', dir, 'merge', '--verify-key', 'cosign.pub', '--insecure-ignore-tlog', '--published', 'published.txt'],
      { cwd: dir, env, encoding: 'utf8' },
    );
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it('refuses a list with an unsigned source digest and writes nothing', () => {
    const name = `${ns.slice(registry.length + 1)}/merge-unsigned`;
    const digest = image(`${registry}/${name}:leg`);
    const dir = workspace(digest, name);
    const r = merge(dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`factory merge refused: ${registry}/${name}:1.0.0: ${registry}/${name}@${digest}: ${digest} is not signed by the key cosign.pub (`);
    expect(r.err).toMatch(/not publishing a list with an unverified image/);
    expect(spawnSync('buildx', ['imagetools', 'inspect', `${registry}/${name}:1.0.0`], { env }).status).not.toBe(0);
  }, 300_000);

  it('publishes a list whose source is signed, and lists it for signing', () => {
    const name = `${ns.slice(registry.length + 1)}/merge-signed`;
    const digest = image(`${registry}/${name}:leg`);
    sign(`${registry}/${name}@${digest}`);
    const dir = workspace(digest, name);
    const r = merge(dir);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain(`published ${registry}/${name}: 1.0.0 from 1 platform image(s)`);
    const listed = execFileSync('cat', [path.join(dir, 'published.txt')], { encoding: 'utf8' });
    expect(listed).toMatch(new RegExp(`^${registry.replace(/[.]/g, '\\.')}/${name}@sha256:[0-9a-f]{64}\n$`));
    // The merge job's signing step, as the workflow runs it (the key from a secret, no Rekor).
    const signed = spawnSync('bash', [path.join(repo, 'scripts/workflow/sign.sh'), '--file', 'published.txt'], {
      cwd: dir,
      env: {
        ...env,
        FACTORY_COSIGN_KEY: execFileSync('cat', [path.join(root, 'cosign.key')], { encoding: 'utf8' }),
        FACTORY_COSIGN_TLOG: 'false',
        ALLOW_HTTP: 'true',
      },
      encoding: 'utf8',
    });
    expect(signed.status, signed.stdout + signed.stderr).toBe(0);
    expect(signed.stdout).toContain('with the key in FACTORY_COSIGN_KEY, no transparency log');
    const v = spawnSync('cosign', ['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', '--allow-http-registry', listed.trim()], {
      cwd: root,
      env,
      encoding: 'utf8',
    });
    expect(v.status, v.stderr).toBe(0);
  }, 300_000);

  it('fails clearly when the registry is down', () => {
    const dir = workspace(`sha256:${'a'.repeat(64)}`, 'x/down', '127.0.0.1:9');
    const r = merge(dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/factory merge refused: 127\.0\.0\.1:9\/x\/down:1\.0\.0: 127\.0\.0\.1:9\/x\/down@sha256:a{64}: /);
    expect(r.err).not.toMatch(/at .*\.js:\d+/);
  });
});
