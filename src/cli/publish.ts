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
import { Policy } from '../core/schema.js';
import { decideMerges, imagetoolsArgs, type ListToPublish, type ResultFiles } from '../plan/merge.js';
import { parsePlanFile } from '../plan/plan-file.js';
import type { PlanResult } from '../plan/index.js';
import { renderRunSummary } from '../plan/run-summary.js';
import { RegistryClient, RegistryError } from '../registry/client.js';
import { untrustedReason } from '../supply/trust.js';
import type { CommandContext } from './commands.js';
import { EXIT, UserError } from './errors.js';
import { trustFrom } from './signing.js';

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

/**
 * The registry side of a merge, injectable for the unit tests: `verify` pins a source image to its
 * digest and checks it is the factory's (signature, provenance), `digestOf` reads back what a
 * tag points at once the list is written.
 */
export interface MergeRegistry {
  verify(ref: string): Promise<{ ok: true; pinned: string } | { ok: false; why: string }>;
  digestOf(ref: string): Promise<string>;
}

/** The real registry and cosign, trusting what the Policy and the options say (src/cli/signing.ts). */
async function registryFor(ctx: CommandContext, registry: string): Promise<MergeRegistry> {
  const policy = await ctx.load().then(
    (f) => f.policy,
    () => Policy.parse({ kind: 'Policy' }),
  );
  const trust = trustFrom(ctx.values, policy, registry.split('/')[0]!, ctx.root);
  const client = new RegistryClient(policy.registry.insecure ? { insecureRegistries: [registry.split('/')[0]!] } : {});
  return {
    async verify(ref) {
      const at = ref.indexOf('@');
      const repo = at >= 0 ? ref.slice(0, at) : ref.slice(0, ref.lastIndexOf(':'));
      try {
        const digest = at >= 0 ? ref.slice(at + 1) : (await client.resolve(ref)).digest;
        const why = await untrustedReason(client, repo, digest, trust);
        return why ? { ok: false, why } : { ok: true, pinned: `${repo}@${digest}` };
      } catch (e) {
        return { ok: false, why: e instanceof RegistryError || e instanceof Error ? `cannot read it: ${e.message}` : String(e) };
      }
    },
    async digestOf(ref) {
      return (await client.resolve(ref)).digest;
    },
  };
}

/** Every source of the list pinned and verified, or why the list may not be published. */
async function verifiedSources(list: ListToPublish, reg: MergeRegistry): Promise<{ sources: string[] } | { problems: string[] }> {
  const checks = await Promise.all(list.sources.map(async (src) => ({ src, r: await reg.verify(src) })));
  const problems = checks.flatMap(({ src, r }) => (r.ok ? [] : [`${src}: ${r.why}`]));
  return problems.length > 0 ? { problems } : { sources: checks.map(({ r }) => (r.ok ? r.pinned : '')) };
}

/** `buildx` is the command that runs buildx: ["docker", "buildx"] or a standalone binary. */
export async function mergeCommand(ctx: CommandContext, buildx: string[], exec: Exec = spawnExec, reg?: MergeRegistry): Promise<number> {
  const plan = await readPlan(ctx.root, str(ctx.values.plan, 'plan.json'));
  const built = plan.merges.flatMap((m) => m.sources.filter((s) => s.status === 'build').map((s) => s.target));
  const decision = decideMerges(plan, await readResults(ctx.root, str(ctx.values.results, 'results'), built));
  let failed = decision.refused.length > 0;
  for (const r of decision.refused) {
    reportError(ctx, 'factory merge refused', `${r.name} is missing ${r.missing.join(', ')}; not publishing a partial manifest list`);
  }
  const registry = reg ?? (decision.publish.length > 0 ? await registryFor(ctx, plan.registry) : undefined);
  const published: string[] = [];
  const signed: string[] = [];
  for (const planned of decision.publish) {
    // Only images signed by the factory go into a list: a build-key tag is mutable.
    const verified = ctx.values['dry-run'] ? { sources: planned.sources } : await verifiedSources(planned, registry!);
    if ('problems' in verified) {
      failed = true;
      reportError(ctx, 'factory merge refused', `${planned.name}: ${verified.problems.join('; ')}; not publishing a list with an unverified image`);
      continue;
    }
    const list = { ...planned, sources: verified.sources };
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
    const repo = list.name.slice(0, list.name.lastIndexOf(':'));
    const line = `published ${repo}: ${list.tags.map((t) => t.slice(t.lastIndexOf(':') + 1)).join(' ')} from ${list.sources.length} platform image(s)`;
    ctx.io.out(line);
    published.push(line);
    if (typeof ctx.values.published === 'string') signed.push(`${repo}@${await registry!.digestOf(list.tags[0]!)}`);
  }
  if (published.length > 0) await appendStepSummary(`${published.join('\n')}\n`);
  await writePublished(ctx, signed);
  if (ctx.json) ctx.io.out(JSON.stringify({ ok: !failed, ...decision }, null, 2));
  return failed ? EXIT.failed : EXIT.ok;
}

/**
 * --published FILE: the lists written, `repository@digest` one a line, for the signing step;
 * --checksums FILE: the same as `<hex>  <repository>` lines (actions/attest subject-checksums).
 * Nothing written when nothing was published, so the steps after can test for the file.
 */
async function writePublished(ctx: CommandContext, refs: string[]): Promise<void> {
  const file = ctx.values.published;
  if (typeof file !== 'string' || refs.length === 0) return;
  await fs.writeFile(path.resolve(ctx.root, file), `${refs.join('\n')}\n`);
  const sums = ctx.values.checksums;
  if (typeof sums === 'string') {
    const lines = refs.map((r) => `${r.slice(r.indexOf('@sha256:') + 8)}  ${r.slice(0, r.indexOf('@'))}`);
    await fs.writeFile(path.resolve(ctx.root, sums), `${lines.join('\n')}\n`);
  }
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
