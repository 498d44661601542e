// `factory merge` and `factory summary` on fixture files (test/cli/fixtures/publish): a plan with
// one manifest list per case and the result files its legs left. The merge runs with a recording
// exec; the real `buildx imagetools create` runs in publish.itg.test.ts on the sandbox registry.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/cli.js';
import type { CommandContext } from '../../src/cli/commands.js';
import type { Io } from '../../src/cli/output.js';
import { mergeCommand, type Exec, type MergeRegistry } from '../../src/cli/publish.js';

const FIXTURE = path.join(__dirname, 'fixtures/publish');
// Paths as the workflow gives them: relative to the workspace (--root).
const PLAN = 'plan.json';
const RESULTS = 'results';
const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const C = `sha256:${'c'.repeat(64)}`;
const D = `sha256:${'d'.repeat(64)}`;

/**
 * The registry and cosign as the merge sees them: every source verifies (tags pinned to D) but
 * those named untrusted; each list tag reads back as digest E.
 */
function registry(untrusted: Record<string, string> = {}): MergeRegistry & { verified: string[] } {
  const verified: string[] = [];
  return {
    verified,
    async verify(ref) {
      verified.push(ref);
      if (untrusted[ref]) return { ok: false, why: untrusted[ref] };
      return { ok: true, pinned: ref.includes('@') ? ref : `${ref.slice(0, ref.lastIndexOf(':'))}@${D}` };
    },
    async digestOf() {
      return `sha256:${'e'.repeat(64)}`;
    },
  };
}

let dir: string;
const savedEnv = { ...process.env };
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-publish-'));
  process.env.GITHUB_STEP_SUMMARY = path.join(dir, 'step-summary.md');
  process.env.GITHUB_ACTIONS = 'true';
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  process.env = { ...savedEnv };
});

function capture(): { io: Io; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), color: false }, out: () => out, err: () => err };
}

async function merge(exec: Exec, values: Record<string, string | boolean> = {}, reg: MergeRegistry = registry()) {
  const c = capture();
  const ctx: CommandContext = {
    io: c.io,
    root: FIXTURE,
    json: false,
    values: { plan: PLAN, results: RESULTS, ...values },
    positionals: [],
    load: () => Promise.reject(new Error('unused')),
  };
  const code = await mergeCommand(ctx, ['docker', 'buildx'], exec, reg);
  return { code, out: c.out(), err: c.err() };
}

const recording = (codeFor: (args: readonly string[]) => number = () => 0) => {
  const calls: string[] = [];
  const exec: Exec = async (cmd, args) => {
    calls.push([cmd, ...args].join(' '));
    return { code: codeFor(args), output: codeFor(args) === 0 ? '' : 'error: failed to push ghcr.io/acme/factory/tools:2.1.0: 403 Forbidden\n' };
  };
  return { calls, exec };
};

describe('factory merge', () => {
  it('publishes exactly the lists whose every platform has an image, by digest or by build key', async () => {
    const { calls, exec } = recording();
    const r = await merge(exec);
    expect(calls).toEqual([
      `docker buildx imagetools create --tag ghcr.io/acme/factory/tools:2.1.0 --tag ghcr.io/acme/factory/tools:stable ghcr.io/acme/factory/tools@${A} ghcr.io/acme/factory/tools@${B}`,
      // The build-key image by the digest it verified at: the tag could move in between.
      `docker buildx imagetools create --tag ghcr.io/acme/factory/py:1.0.0 ghcr.io/acme/factory/py@${C} ghcr.io/acme/factory/py@${D}`,
    ]);
    expect(r.code).toBe(1);
    expect(fs.readFileSync(process.env.GITHUB_STEP_SUMMARY!, 'utf8')).toBe(
      'published ghcr.io/acme/factory/tools: 2.1.0 stable from 2 platform image(s)\npublished ghcr.io/acme/factory/py: 1.0.0 from 2 platform image(s)\n',
    );
  });

  it.each([
    ['gone', 'linux/amd64 (target gone-amd64 is neither built in this run nor in the registry)'],
    ['failing', 'linux/arm64 (target failing-arm64 failed: test `python` failed: exit 1 | see report)'],
    ['forged', 'linux/amd64 (the result file of forged-amd64 names target tools-amd64)'],
    ['unpushed', 'linux/amd64 (target unpushed-amd64 pushed no image)'],
    ['cancelled', 'linux/amd64 (target cancelled-amd64 left no result: it did not run or was cancelled)'],
    ['garbled', 'linux/amd64 (target garbled-amd64 left an unreadable result: '],
  ])('refuses the %s list, naming the platform and why', async (list, why) => {
    const { exec } = recording();
    const r = await merge(exec);
    const line = r.out.split('\n').find((l) => l.includes(`factory/${list}:1 is missing`));
    expect(line, r.out).toBeDefined();
    expect(line!.startsWith('::error title=factory merge refused::ghcr.io/acme/factory/')).toBe(true);
    expect(line).toContain(why);
    expect(line).toMatch(/; not publishing a partial manifest list$/);
  });

  it('verifies every source before it writes a list, refusing one with an unsigned image and publishing the others', async () => {
    const { calls, exec } = recording();
    const reg = registry({ 'ghcr.io/acme/factory/py:bk-py-arm64': 'sha256:dd is not signed by the key cosign.pub (no signatures found)' });
    const r = await merge(exec, { published: path.join(dir, 'published.txt'), checksums: path.join(dir, 'published.sha256') }, reg);
    expect(reg.verified).toEqual([
      `ghcr.io/acme/factory/tools@${A}`,
      `ghcr.io/acme/factory/tools@${B}`,
      `ghcr.io/acme/factory/py@${C}`,
      'ghcr.io/acme/factory/py:bk-py-arm64',
    ]);
    expect(calls).toHaveLength(1);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      '::error title=factory merge refused::ghcr.io/acme/factory/py:1.0.0: ghcr.io/acme/factory/py:bk-py-arm64: sha256:dd is not signed by the key cosign.pub (no signatures found); not publishing a list with an unverified image',
    );
    // What it did publish is listed for the signing step (and actions/attest).
    const E = 'e'.repeat(64);
    expect(fs.readFileSync(path.join(dir, 'published.txt'), 'utf8')).toBe(`ghcr.io/acme/factory/tools@sha256:${E}\n`);
    expect(fs.readFileSync(path.join(dir, 'published.sha256'), 'utf8')).toBe(`${E}  ghcr.io/acme/factory/tools\n`);
  });

  it('fails when imagetools fails, and still publishes the other lists', async () => {
    const { calls, exec } = recording((args) => (args.includes('ghcr.io/acme/factory/tools:2.1.0') ? 1 : 0));
    const r = await merge(exec);
    expect(calls).toHaveLength(2);
    expect(r.code).toBe(1);
    expect(r.out).toContain('::error title=factory merge failed::ghcr.io/acme/factory/tools:2.1.0: imagetools create exited 1: error: failed to push');
    expect(r.out).toContain('published ghcr.io/acme/factory/py: 1.0.0 from 2 platform image(s)');
  });

  it('succeeds when every list is whole', async () => {
    const plan = JSON.parse(fs.readFileSync(path.join(FIXTURE, PLAN), 'utf8'));
    plan.merges = plan.merges.slice(0, 2);
    fs.writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(plan));
    const { calls, exec } = recording();
    const r = await merge(exec, { plan: path.join(dir, 'plan.json') });
    expect([r.code, calls.length]).toEqual([0, 2]);
  });

  it('prints the commands with --dry-run through the CLI, running nothing', async () => {
    const c = capture();
    const code = await run(['--root', FIXTURE, 'merge', '--plan', PLAN, '--results', RESULTS, '--dry-run'], c.io);
    expect(code).toBe(1);
    expect(
      c
        .out()
        .split('\n')
        .filter((l) => l.includes('imagetools create')),
    ).toHaveLength(2);
    expect(fs.existsSync(process.env.GITHUB_STEP_SUMMARY!)).toBe(false);
  });

  it.each([
    ['a missing plan', undefined, /^factory merge: cannot read the plan .*nope\.json \(ENOENT\); download the factory-plan artifact first\n$/],
    ['a plan that is not JSON', '{', /plan\.json: not JSON/],
    ['a plan of another version', JSON.stringify({ version: 2 }), /plan\.json: version: .*\(a plan of another factory version\? re-run the workflow\)/],
    [
      'a plan with a hostile image name',
      JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(FIXTURE, PLAN), 'utf8')), merges: [{ image: 'x y; rm -rf /', tags: ['1'], sources: [] }] }),
      /merges\.0\.image: must be a repository path/,
    ],
  ])('refuses %s with a located message (exit 1)', async (_name, text, message) => {
    const file = path.join(dir, text === undefined ? 'nope.json' : 'plan.json');
    if (text !== undefined) fs.writeFileSync(file, text);
    const c = capture();
    expect(await run(['--root', FIXTURE, 'merge', '--plan', file, '--results', RESULTS], c.io)).toBe(1);
    expect(c.err()).toMatch(message);
  });
});

describe('factory summary', () => {
  it('writes the plan and each result as a table, every pull-request value a code span', async () => {
    const c = capture();
    const out = path.join(dir, 'summary.md');
    expect(await run(['--root', FIXTURE, 'summary', '--plan', PLAN, '--results', RESULTS, '--out', out], c.io)).toBe(0);
    const md = fs.readFileSync(out, 'utf8');
    expect(md).toBe(fs.readFileSync(path.join(FIXTURE, 'summary.md'), 'utf8'));
    expect(fs.readFileSync(process.env.GITHUB_STEP_SUMMARY!, 'utf8')).toBe(md);
  });
});

describe('the run summary', () => {
  it('says which targets were rebuilt because the image under their build key did not verify', async () => {
    const plan = JSON.parse(fs.readFileSync(path.join(FIXTURE, PLAN), 'utf8'));
    plan.affected[0].untrusted = `${D} is not signed by the key cosign.pub (no signatures found)`;
    fs.writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(plan));
    const c = capture();
    const out = path.join(dir, 'summary.md');
    expect(await run(['--root', FIXTURE, 'summary', '--plan', path.join(dir, 'plan.json'), '--results', RESULTS, '--out', out], c.io)).toBe(0);
    const md = fs.readFileSync(out, 'utf8');
    expect(md).toContain(
      `Rebuilt, not reused: the image under the build key is not trusted:\n\n- \`${plan.affected[0].target}\`: \`${D} is not signed by the key cosign.pub (no signatures found)\``,
    );
  });
});
