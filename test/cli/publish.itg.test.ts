// `factory merge` with the real `buildx imagetools create` against the sandbox registry: a list
// from an image pushed in this run (by digest) and one already there under its build key, and
// a refused list that leaves the registry untouched. Needs the sandbox (scripts/sandbox.sh up);
// fails, does not skip, when it is down.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/cli.js';
import { resolveBuildx } from '../../src/cli/commands.js';
import type { Io } from '../../src/cli/output.js';
import { serializeJobResult } from '../../src/core/job-result.js';

const REPO = path.resolve(__dirname, '../..');
let registry = '';
const buildx = resolveBuildx();
const dirs: string[] = [];
const saved = { ...process.env };

function imagetools(...args: string[]): { code: number; out: string } {
  const [cmd, ...pre] = buildx;
  const r = spawnSync(cmd!, [...pre, 'imagetools', ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

interface Index {
  manifests: { digest: string; platform?: { architecture: string; os: string } }[];
}
const raw = (ref: string): Index => JSON.parse(imagetools('inspect', '--raw', ref).out) as Index;

beforeAll(() => {
  const env = execFileSync(path.join(REPO, 'scripts/sandbox.sh'), ['env'], { encoding: 'utf8' });
  const vars = Object.fromEntries(
    env
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  registry = vars.REGISTRY ?? '';
  if (!registry || !vars.BASE_BUSYBOX) throw new Error('the sandbox is not up: run scripts/sandbox.sh up (as root)');
  process.env.BUILDX_BUILDER = vars.BUILDX_BUILDER;
});
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  process.env = { ...saved };
});

/** A workspace with plan.json and results/, and platform images in a fresh repository. */
function workspace(arm64: 'existing' | 'missing') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-merge-itg-'));
  dirs.push(dir);
  const image = `itg/merge-${crypto.randomBytes(4).toString('hex')}`;
  const repo = `${registry}/${image}`;
  // The busybox base of the sandbox is a two-platform index: its manifests stand for the images
  // the legs pushed. amd64 is "pushed in this run" (by digest), arm64 "already there" (key tag).
  const base = raw(`${registry}/base/busybox:stable`).manifests;
  const digestOf = (arch: string) => base.find((m) => m.platform?.architecture === arch)!.digest;
  expect(imagetools('create', '--tag', `${repo}:leg-amd64`, `${registry}/base/busybox@${digestOf('amd64')}`).code).toBe(0);
  if (arm64 === 'existing') expect(imagetools('create', '--tag', `${repo}:bk-arm64key`, `${registry}/base/busybox@${digestOf('arm64')}`).code).toBe(0);
  const plan = {
    version: 1,
    registry,
    affected: [],
    removed: [],
    summary: { targets: 2, affected: 1, build: 1, skipped: 0 },
    merges: [
      {
        image,
        tags: ['1.0.0', 'stable'],
        sources: [
          { target: 'm-amd64', platform: 'linux/amd64', status: 'build', keyTag: 'bk-amd64key' },
          { target: 'm-arm64', platform: 'linux/arm64', status: arm64, keyTag: 'bk-arm64key' },
        ],
      },
    ],
  };
  fs.writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(plan));
  fs.mkdirSync(path.join(dir, 'results'));
  fs.writeFileSync(
    path.join(dir, 'results/m-amd64.json'),
    serializeJobResult({ version: 1, target: 'm-amd64', result: 'passed', attempts: 1, pushed: true, digest: digestOf('amd64'), refs: [`${repo}:leg-amd64`] }),
  );
  return { dir, repo, amd64: digestOf('amd64'), arm64: digestOf('arm64') };
}

async function merge(dir: string) {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), color: false };
  const code = await run(['--root', dir, 'merge'], io);
  return { code, out, err };
}

describe('factory merge on the sandbox registry', () => {
  it('publishes a two-platform list under every tag from a pushed digest and a build-key image', async () => {
    const w = workspace('existing');
    const r = await merge(w.dir);
    expect(r.code, `${r.out}${r.err}`).toBe(0);
    for (const tag of ['1.0.0', 'stable']) {
      const list = raw(`${w.repo}:${tag}`);
      expect(list.manifests.map((m) => [m.platform?.os, m.platform?.architecture, m.digest])).toEqual([
        ['linux', 'amd64', w.amd64],
        ['linux', 'arm64', w.arm64],
      ]);
    }
    expect(r.out).toContain(`published ${w.repo}: 1.0.0 stable from 2 platform image(s)`);
  });

  it('refuses a list with a platform that is nowhere, and publishes nothing', async () => {
    const w = workspace('missing');
    const r = await merge(w.dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`factory merge refused: ${w.repo}:1.0.0 is missing linux/arm64 (target m-arm64 is neither built in this run nor in the registry)`);
    expect(imagetools('inspect', '--raw', `${w.repo}:1.0.0`).code).not.toBe(0);
  });
});
