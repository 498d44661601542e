// Every generated workflow passes the validators GitHub users rely on:
//  - actionlint (with shellcheck on every run: script), zero findings;
//  - GitHub's own parser, @actions/workflow-parser, no errors;
//  - zizmor (security audit), offline, no finding of medium severity or above.
// Each validator also gets a deliberately broken copy, so a validator that silently checks
// nothing cannot make these tests pass.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticFactory } from '../../bench/synthetic.js';
import { generateWorkflows, POOL_WORKFLOW_PATH, WORKFLOW_PATH } from '../../generators/workflow.js';
import { buildFactory } from '../../src/core/index.js';
import { FACTORY_TREES, loadFactory, REPO_ROOT } from './workflow-factories.js';

const ACTIONLINT = process.env.ACTIONLINT ?? (fs.existsSync('/root/go/bin/actionlint') ? '/root/go/bin/actionlint' : 'actionlint');
const ZIZMOR = process.env.ZIZMOR ?? 'zizmor';

function requireTool(bin: string, install: string): void {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`${bin} is not installed (or not on PATH): ${install}`);
  }
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A scratch repository holding the generated files, action.yml and its entry point. */
function scratchRepo(files: { path: string; text: string }[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-wf-'));
  dirs.push(dir);
  execFileSync('git', ['init', '-q'], { cwd: dir });
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
    fs.writeFileSync(path.join(dir, f.path), f.text);
  }
  // actionlint checks `uses: ./` inputs/outputs against the real action.yml.
  fs.copyFileSync(path.join(REPO_ROOT, 'action.yml'), path.join(dir, 'action.yml'));
  fs.mkdirSync(path.join(dir, 'dist'));
  fs.writeFileSync(path.join(dir, 'dist/index.js'), '');
  return dir;
}

function actionlint(dir: string): string {
  const r = spawnSync(ACTIONLINT, ['-no-color', '-oneline'], { cwd: dir, encoding: 'utf8' });
  if (r.error) throw r.error;
  return `${r.stdout}${r.stderr}`.trim();
}

async function parserErrors(text: string): Promise<string[]> {
  const parsed = parseWorkflow({ name: 'factory.yml', content: text }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    errors.push(...(template.errors ?? []).map((e) => e.Message));
  } else errors.push('no workflow value');
  return errors;
}

interface ZizmorFinding {
  ident: string;
  determinations: { severity: string };
}

function zizmor(dir: string): ZizmorFinding[] {
  const r = spawnSync(ZIZMOR, ['--offline', '--format', 'json', '--no-progress', path.join(dir, WORKFLOW_PATH), path.join(dir, POOL_WORKFLOW_PATH)], {
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  return JSON.parse(r.stdout) as ZizmorFinding[];
}
const atLeastMedium = (f: ZizmorFinding) => ['Medium', 'High'].includes(f.determinations.severity);

// The synthetic factory has more than 256 targets per pool: its workflow has shard jobs.
const SYNTHETIC = 'synthetic-1200';
const names = [...Object.keys(FACTORY_TREES), SYNTHETIC];

describe('generated workflows pass actionlint, workflow-parser and zizmor', () => {
  // Generated per test, so a factory that does not load fails its own tests only.
  const cache = new Map<string, { path: string; text: string }[]>();
  const files = async (name: string) => {
    if (!cache.has(name)) {
      const factory = name === SYNTHETIC ? buildFactory(syntheticFactory(1_200)).factory! : await loadFactory(FACTORY_TREES[name]!);
      cache.set(name, generateWorkflows(factory));
    }
    return cache.get(name)!;
  };
  const workflowText = async (name: string) => (await files(name)).find((f) => f.path === WORKFLOW_PATH)!.text;

  it.each(names)('actionlint: %s has zero findings', async (name) => {
    requireTool(ACTIONLINT, 'go install github.com/rhysd/actionlint/cmd/actionlint@latest (and apt-get install shellcheck)');
    requireTool('shellcheck', 'apt-get install shellcheck: actionlint checks run: scripts with it');
    expect(actionlint(scratchRepo(await files(name)))).toBe('');
  });

  it.each(names)('workflow-parser: %s has no errors, in the pool workflow neither', async (name) => {
    expect(await parserErrors(await workflowText(name))).toEqual([]);
    const pool = (await files(name)).find((f) => f.path === POOL_WORKFLOW_PATH)!.text;
    expect(await parserErrors(pool)).toEqual([]);
  });

  it.each(names)('zizmor: %s has no finding of medium severity or above', async (name) => {
    requireTool(ZIZMOR, 'pip install zizmor');
    const findings = zizmor(scratchRepo(await files(name)));
    expect(findings.filter(atLeastMedium).map((f) => `${f.ident} (${f.determinations.severity})`)).toEqual([]);
  });

  it('the validators do catch a broken workflow', async () => {
    requireTool(ACTIONLINT, 'go install github.com/rhysd/actionlint/cmd/actionlint@latest');
    requireTool(ZIZMOR, 'pip install zizmor');
    const original = await files('plan-fixture');
    const text = await workflowText('plan-fixture');
    // Untrusted event data spliced into a script, an undefined plan output, a bad key.
    const broken = text
      .replace('run: bash scripts/workflow/plan.sh\n', 'run: echo "${{ github.event.pull_request.title }}"\n')
      .replace('needs.plan.outputs.count-amd64 !=', 'needs.plan.outputs.count-nowhere !=')
      .replace('    timeout-minutes: 15\n', '    timeout-minutes: 15\n    runs-at: never\n');
    expect(broken).not.toBe(text);
    const dir = scratchRepo(original.map((f) => (f.path === WORKFLOW_PATH ? { ...f, text: broken } : f)));
    const lint = actionlint(dir);
    expect(lint).toContain('count-nowhere');
    expect(lint).toContain('runs-at');
    expect(lint).toContain('github.event.pull_request.title');
    expect((await parserErrors(broken)).join('\n')).toContain('runs-at');
    expect(
      zizmor(dir)
        .filter(atLeastMedium)
        .map((f) => f.ident),
    ).toContain('template-injection');
  });
});
