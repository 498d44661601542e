// `factory verify` as a consumer runs it, on the sandbox: a copy of the sample factory whose
// busybox base is pinned (factory lock --resolve-bases) to the sandbox's image, the tools product
// built for amd64 + arm64 with SBOM and provenance and pushed, its manifest list made, signed
// with cosign (a generated key pair, no transparency log), then verified; and tampered with.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxVars } from '../sandbox-env.js';

const repo = path.resolve(__dirname, '../..');
const root = mkdtempSync(path.join(os.tmpdir(), 'factory-verify-'));
const GOBIN = path.join(execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim(), 'bin');
const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  PATH: `${GOBIN}:/usr/local/lib/factory-sandbox/bin:${process.env.PATH}`,
  COSIGN_PASSWORD: '',
  NO_COLOR: '1',
};
let ns = '';
let list = '';

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const factory = (...args: string[]) => {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/factory.js'), '--root', root, ...args], { cwd: root, env, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const verify = (...extra: string[]) => factory('verify', 'tools@1.0.1', '--registry', ns, '--key', 'cosign.pub', '--insecure-ignore-tlog', ...extra);

beforeAll(() => {
  const sandbox = sandboxVars();
  Object.assign(env, sandbox);
  ns = `${sandbox.REGISTRY}/verify-${process.pid}-${Date.now()}`;
  for (const p of ['manifests', 'templates', 'fragments', 'factory.lock.json']) cpSync(path.join(repo, p), path.join(root, p), { recursive: true });
  // The consumer's factory pins its base: the sandbox's busybox, resolved through the registry API.
  const bases = path.join(root, 'manifests/bases.yaml');
  const local: Record<string, string> = { debian: 'base/debian:bookworm', busybox: 'base/busybox:stable', cuda: 'base/cuda:12.4-standin' };
  writeFileSync(
    bases,
    readFileSync(bases, 'utf8').replace(
      /^name: (\w+)\n((?:.*\n)*?)image: .*$/gm,
      (_m, name: string, mid: string) => `name: ${name}\n${mid}image: ${sandbox.REGISTRY}/${local[name]}`,
    ),
  );
  expect(factory('lock', '--resolve-bases').code).toBe(0);
  expect(factory('generate').code).toBe(0);
  const vars = { ...env, REGISTRY: ns, REVISION: '0123456789abcdef0123456789abcdef01234567', SOURCE_URL: 'https://github.com/acme/factory' };
  const bakeFile = spawnSync('sh', ['-c', 'ls build/tools/1.0.1/docker-bake.hcl 2>/dev/null || echo docker-bake.hcl'], {
    cwd: root,
    encoding: 'utf8',
  }).stdout.trim();
  const set = ['tools-default-amd64', 'tools-default-arm64'].flatMap((t) => ['--set', `${t}.attest=type=sbom,generator=${sandbox.SBOM_SCANNER}`]);
  execFileSync('buildx', ['bake', '-f', bakeFile, '--push', ...set, 'tools-default-amd64', 'tools-default-arm64'], { cwd: root, env: vars, stdio: 'pipe' });
  list = `${ns}/factory/tools:1.0.1`;
  sh('buildx', ['imagetools', 'create', '-t', list, `${list}-amd64`, `${list}-arm64`]);
  sh('cosign', ['generate-key-pair']);
  const digest = JSON.parse(sh('buildx', ['imagetools', 'inspect', list, '--format', '{{json .Manifest}}'])).digest as string;
  sh('cosign', [
    'sign',
    '--key',
    'cosign.key',
    '--recursive',
    '--tlog-upload=false',
    '--use-signing-config=false',
    '--allow-http-registry',
    '-y',
    `${ns}/factory/tools@${digest}`,
  ]);
}, 600_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('factory verify', () => {
  it('passes every check of a signed, attested image built on the pinned base', () => {
    const r = verify();
    expect(r.out, r.out + r.err).toMatch(/all 11 checks passed/);
    expect(r.code).toBe(0);
    for (const p of ['linux/amd64', 'linux/arm64']) {
      for (const c of ['signature', 'provenance', 'sbom', 'base', 'composition']) expect(r.out).toMatch(new RegExp(`^pass  ${p} +${c} `, 'm'));
    }
    expect(r.out).toMatch(/provenance +https:\/\/github\.com\/acme\/factory at 0123456789ab/);
    const j = JSON.parse(factory('--json', 'verify', 'tools@1.0.1', '--registry', ns, '--key', 'cosign.pub', '--insecure-ignore-tlog').out);
    expect(j.ok).toBe(true);
  });

  it('fails the composition when the factory moved on (the image is not what the lock says)', () => {
    const m = path.join(root, 'manifests/tools.yaml');
    const before = readFileSync(m, 'utf8');
    try {
      // The manifest drops a fragment: the published image still carries it.
      writeFileSync(m, before.replace('  - hardening@1.0.0\n  - toolbox@1.0.1', '  - toolbox@1.0.1'));
      const r = verify();
      expect(r.code).toBe(1);
      expect(r.out, r.out).toMatch(/^FAIL {2}linux\/amd64 +composition +fragments hardening@1\.0\.0,toolbox@1\.0\.1, the factory has toolbox@1\.0\.1$/m);
      expect(r.out).toMatch(/^pass {2}linux\/amd64 +signature /m);
    } finally {
      writeFileSync(m, before);
    }
  });

  it('fails the signature of an unsigned manifest list planted under the same tag', () => {
    sh('buildx', ['imagetools', 'create', '-t', list, `${list}-amd64`]);
    const r = verify();
    expect(r.code).toBe(1);
    // The list is new and unsigned; the platform image inside it is the signed one.
    expect(r.out, r.out).toMatch(/^FAIL {2}index +signature +.*no signatures found/m);
    expect(r.out).toMatch(/^pass {2}linux\/amd64 +signature /m);
    expect(r.out).toMatch(/check\(s\) failed/);
  });

  it.each([
    [['--key', 'missing.pub'], /signature/],
    [['--registry', '127.0.0.1:9/nothing'], /127\.0\.0\.1:9/],
  ])('%j: a clear message and exit 1', (extra, msg) => {
    const r = factory('verify', 'tools@1.0.1', '--registry', ns, '--key', 'cosign.pub', '--insecure-ignore-tlog', ...extra);
    expect(r.code).toBe(1);
    expect(r.out + r.err).toMatch(msg);
    expect(r.err).not.toMatch(/internal error|at .*\.js:\d+/);
  });
});
