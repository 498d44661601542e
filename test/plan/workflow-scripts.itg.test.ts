// The plan step's script (scripts/workflow/plan.sh), run for real with bash against a stub
// `node` that records its arguments: the event handling. Merge and summary are `factory`
// subcommands now: test/cli/publish.test.ts and publish.itg.test.ts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PLAN_SCRIPT_PATH } from '../../generators/workflow.js';
import { REPO_ROOT } from './workflow-factories.js';

const PLAN_SCRIPT = fs.readFileSync(path.join(REPO_ROOT, PLAN_SCRIPT_PATH), 'utf8');

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

/** Runs a script in a scratch dir where `docker` and `node` are stubs that log their arguments. */
function run(script: string, env: Record<string, string>, files: Record<string, string> = {}, npmStdout = '{}'): Run {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-script-'));
  dirs.push(dir);
  const bin = path.join(dir, '.bin');
  fs.mkdirSync(bin);
  for (const tool of ['docker', 'node']) {
    const out = tool === 'node' ? `printf '%s' '${npmStdout}'` : 'true';
    fs.writeFileSync(
      path.join(bin, tool),
      `#!/bin/sh\nprintf '${tool}' >> "$CALLS"; for a in "$@"; do printf ' %s' "$a" >> "$CALLS"; done; echo >> "$CALLS"\n${out}\n`,
      { mode: 0o755 },
    );
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
  // The real node stays reachable for nothing: the stub is first on PATH.
  const r = spawnSync('/bin/bash', ['-e', '-c', script], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: `${bin}:${process.env.PATH}`, CALLS: calls, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, ...env },
  });
  const outputs = Object.fromEntries(
    fs
      .readFileSync(output, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
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

const NO_INPUTS = {
  INPUT_PRODUCT: '',
  INPUT_PLATFORMS: '',
  INPUT_PUSH: '',
  INPUT_PROMOTE: '',
  INPUT_FORCE: '',
  PR_BASE_SHA: '',
  PUSH_BEFORE: '',
  FACTORY_REGISTRY: '',
};

describe('plan step', () => {
  it.each([
    ['pull_request', { PR_BASE_SHA: 'abc123' }, 'node bin/factory.js plan --json --check-registry --github-output OUT --base abc123 --head HEAD', 'false'],
    [
      'push from a new branch',
      { EVENT_NAME: 'push', PUSH_BEFORE: '0000000000000000000000000000000000000000' },
      'node bin/factory.js plan --json --check-registry --github-output OUT --all --push',
      'true',
    ],
    [
      'workflow_dispatch with every input',
      {
        EVENT_NAME: 'workflow_dispatch',
        INPUT_PRODUCT: 'llm-runtime@1.4.0',
        INPUT_PLATFORMS: 'linux/arm64',
        INPUT_PUSH: 'true',
        INPUT_PROMOTE: 'stable',
        INPUT_FORCE: 'true',
      },
      'node bin/factory.js plan --json --check-registry --github-output OUT --all --product llm-runtime@1.4.0 --platforms linux/arm64 --promote stable --force --push',
      'true',
    ],
    [
      'workflow_dispatch without push',
      { EVENT_NAME: 'workflow_dispatch', INPUT_PUSH: 'false' },
      'node bin/factory.js plan --json --check-registry --github-output OUT --all',
      'false',
    ],
    // The base watch ran first: its commit (HEAD) against the one it started from plans the moved bases' targets.
    [
      'schedule after the base watch moved a pin',
      { EVENT_NAME: 'schedule', WATCH_MOVED: 'true', WATCH_BASE: 'def456', WATCH_SHA: 'a'.repeat(40) },
      'node bin/factory.js plan --json --check-registry --github-output OUT --base def456 --head HEAD --push',
      'true',
    ],
    [
      'schedule with every pin current',
      { EVENT_NAME: 'schedule', WATCH_MOVED: 'false' },
      'node bin/factory.js plan --json --check-registry --github-output OUT --base HEAD --head HEAD --push',
      'true',
    ],
  ])('%s', (_name, env, call, push) => {
    const r = run(PLAN_SCRIPT, { ...NO_INPUTS, EVENT_NAME: 'pull_request', OWNER: 'Example-Org', ...env });
    expect(r.code, r.stdout).toBe(0);
    expect(r.calls.map((c) => c.replace(/--github-output \S+/, '--github-output OUT'))).toEqual([call]);
    // ref: the base watch's commit, for the legs to build; only when the watch moved a pin.
    const ref = (env as { WATCH_SHA?: string }).WATCH_SHA;
    expect(r.output).toEqual({ registry: 'ghcr.io/example-org', 'registry-host': 'ghcr.io', push, ...(ref ? { ref } : {}) });
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
