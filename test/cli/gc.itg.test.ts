// `factory gc` against a real registry (Debian's docker-registry, storage delete enabled, as
// scripts/sandbox.sh runs it): the registry is seeded through its HTTP API with what builds leave
// behind (current and stale bk-<key> tags, a released digest with its cosign signature, cache
// refs, a removed product's repository), then gc runs dry and for real. The catalog and the tags
// before and after are compared; nothing referenced may go.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFactory } from '../../src/core/index.js';
import { readTree } from '../../src/io/tree.js';
import { run } from '../../src/cli/cli.js';
import type { Io } from '../../src/cli/output.js';
import { cacheTag } from '../../generators/bake.js';
import { keyTag, Renderer } from '../../src/plan/key.js';
import { RegistryClient } from '../../src/registry/client.js';
import { pushImage, pushIndex, pushManifest, startTestRegistry, type TestRegistry } from '../../src/registry/testing.js';
import { MEDIA_TYPES } from '../../src/registry/oci.js';
import type { Descriptor } from '../../src/registry/types.js';
import type { GcReport } from '../../src/cli/gc.js';

let reg: TestRegistry;
let root: string;
const NS = 'acme';
const client = new RegistryClient();
const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();

async function factory(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), color: false };
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const code = await run(['--root', root, ...argv], io);
    return { code, out, err };
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

const image = (repo: string, layer: string, created: string, tag?: string): Promise<Descriptor> =>
  pushImage(reg.host, repo, { platform: { os: 'linux', architecture: 'amd64' }, labels: {}, layer, created }, tag);

/** Every repository with its sorted tags: the registry's state as a user would list it. */
async function snapshot(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const r of await client.catalog(reg.host)) {
    const tags = await client.listTags(`${reg.host}/${r}`);
    if (tags.length > 0) out[r] = tags;
  }
  return out;
}

let seeded: {
  repo: string;
  currentKey: string;
  published: string;
  staleOld: Descriptor;
  staleYoung: Descriptor;
  released: Descriptor;
  currentCache: string;
};

beforeAll(async () => {
  reg = await startTestRegistry();
  root = mkdtempSync(path.join(os.tmpdir(), 'factory-gc-'));
  cpSync(path.resolve(__dirname, '../fixtures/good/minimal'), root, { recursive: true });
  const built = buildFactory(await readTree(root));
  const f = built.factory!;
  const t = f.targets[0]!;
  const repo = `${NS}/${t.product.product.doc.image}`;
  const currentKey = keyTag(new Renderer().key(t));
  const published = t.mergedTags[0]!.slice(t.mergedTags[0]!.lastIndexOf(':') + 1);

  // The current target's image: old, but its key is current.
  const cur = await image(repo, 'current build', daysAgo(100));
  await pushIndex(reg.host, repo, currentKey, [cur]);
  // A stale key, old: goes, with its cosign signature.
  const staleOld = await image(repo, 'stale old build', daysAgo(100), `bk-${'a'.repeat(64)}`);
  await image(repo, 'signature of the stale build', daysAgo(100), `sha256-${staleOld.digest.slice(7)}.sig`);
  // A stale key younger than keepDays (30): stays.
  const staleYoung = await image(repo, 'stale young build', daysAgo(2), `bk-${'b'.repeat(64)}`);
  // A stale key whose digest a product published and cosign signed: the release stays whole.
  const released = await image(repo, 'released build', daysAgo(200), `bk-${'c'.repeat(64)}`);
  const raw = (await client.getManifest(`${reg.host}/${repo}@${released.digest}`)).raw;
  const release = await pushManifest(reg.host, repo, published, JSON.parse(new TextDecoder().decode(raw)) as object, MEDIA_TYPES.ociManifest);
  expect(release.digest).toBe(released.digest);
  await image(repo, 'signature of the release', daysAgo(200), `sha256-${released.digest.slice(7)}.sig`);
  await image(repo, 'attestation of the release', daysAgo(200), `sha256-${released.digest.slice(7)}.att`);
  // Cache refs: the current target's (kept), a removed target's (old: goes), the shared one.
  const currentCache = cacheTag(t.name);
  await image(`${NS}/cache`, 'cache of a current target', daysAgo(90), currentCache);
  await image(`${NS}/cache`, 'cache of a removed target', daysAgo(90), 'removed-target-amd64');
  await image(`${NS}/cache`, 'shared cache', daysAgo(90), 'shared-amd64');
  // A product that no longer exists: only the catalog shows it.
  await image(`${NS}/retired-product`, 'retired build', daysAgo(60), `bk-${'d'.repeat(64)}`);
  await image(`${NS}/retired-product`, 'retired release', daysAgo(60), '0.9.0');
  seeded = { repo, currentKey, published, staleOld, staleYoung, released, currentCache };
  // A month of record history past Policy history.rawDays (default 90): gc folds it.
  const record = JSON.parse(
    readFileSync(path.resolve(__dirname, '../obs/fixtures/records/llm-runtime/1.4.0/llm-runtime-profileslim-amd64.json'), 'utf8'),
  ) as object;
  mkdirSync(path.join(root, 'records/history/2025'), { recursive: true });
  writeFileSync(path.join(root, 'records/history/2025/01.jsonl'), `${JSON.stringify(record)}\n`);
}, 60_000);

afterAll(async () => {
  await reg?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('factory gc (needs the docker-registry binary the sandbox installs)', () => {
  it('lists in a dry run, deletes unreferenced old tags for real, and keeps everything referenced', async () => {
    const env = { REGISTRY: `${reg.host}/${NS}`, CACHE_REPO: '' };
    const before = await snapshot();
    const { repo, currentKey, published, staleOld, released, currentCache } = seeded;

    const dry = await factory(env, '--json', 'gc', '--dry-run');
    expect(dry.err).toBe('');
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.out) as GcReport;
    const deletes = plan.decisions.filter((d) => d.action === 'delete').map((d) => `${d.repository}:${d.tag}`);
    expect(deletes.sort()).toEqual(
      [
        `${repo}:bk-${'a'.repeat(64)}`,
        `${repo}:sha256-${staleOld.digest.slice(7)}.sig`,
        `${NS}/cache:removed-target-amd64`,
        `${NS}/retired-product:bk-${'d'.repeat(64)}`,
      ].sort(),
    );
    const kept = Object.fromEntries(plan.decisions.filter((d) => d.action === 'keep').map((d) => [`${d.repository}:${d.tag}`, d.why]));
    expect(kept[`${repo}:${currentKey}`]).toBe('build key of a current target');
    expect(kept[`${repo}:bk-${'b'.repeat(64)}`]).toMatch(/^2 days old, kept 30$/);
    expect(kept[`${repo}:bk-${'c'.repeat(64)}`]).toMatch(/named by a kept tag/);
    expect(kept[`${NS}/cache:${currentCache}`]).toBe('cache of a current target');
    expect(plan.deleted).toBe(0);
    expect(plan.history).toEqual(['records/history/2025/01.jsonl']);
    expect(existsSync(path.join(root, 'records/history/2025/01.jsonl'))).toBe(true);
    expect(await snapshot()).toEqual(before);

    const text = await factory(env, 'gc', '--dry-run');
    expect(text.out).toContain(`would delete  ${NS}/cache:removed-target-amd64`);
    expect(text.out).toMatch(/gc: would delete 4 manifests/);

    const real = await factory(env, '--json', 'gc');
    expect(real.code).toBe(0);
    const report = JSON.parse(real.out) as GcReport;
    expect(report.deleted).toBe(4);
    // The history compaction of the record job (src/action/history.ts): the month is folded.
    expect(report.history).toEqual(['records/history/2025/01.aggregate.json', 'records/history/2025/01.jsonl']);
    expect(existsSync(path.join(root, 'records/history/2025/01.jsonl'))).toBe(false);
    expect(JSON.parse(readFileSync(path.join(root, 'records/history/2025/01.aggregate.json'), 'utf8'))).toMatchObject({ month: '2025-01' });
    const after = await snapshot();
    const gone = Object.entries(before).flatMap(([r, tags]) => tags.filter((t) => !(after[r] ?? []).includes(t)).map((t) => `${r}:${t}`));
    expect(gone.sort()).toEqual(deletes.sort());
    // What must survive: the published tag, the released digest and its signature and attestation.
    expect(after[repo]).toEqual(
      expect.arrayContaining([
        published,
        currentKey,
        `bk-${'c'.repeat(64)}`,
        `sha256-${released.digest.slice(7)}.sig`,
        `sha256-${released.digest.slice(7)}.att`,
      ]),
    );
    expect(after[`${NS}/retired-product`]).toEqual(['0.9.0']);
    expect(after[`${NS}/cache`]).toEqual([currentCache, 'shared-amd64'].sort());
    expect(await client.manifestExists(`${reg.host}/${repo}@${staleOld.digest}`)).toBe(false);
    expect(await client.manifestExists(`${reg.host}/${repo}@${released.digest}`)).toBe(true);
    const figures = report.repositories.map((r) => `${r.repository} ${r.tagsBefore}->${r.tagsAfter}`).join(', ');
    console.log(`gc figures (tags before->after): ${figures}`);

    // A second run finds nothing more to do.
    const again = JSON.parse((await factory(env, '--json', 'gc')).out) as GcReport;
    expect(again.deleted).toBe(0);
  });

  it('bad input: registry down, malformed policy -> a clear message, exit 1, nothing deleted', async () => {
    const before = await snapshot();
    const down = await factory({ REGISTRY: '127.0.0.1:9/acme' }, 'gc');
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/factory gc: cannot reach registry 127\.0\.0\.1:9 .*Nothing was deleted\./);
    expect(down.err).not.toMatch(/\n\s+at /);

    const noRegistry = await factory({ REGISTRY: '' }, 'gc');
    expect(noRegistry.code).toBe(2);
    expect(noRegistry.err).toContain('factory gc needs the registry');

    const policy = path.join(root, 'manifests/policy.yaml');
    writeFileSync(policy, 'kind: Policy\nretention:\n  keepDays: -3\n');
    const bad = await factory({ REGISTRY: `${reg.host}/${NS}` }, 'gc');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/manifests\/policy\.yaml:3:\d+.*keepDays/);
    expect(bad.err).not.toMatch(/\n\s+at /);
    writeFileSync(policy, 'kind: Policy\nretention:\n  poolArtifactDays:\n    gpu: 3\n');
    const pool = await factory({ REGISTRY: `${reg.host}/${NS}` }, 'gc');
    expect(pool.code).toBe(1);
    expect(pool.err).toMatch(/manifests\/policy\.yaml:4:\d+: error\[unknown-pool\].*retention\.poolArtifactDays names pool "gpu"/);
    expect(pool.err).toContain('use one of: amd64, arm64');
    rmSync(policy);
    expect(await snapshot()).toEqual(before);
    expect(readFileSync(path.join(root, 'manifests/factory.yaml'), 'utf8')).toContain('kind: Base');
  });
});
