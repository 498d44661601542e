// The generated workflow's shell scripts, run for real with bash against stub `docker`/`npm`
// commands that record their arguments: the event handling of the plan step, the merge job's refusal to publish partial manifest lists, and the summary.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MERGE_SCRIPT, PLAN_SCRIPT, SUMMARY_SCRIPT } from '../../generators/workflow-scripts.js';
import { serializeJobResult } from '../../src/core/job-result.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  calls: string[];
  output: Record<string, string>;
  summary: string;
  dir: string;
}

/** Runs a script in a scratch dir where `docker` and `npm` are stubs that log their arguments. */
function run(script: string, env: Record<string, string>, files: Record<string, string> = {}, npmStdout = '{}'): Run {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-script-'));
  dirs.push(dir);
  const bin = path.join(dir, '.bin');
  fs.mkdirSync(bin);
  for (const tool of ['docker', 'npm']) {
    const out = tool === 'npm' ? `printf '%s' '${npmStdout}'` : 'true';
    fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\nprintf '${tool}' >> "$CALLS"; for a in "$@"; do printf ' %s' "$a" >> "$CALLS"; done; echo >> "$CALLS"\n${out}\n`, { mode: 0o755 });
  }
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  const calls = path.join(dir, '.calls');
  const output = path.join(dir, '.output');
  const summary = path.join(dir, '.summary');
  fs.writeFileSync(calls, '');
  fs.writeFileSync(output, '');
  fs.writeFileSync(summary, '');
  const r = spawnSync('bash', ['-e', '-c', script], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: `${bin}:${process.env.PATH}`, CALLS: calls, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, ...env },
  });
  const outputs = Object.fromEntries(
    fs.readFileSync(output, 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return {
    code: r.status ?? -1,
    stdout: `${r.stdout}${r.stderr}`,
    calls: fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean),
    output: outputs,
    summary: fs.readFileSync(summary, 'utf8'),
    dir,
  };
}

const NO_INPUTS = { INPUT_PRODUCT: '', INPUT_PLATFORMS: '', INPUT_PUSH: '', INPUT_PROMOTE: '', INPUT_FORCE: '', PR_BASE_SHA: '', PUSH_BEFORE: '', FACTORY_REGISTRY: '' };

describe('plan step', () => {
  it.each([
    ['pull_request', { PR_BASE_SHA: 'abc123' }, 'npm run --silent factory -- plan --json --check-registry --github-output OUT --base abc123 --head HEAD', 'false'],
    ['push from a new branch', { EVENT_NAME: 'push', PUSH_BEFORE: '0000000000000000000000000000000000000000' }, 'npm run --silent factory -- plan --json --check-registry --github-output OUT --all', 'true'],
    [
      'workflow_dispatch with every input',
      { EVENT_NAME: 'workflow_dispatch', INPUT_PRODUCT: 'llm-runtime@1.4.0', INPUT_PLATFORMS: 'linux/arm64', INPUT_PUSH: 'true', INPUT_PROMOTE: 'stable', INPUT_FORCE: 'true' },
      'npm run --silent factory -- plan --json --check-registry --github-output OUT --all --product llm-runtime@1.4.0 --platforms linux/arm64 --promote stable --force',
      'true',
    ],
    ['workflow_dispatch without push', { EVENT_NAME: 'workflow_dispatch', INPUT_PUSH: 'false' }, 'npm run --silent factory -- plan --json --check-registry --github-output OUT --all', 'false'],
    ['schedule', { EVENT_NAME: 'schedule' }, 'npm run --silent factory -- plan --json --check-registry --github-output OUT --all --force', 'true'],
  ])('%s', (_name, env, call, push) => {
    const r = run(PLAN_SCRIPT, { ...NO_INPUTS, EVENT_NAME: 'pull_request', OWNER: 'Example-Org', ...env });
    expect(r.code, r.stdout).toBe(0);
    expect(r.calls.map((c) => c.replace(/--github-output \S+/, '--github-output OUT'))).toEqual([call]);
    expect(r.output).toEqual({ registry: 'ghcr.io/example-org', 'registry-host': 'ghcr.io', push });
  });

  it('passes hostile input values as single arguments, never as code', () => {
    const r = run(PLAN_SCRIPT, { ...NO_INPUTS, EVENT_NAME: 'workflow_dispatch', OWNER: 'o', INPUT_PRODUCT: 'x"; touch pwned; echo "$(id)' });
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(r.dir, 'pwned'))).toBe(false);
    expect(r.calls[0]).toContain('--product x"; touch pwned; echo "$(id)');
  });

  it('uses the FACTORY_REGISTRY variable when set', () => {
    const r = run(PLAN_SCRIPT, { ...NO_INPUTS, EVENT_NAME: 'schedule', OWNER: 'o', FACTORY_REGISTRY: 'registry.example.com/team' });
    expect(r.output.registry).toBe('registry.example.com/team');
    expect(r.output['registry-host']).toBe('registry.example.com');
  });

  it('refuses unknown events', () => {
    const r = run(PLAN_SCRIPT, { ...NO_INPUTS, EVENT_NAME: 'pull_request_target', OWNER: 'o' });
    expect(r.code).toBe(1);
    expect(r.calls).toEqual([]);
  });
});

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

function plan(merges: unknown[], affected: unknown[] = []): string {
  return JSON.stringify({ merges, affected, removed: [], summary: { targets: 4, affected: affected.length, build: 2, skipped: 0 } });
}
const source = (target: string, platform: string, status: string) => ({ target, platform, status, keyTag: `bk-${target}` });
// The result files as the action writes them (core/job-result.ts); a digest the schema would
// refuse is written raw, as a forged file would be.
const result = (target: string, r: 'passed' | 'failed' | 'error', digest: string) =>
  /^sha256:[a-f0-9]{64}$/.test(digest)
    ? serializeJobResult({ version: 1, target, result: r, attempts: 1, pushed: true, digest, refs: [] })
    : JSON.stringify({ version: 1, target, result: r, attempts: 1, pushed: true, digest, refs: [] });

describe('merge step', () => {
  const merges = [
    { image: 'factory/tools', tags: ['2.1.0', 'stable'], sources: [source('tools-amd64', 'linux/amd64', 'build'), source('tools-arm64', 'linux/arm64', 'build')] },
    { image: 'factory/py', tags: ['1.0.0'], sources: [source('py-amd64', 'linux/amd64', 'build'), source('py-arm64', 'linux/arm64', 'existing')] },
  ];

  it('publishes every list whose platforms all have an image', () => {
    const r = run(MERGE_SCRIPT, { REGISTRY: 'ghcr.io/o' }, {
      'plan.json': plan(merges),
      'results/tools-amd64.json': result('tools-amd64', 'passed', DIGEST_A),
      'results/tools-arm64.json': result('tools-arm64', 'passed', DIGEST_B),
      'results/py-amd64.json': result('py-amd64', 'passed', DIGEST_A),
    });
    expect(r.code, r.stdout).toBe(0);
    expect(r.calls).toEqual([
      `docker buildx imagetools create --tag ghcr.io/o/factory/tools:2.1.0 --tag ghcr.io/o/factory/tools:stable ghcr.io/o/factory/tools@${DIGEST_A} ghcr.io/o/factory/tools@${DIGEST_B}`,
      `docker buildx imagetools create --tag ghcr.io/o/factory/py:1.0.0 ghcr.io/o/factory/py@${DIGEST_A} ghcr.io/o/factory/py:bk-py-arm64`,
    ]);
  });

  it('refuses a list with a failed or missing platform, and still publishes the others', () => {
    const r = run(MERGE_SCRIPT, { REGISTRY: 'ghcr.io/o' }, {
      'plan.json': plan([...merges, { image: 'factory/gone', tags: ['1'], sources: [source('gone-amd64', 'linux/amd64', 'missing')] }]),
      'results/tools-amd64.json': result('tools-amd64', 'passed', DIGEST_A),
      'results/tools-arm64.json': result('tools-arm64', 'failed', ''),
      'results/py-amd64.json': result('py-amd64', 'passed', DIGEST_A),
    });
    expect(r.code).toBe(1);
    expect(r.calls).toEqual([`docker buildx imagetools create --tag ghcr.io/o/factory/py:1.0.0 ghcr.io/o/factory/py@${DIGEST_A} ghcr.io/o/factory/py:bk-py-arm64`]);
    expect(r.stdout).toContain('::error title=factory merge refused::factory/tools:2.1.0 is missing linux/arm64 (target tools-arm64 did not produce an image)');
    expect(r.stdout).toContain('factory/gone:1 is missing linux/amd64 (target gone-amd64 is neither built in this run nor in the registry)');
  });

  it('refuses a digest that is not a sha256 digest', () => {
    const r = run(MERGE_SCRIPT, { REGISTRY: 'r' }, {
      'plan.json': plan([merges[0]]),
      'results/tools-amd64.json': result('tools-amd64', 'passed', 'sha256:abc; rm -rf /'),
      'results/tools-arm64.json': result('tools-arm64', 'passed', DIGEST_B),
    });
    expect(r.code).toBe(1);
    expect(r.calls).toEqual([]);
  });
});

describe('summary step', () => {
  it('lists affected targets with their plan, result and reason, with markup neutralised', () => {
    const affected = [
      { target: 'tools-amd64', pool: 'amd64', status: 'build', reasons: [{ summary: 'fragment tools@1.0.0 changed' }] },
      { target: 'tools-arm64', pool: 'arm64', status: 'skip', reasons: [{ summary: 'evil `code` | pipe @mention' }] },
      { target: 'py-amd64', pool: 'amd64', status: 'build', reasons: [{ summary: 'x' }] },
    ];
    const r = run(SUMMARY_SCRIPT, {}, { 'plan.json': plan([], affected), 'results/tools-amd64.json': result('tools-amd64', 'passed', DIGEST_A) });
    expect(r.code, r.stdout).toBe(0);
    const md = fs.readFileSync(path.join(r.dir, 'summary.md'), 'utf8');
    expect(md).toContain('| `tools-amd64` | `amd64` | build | passed | `fragment tools@1.0.0 changed` |');
    expect(md).toContain('| `tools-arm64` | `arm64` | skip | - | `evil code  pipe @mention` |');
    expect(md).toContain('| `py-amd64` | `amd64` | build | not run | `x` |');
    expect(r.summary).toBe(md);
  });
});
