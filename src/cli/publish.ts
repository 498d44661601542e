// `factory merge` and `factory summary`: the jobs after the builds. Both read plan.json (the
// factory-plan artifact) and the legs' result files (the factory-result-* artifacts, downloaded
// into one directory) through the readers of their writers, src/plan/plan-file.ts and
// src/core/job-result.ts. merge publishes the manifest lists with `buildx imagetools create`;
// summary writes the Markdown the job summary and the pull request comment show.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { workflowCommandMessage, workflowCommandProperty } from '../core/escape.js';
import { parseJobResult, type JobResultParse } from '../core/job-result.js';
import { decideMerges, imagetoolsArgs, type ResultFiles } from '../plan/merge.js';
import { parsePlanFile } from '../plan/plan-file.js';
import type { PlanResult } from '../plan/index.js';
import { renderRunSummary } from '../plan/run-summary.js';
import type { CommandContext } from './commands.js';
import { EXIT, UserError } from './errors.js';

export interface ExecResult {
  code: number;
  output: string;
}
/** Runs a program; injectable so the unit tests can record the imagetools calls. */
export type Exec = (cmd: string, args: readonly string[]) => Promise<ExecResult>;

export const spawnExec: Exec = (cmd, args) =>
  new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (e) => resolve({ code: 127, output: `cannot run ${cmd}: ${e.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });

const str = (v: string | boolean | undefined, fallback: string): string => (typeof v === 'string' && v !== '' ? v : fallback);

/** `file` relative to --root (the workspace), and named in messages as given. */
async function readPlan(root: string, file: string): Promise<PlanResult> {
  const text = await fs.readFile(path.resolve(root, file), 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UserError(`cannot read the plan ${file} (${e.code ?? e.message}); download the factory-plan artifact first`);
  });
  const parsed = parsePlanFile(text, file);
  if (!parsed.ok) throw new UserError(parsed.message);
  return parsed.value;
}

/** The result file of each target, or undefined where the leg left none. */
async function readResults(root: string, dir: string, targets: readonly string[]): Promise<ResultFiles> {
  const out = new Map<string, JobResultParse | undefined>();
  for (const target of [...new Set(targets)]) {
    const file = path.join(dir, `${target}.json`);
    const text = await fs.readFile(path.resolve(root, file), 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : e));
    if (text === undefined) out.set(target, undefined);
    else if (text instanceof Error) out.set(target, { ok: false, message: `${file}: ${text.message}` });
    else out.set(target, parseJobResult(text, file));
  }
  return out;
}

async function appendStepSummary(text: string): Promise<void> {
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (file) await fs.appendFile(file, text);
}

/** An error line: an annotation under GitHub Actions, plain text elsewhere. */
function reportError(ctx: CommandContext, title: string, message: string): void {
  if (process.env.GITHUB_ACTIONS === 'true') ctx.io.out(`::error title=${workflowCommandProperty(title)}::${workflowCommandMessage(message)}`);
  else ctx.io.err(`${title}: ${message}`);
}

/** `buildx` is the command that runs buildx: ["docker", "buildx"] or a standalone binary. */
export async function mergeCommand(ctx: CommandContext, buildx: string[], exec: Exec = spawnExec): Promise<number> {
  const plan = await readPlan(ctx.root, str(ctx.values.plan, 'plan.json'));
  const built = plan.merges.flatMap((m) => m.sources.filter((s) => s.status === 'build').map((s) => s.target));
  const decision = decideMerges(plan, await readResults(ctx.root, str(ctx.values.results, 'results'), built));
  let failed = decision.refused.length > 0;
  for (const r of decision.refused) {
    reportError(ctx, 'factory merge refused', `${r.name} is missing ${r.missing.join(', ')}; not publishing a partial manifest list`);
  }
  const published: string[] = [];
  for (const list of decision.publish) {
    const [cmd, ...pre] = buildx;
    const args = [...pre, ...imagetoolsArgs(list)];
    if (ctx.values['dry-run']) {
      ctx.io.out([cmd, ...args].join(' '));
      continue;
    }
    const r = await exec(cmd!, args);
    if (r.code !== 0) {
      failed = true;
      reportError(ctx, 'factory merge failed', `${list.name}: imagetools create exited ${r.code}: ${r.output.trim().split('\n').slice(-3).join(' ')}`);
      continue;
    }
    const line = `published ${list.name.slice(0, list.name.lastIndexOf(':'))}: ${list.tags.map((t) => t.slice(t.lastIndexOf(':') + 1)).join(' ')} from ${list.sources.length} platform image(s)`;
    ctx.io.out(line);
    published.push(line);
  }
  if (published.length > 0) await appendStepSummary(`${published.join('\n')}\n`);
  if (ctx.json) ctx.io.out(JSON.stringify({ ok: !failed, ...decision }, null, 2));
  return failed ? EXIT.failed : EXIT.ok;
}

export async function summaryCommand(ctx: CommandContext): Promise<number> {
  const plan = await readPlan(ctx.root, str(ctx.values.plan, 'plan.json'));
  const results = await readResults(
    ctx.root,
    str(ctx.values.results, 'results'),
    plan.affected.map((t) => t.target),
  );
  const md = renderRunSummary(plan, results);
  await fs.writeFile(path.resolve(ctx.root, str(ctx.values.out, 'summary.md')), md);
  await appendStepSummary(md);
  if (!ctx.json) ctx.io.out(md);
  else ctx.io.out(JSON.stringify({ ok: true, out: str(ctx.values.out, 'summary.md') }));
  return EXIT.ok;
}
