// `factory build` keeps going (issue 14): on the sandbox, a product whose `fail` variant breaks
// at a RUN step and whose `ok` variant builds. The whole CLI process, from disk to disk: the ok
// variant is built and pushed although the other failed first, each is reported, exit 1.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxVars } from '../sandbox-env.js';

const repo = path.resolve(__dirname, '../..');
const root = mkdtempSync(path.join(os.tmpdir(), 'factory-build-'));
const env: Record<string, string> = { ...(process.env as Record<string, string>), NO_COLOR: '1' };

const factory = (...args: string[]) => {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/factory.js'), '--root', root, ...args], { cwd: root, env, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

beforeAll(() => {
  const sandbox = sandboxVars();
  Object.assign(env, sandbox, { REGISTRY: `${sandbox.REGISTRY}/build-${process.pid}-${Date.now()}` });
  cpSync(path.join(repo, 'test/fixtures/good/keep-going'), root, { recursive: true });
  expect(factory('generate').code).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('factory build', () => {
  it('builds every target it can when one fails, reports each, exits 1', () => {
    const r = factory('--json', 'build', 'two-modes@1.0.0', '--push');
    expect(r.code, r.err).toBe(1);
    expect(r.err).toContain('mode fail fails on purpose'); // bake's own output, passed through
    const report = JSON.parse(r.out) as { ok: boolean; targets: { target: string; status: string; digest?: string }[] };
    expect(report.ok).toBe(false);
    expect(report.targets.map((t) => [t.target, t.status])).toEqual([
      ['two-modes-modefail-amd64', 'failed'],
      ['two-modes-modeodd-amd64', 'built'],
      ['two-modes-modeok-amd64', 'built'],
    ]);
    const digest = report.targets[2]!.digest!;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The registry holds what the report says was built, under its tag.
    const [host, ...repoPath] = `${env.REGISTRY}/factory/two-modes`.split('/');
    const head = execFileSync(
      'curl',
      ['-fsSI', '-H', 'Accept: application/vnd.oci.image.index.v1+json', `http://${host}/v2/${repoPath.join('/')}/manifests/1.0.0-modeok-amd64`],
      { encoding: 'utf8' },
    );
    expect(head.toLowerCase()).toContain(`docker-content-digest: ${digest}`);
    // With an SBOM made by the scanner the environment names (SBOM_SCANNER, a bake variable the
    // sandbox sets): nobody had to override attest, and nothing was pulled from Docker Hub.
    const index = JSON.parse(
      execFileSync('curl', ['-fsS', '-H', 'Accept: application/vnd.oci.image.index.v1+json', `http://${host}/v2/${repoPath.join('/')}/manifests/${digest}`], {
        encoding: 'utf8',
      }),
    ) as { manifests: { annotations?: Record<string, string> }[] };
    expect(index.manifests.some((m) => m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest')).toBe(true);
  });

  it('says built and failed per target in words', () => {
    const r = factory('build', 'two-modes@1.0.0');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/failed two-modes-modefail-amd64 \(its error is in the bake output above\)/);
    expect(r.err).toMatch(/built {2}two-modes-modeok-amd64/);
    expect(r.err).toContain('2 of 3 targets built, 1 failed.');
  });

  it("with --test, reads each test target's results: a failed test fails its target", () => {
    const r = factory('--json', 'build', 'two-modes@1.0.0', '--test');
    expect(r.code, r.err).toBe(1);
    const report = JSON.parse(r.out) as { targets: { target: string; status: string; tests?: Record<string, number> }[] };
    const by = Object.fromEntries(report.targets.map((t) => [t.target, t]));
    expect(by['test-two-modes-modeok-amd64']).toMatchObject({ status: 'built', tests: { failed: 0 } });
    expect(by['test-two-modes-modeok-amd64']!.tests!.passed).toBeGreaterThan(0);
    expect(by['test-two-modes-modeodd-amd64']).toMatchObject({ status: 'failed', tests: { failed: 1 } });
    expect(by['test-two-modes-modefail-amd64']!.status).toBe('failed'); // its image did not build
    expect(by['two-modes-modeodd-amd64']!.status).toBe('built');
  });
});
