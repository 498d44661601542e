// `factory merge` with the real `buildx imagetools create` against the sandbox registry: a list
// from an image pushed in this run (by digest) and one already there under its build key, and
// a refused list that leaves the registry untouched. The platform images are small real builds
// with provenance, signed with a generated cosign key (merge verifies every source). Needs the
// sandbox (scripts/sandbox.sh up); fails, does not skip, when it is down.
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
import { sandboxVars } from '../sandbox-env.js';

let registry = '';
const buildx = resolveBuildx();
const dirs: string[] = [];
const saved = { ...process.env };
const GOBIN = path.join(execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim(), 'bin');
let keys = '';
let busybox = '';

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
  const vars = sandboxVars();
  registry = vars.REGISTRY ?? '';
  if (!registry || !vars.BASE_BUSYBOX) throw new Error('the sandbox is not up: run scripts/sandbox.sh up (as root)');
  busybox = vars.BASE_BUSYBOX;
  process.env.BUILDX_BUILDER = vars.BUILDX_BUILDER;
  process.env.PATH = `${GOBIN}:${process.env.PATH}`;
  process.env.COSIGN_PASSWORD = '';
  keys = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-merge-keys-'));
  dirs.push(keys);
  execFileSync('cosign', ['generate-key-pair'], { cwd: keys, stdio: 'pipe' });
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
  // Each leg's image as a leg pushes it: an index of the platform image and its provenance,
  // signed. amd64 is "pushed in this run" (by digest), arm64 "already there" (key tag).
  const legs: Record<string, string> = { amd64: build(dir, `${repo}:leg-amd64`, 'amd64') };
  if (arm64 === 'existing') legs.arm64 = build(dir, `${repo}:bk-arm64key`, 'arm64');
  const digestOf = (arch: string) => (raw(`${repo}@${legs[arch]}`).manifests.find((m) => m.platform?.architecture === arch) ?? { digest: 'none' }).digest;
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
    serializeJobResult({ version: 1, target: 'm-amd64', result: 'passed', attempts: 1, pushed: true, digest: legs.amd64!, refs: [`${repo}:leg-amd64`] }),
  );
  fs.copyFileSync(path.join(keys, 'cosign.pub'), path.join(dir, 'cosign.pub'));
  return { dir, repo, amd64: digestOf('amd64'), arm64: legs.arm64 ? digestOf('arm64') : '' };
}

/** A one-platform image with provenance and source labels, pushed and signed; its index digest. */
function build(dir: string, tag: string, arch: string): string {
  const ctx = fs.mkdtempSync(path.join(dir, 'ctx-'));
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${busybox}\n`);
  const meta = path.join(ctx, 'meta.json');
  const labels = ['source=https://github.com/acme/factory', `revision=${'0123456789abcdef'.repeat(2)}01234567`].flatMap((l) => [
    '--label',
    `org.opencontainers.image.${l}`,
  ]);
  const [cmd, ...pre] = buildx;
  execFileSync(
    cmd!,
    [...pre, 'build', '--platform', `linux/${arch}`, '--provenance', 'mode=min', ...labels, '--metadata-file', meta, '--push', '-t', tag, ctx],
    {
      stdio: 'pipe',
    },
  );
  const digest = (JSON.parse(fs.readFileSync(meta, 'utf8')) as Record<string, string>)['containerimage.digest']!;
  const repo = tag.slice(0, tag.lastIndexOf(':'));
  const args = [
    'sign',
    '--key',
    path.join(keys, 'cosign.key'),
    '--recursive',
    '--tlog-upload=false',
    '--use-signing-config=false',
    '--allow-http-registry',
    '-y',
  ];
  execFileSync('cosign', [...args, `${repo}@${digest}`], { stdio: 'pipe' });
  return digest;
}

async function merge(dir: string) {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), color: false };
  const code = await run(['--root', dir, 'merge', '--verify-key', 'cosign.pub', '--insecure-ignore-tlog'], io);
  return { code, out, err };
}

describe('factory merge on the sandbox registry', () => {
  it('publishes a two-platform list under every tag from a pushed digest and a build-key image', async () => {
    const w = workspace('existing');
    const r = await merge(w.dir);
    expect(r.code, `${r.out}${r.err}`).toBe(0);
    for (const tag of ['1.0.0', 'stable']) {
      // The platform images (the provenance manifests travel with them, platform unknown).
      const list = raw(`${w.repo}:${tag}`);
      expect(list.manifests.filter((m) => m.platform?.os === 'linux').map((m) => [m.platform?.os, m.platform?.architecture, m.digest])).toEqual([
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
