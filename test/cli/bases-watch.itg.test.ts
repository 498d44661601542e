// The base-image watch (`factory bases watch`) against a real registry (Debian's docker-registry,
// as scripts/sandbox.sh runs it) and real git: the sample factory's three bases are pinned, a
// new image is pushed under one Base's tag, the watch moves that pin (stamped with when it first
// saw the digest), and the plan of the commit with the new pin lists exactly the targets on that
// base.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/cli.js';
import type { Io } from '../../src/cli/output.js';
import type { WatchReport } from '../../src/cli/bases.js';
import { pushImage, startTestRegistry, type TestRegistry } from '../../src/registry/testing.js';
import { git } from '../plan/repo.js';

const SAMPLE = path.resolve(__dirname, '../..');
let reg: TestRegistry;
let root: string;
const images: Record<string, string> = {};

async function factory(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), color: false };
  const code = await run(['--root', root, ...argv], io);
  return { code, out, err };
}

const push = (base: string, layer: string) =>
  pushImage(reg.host, `base/${base}`, { platform: { os: 'linux', architecture: 'amd64' }, labels: {}, layer }, images[base]!.split(':').at(-1));
const lockOf = () => JSON.parse(readFileSync(path.join(root, 'factory.lock.json'), 'utf8')) as { bases: Record<string, { digest: string; seen?: string }> };

beforeAll(async () => {
  reg = await startTestRegistry();
  root = mkdtempSync(path.join(os.tmpdir(), 'factory-watch-'));
  for (const p of ['manifests', 'templates', 'fragments', 'factory.lock.json']) cpSync(path.join(SAMPLE, p), path.join(root, p), { recursive: true });
  const file = path.join(root, 'manifests/bases.yaml');
  let text = readFileSync(file, 'utf8');
  for (const [name, tag] of [
    ['debian', 'bookworm-slim'],
    ['busybox', '1.36-musl'],
    ['cuda', '12.4.1'],
  ]) {
    images[name!] = `${reg.host}/base/${name}:${tag}`;
    text = text.replace(new RegExp(`image: \\S+/${name === 'cuda' ? 'nvidia/cuda' : `library/${name}`}:\\S+`), `image: ${images[name!]}`);
  }
  writeFileSync(file, text);
  for (const b of Object.keys(images)) await push(b, `${b} first build`);
  git(root, 'init', '-q', '-b', 'main');
  expect((await factory('lock', '--resolve-bases')).code).toBe(0);
  expect((await factory('generate')).code).toBe(0);
  git(root, 'add', '-A');
  git(root, 'commit', '-qm', 'pinned');
}, 120_000);

afterAll(async () => {
  await reg?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('factory bases watch (needs the docker-registry binary the sandbox installs)', () => {
  it('moves the pin of a moved tag and plans exactly the targets on that base', async () => {
    const quiet = await factory('bases', 'watch');
    expect(quiet.code).toBe(0);
    expect(quiet.out).toContain('every base pin is current');

    const pinned = lockOf().bases.busybox!.digest;
    const patched = await push('busybox', 'busybox, security rebuild');
    const t0 = Date.now();
    const seen = JSON.parse((await factory('--json', 'bases', 'watch')).out) as WatchReport;
    expect(seen.moved).toBe(true);
    expect(seen.written).toBe(false);
    expect(seen.bases.filter((b) => b.moved).map((b) => b.name)).toEqual(['busybox']);
    const busybox = seen.bases.find((b) => b.name === 'busybox')!;
    expect(busybox).toMatchObject({ pinned, current: patched.digest });
    expect(lockOf().bases.busybox!.digest).toBe(pinned); // no --write, nothing written

    const list = JSON.parse((await factory('--json', 'list')).out) as { target: string; base: string }[];
    const onBusybox = list
      .filter((t) => t.base.startsWith(images.busybox!))
      .map((t) => t.target)
      .sort();
    expect(onBusybox.length).toBeGreaterThan(0);
    expect(onBusybox.length).toBeLessThan(list.length);
    expect(seen.targets).toEqual(onBusybox);

    const text = await factory('bases', 'watch', '--write');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/busybox\s+moved/);
    expect(text.out).toContain('factory.lock.json updated');
    const pin = lockOf().bases.busybox!;
    expect(pin.digest).toBe(patched.digest);
    expect(Date.parse(pin.seen!)).toBeGreaterThanOrEqual(Math.floor(t0 / 1000) * 1000);
    expect(lockOf().bases.debian!.seen).toBeUndefined(); // an unmoved pin is left as it was

    // The generated bake file takes the new pin; the plan of the commit sees the pin change.
    expect((await factory('generate')).code).toBe(0);
    git(root, 'add', '-A');
    git(root, 'commit', '-qm', 'base watch: busybox');
    const plan = JSON.parse((await factory('--json', 'plan', '--base', 'HEAD~1')).out) as { affected: { target: string; reasons: { kind: string }[] }[] };
    expect(plan.affected.map((a) => a.target).sort()).toEqual(onBusybox);
    // Every one for the base pin (the rendered Dockerfiles, which name the digest, changed too).
    for (const a of plan.affected) expect(a.reasons.map((r) => r.kind)).toContain('base');

    // A later run against the watch branch's lock keeps the first sighting.
    const prev = path.join(root, 'previous.lock.json');
    writeFileSync(prev, readFileSync(path.join(root, 'factory.lock.json')));
    git(root, 'checkout', '-q', 'HEAD~1', '--', 'factory.lock.json');
    const again = JSON.parse((await factory('--json', 'bases', 'watch', '--previous', prev)).out) as WatchReport;
    expect(again.bases.find((b) => b.name === 'busybox')!.seen).toBe(pin.seen);
    git(root, 'checkout', '-q', 'HEAD', '--', 'factory.lock.json');
  });

  it('bad input: an unknown Base, the registry down -> a clear message, exit 1, nothing written', async () => {
    const before = readFileSync(path.join(root, 'factory.lock.json'), 'utf8');
    const unknown = await factory('bases', 'watch', '--write', '--base', 'alpine');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("--base alpine: no Base document has that name; the factory's bases are busybox, cuda, debian");

    await push('debian', 'debian, moved while the registry is about to go');
    const file = path.join(root, 'manifests/bases.yaml');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(images.cuda!, '127.0.0.1:9/base/cuda:12.4.1'));
    const down = await factory('bases', 'watch', '--write');
    expect(down.code).toBe(1);
    expect(down.err).toMatch(
      /base 'cuda' \(manifests\/bases\.yaml\): cannot resolve 127\.0\.0\.1:9\/base\/cuda:12\.4\.1 through the registry: cannot reach registry.*\(nothing was written\)/,
    );
    expect(down.err).not.toMatch(/\n\s+at /);
    expect(readFileSync(path.join(root, 'factory.lock.json'), 'utf8')).toBe(before);
    writeFileSync(file, text);

    const sub = await factory('bases', 'list');
    expect(sub.code).toBe(2);
    expect(sub.err).toContain("unknown subcommand 'list'");
  });
});
