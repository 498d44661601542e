// What `factory plan` says when it cannot plan: unknown revisions, bad options, a head that does
// not load, an unreachable registry. Messages name the problem and what to do.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FactoryError } from '../../src/core/types.js';
import { GitError, planChanges, PlanError } from '../../src/plan/index.js';
import { applyEdits, commitAll, repoFromFixture } from './repo.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/factory');
const { root, base } = repoFromFixture(FIXTURE);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('plan errors', () => {
  it('needs --base or --all', async () => {
    await expect(planChanges({ repoRoot: root })).rejects.toThrow(new PlanError('give --base <ref> to diff against, or --all to plan every target'));
  });

  it('names an unknown revision and how to fetch it', async () => {
    const e = await planChanges({ repoRoot: root, base: 'origin/nope' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GitError);
    expect((e as Error).message).toBe(`unknown git revision "origin/nope" in ${root}; fetch it first (in CI: actions/checkout with fetch-depth: 0)`);
  });

  it('refuses a revision that looks like an option', async () => {
    await expect(planChanges({ repoRoot: root, base: '--output=/tmp/x' })).rejects.toThrow('"--output=/tmp/x" is not a git revision');
  });

  it.each([
    [{ products: ['nope'] }, 'unknown product "nope"; known products: py-app@1.0.0, py-cuda@1.0.0, tools@2.1.0'],
    [{ platforms: ['linux/s390x'] }, 'unknown platform "linux/s390x"; use linux/amd64 or linux/arm64'],
    [{ promote: 'stable tag' }, '--promote "stable tag" is not a valid image tag (letters, digits, _ . -; at most 101 characters)'],
  ])('rejects %j', async (opts, message) => {
    await expect(planChanges({ repoRoot: root, all: true, ...opts })).rejects.toThrow(new PlanError(message));
  });

  it('reports every problem of a head that does not load, with file:line:column', async () => {
    const { root: r2, base: b2 } = repoFromFixture(FIXTURE);
    try {
      applyEdits(r2, { replace: [{ file: 'manifests/recipes.yaml', from: 'template: slim@1.0.0', to: 'template: slim@9.9.9' }] });
      commitAll(r2, 'broken');
      const e = await planChanges({ repoRoot: r2, base: b2 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(FactoryError);
      const d = (e as FactoryError).diagnostics.find((x) => x.severity === 'error')!;
      expect(d.location).toMatchObject({ file: 'manifests/recipes.yaml' });
      expect(d.message).toBe('template "slim" has no version 9.9.9');
      expect(d.location!.line).toBeGreaterThan(0);
    } finally {
      fs.rmSync(r2, { recursive: true, force: true });
    }
  });

  it('plans a build (with a warning) when the registry cannot be asked', async () => {
    const r = await planChanges({
      repoRoot: root,
      all: true,
      platforms: ['linux/arm64'],
      products: ['tools'],
      registryCheck: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:5000');
      },
    });
    expect(r.build).toEqual(['tools-default-arm64']);
    expect(r.warnings[0]).toMatch(
      /^registry check of localhost:5000\/factory\/tools:bk-[0-9a-f]{64} failed \(connect ECONNREFUSED 127\.0\.0\.1:5000\); planning a build$/,
    );
  });

  describe('a push dispatch limited to some platforms (bug 4)', () => {
    const subset = { repoRoot: root, all: true, platforms: ['linux/arm64'], products: ['tools'] };

    it('is refused before anything is built when another platform of a list has no image with its build key', async () => {
      const e = await planChanges({ ...subset, push: true, registryCheck: async () => false }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(PlanError);
      const message = (e as Error).message;
      expect(message).toMatch(
        /^--platforms linux\/arm64 with push would publish incomplete manifest lists: factory\/tools:2\.1\.0 also needs linux\/amd64 \(target tools-default-amd64, no image tagged bk-[0-9a-f]{64}\)\. /,
      );
      expect(message).toContain(
        'Dispatch again with platforms empty (every platform) or adding linux/amd64, or with push off to build and test linux/arm64 only.',
      );
    });

    it('merges the built platform with the others of the same build key from the registry', async () => {
      // The registry holds the amd64 image of the current inputs (under its key tag), nothing else.
      const whole = await planChanges({ repoRoot: root, all: true, products: ['tools'] });
      const amd64 = whole.affected.find((t) => t.platform === 'linux/amd64')!;
      const r = await planChanges({ ...subset, push: true, registryCheck: async (ref) => ref === amd64.keyRef });
      expect(r.build).toEqual(['tools-default-arm64']);
      expect(r.merges[0]!.sources).toEqual([
        { target: 'tools-default-amd64', platform: 'linux/amd64', status: 'existing', keyTag: amd64.keyTag },
        { target: 'tools-default-arm64', platform: 'linux/arm64', status: 'build', keyTag: expect.stringMatching(/^bk-/) },
      ]);
    });

    it('builds and tests the subset alone when nothing is pushed', async () => {
      const r = await planChanges({ ...subset, push: false, registryCheck: async () => false });
      expect(r.build).toEqual(['tools-default-arm64']);
      expect(r.merges[0]!.sources.map((s) => [s.platform, s.status])).toEqual([
        ['linux/amd64', 'missing'],
        ['linux/arm64', 'build'],
      ]);
    });
  });

  it('gives a byte-identical plan for the same revisions', async () => {
    const opts = { repoRoot: root, all: true, promote: 'stable', registryCheck: async (ref: string) => ref.includes('tools') };
    const a = JSON.stringify(await planChanges(opts));
    const b = JSON.stringify(await planChanges(opts));
    expect(b).toBe(a);
    expect(JSON.parse(a).skipped).toEqual(['tools-default-amd64', 'tools-default-arm64']);
  });

  it('plans nothing for an empty diff and reads the committed tree, not the working tree', async () => {
    fs.writeFileSync(path.join(root, 'manifests/products.yaml'), 'not: [valid');
    try {
      const r = await planChanges({ repoRoot: root, base, head: base });
      expect(r.affected).toEqual([]);
      expect(r.summary).toEqual({ targets: 7, affected: 0, build: 0, skipped: 0, removed: 0 });
    } finally {
      commitAll(root, 'noop'); // leave the repository consistent for the other tests
    }
  });
});
