// `mode: build`, a flat run of phases: select the targets (one `bake --print`), build the
// images, run their tests (retrying both where the failure is the infrastructure's), assemble
// the records, upload them, then tag the build key, report. Outputs, the result file, summary,
// annotations and uploads happen before a failure is rethrown, so a failed build still leaves
// everything behind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as core from '@actions/core';
import { parseReference } from '../registry/reference.js';
import { testTargetName } from '../core/ids.js';
import { jobResultFile, serializeJobResult, type JobResult } from '../core/job-result.js';
import { artifactName, listFiles } from './artifact.js';
import { assembleRecords, type AssembledRecord } from './assemble.js';
import { restoreLocalCache } from './cache.js';
import { setPhase } from './console.js';
import { EVIDENCE_ARTIFACT_PREFIX, Outputs, RECORD_ARTIFACT_PREFIX } from './constants.js';
import { bakeEnv, runPaths, type RunPaths } from './context.js';
import { annotationMessage, isAttributable, type DockerfileInfo, type ErrorReport } from './error-report.js';
import { ActionError, errorMessage } from './errors.js';
import { loadDockerfile, readDigests, writeFile, writeJson } from './evidence.js';
import { buildImages, type BakeJob, type ImageBuild } from './images.js';
import { fetchQueue } from './kpi.js';
import { countSteps } from './rawjson.js';
import { serializeRecord } from '../core/record.js';
import { recordPath } from './record-paths.js';
import { runTests, type TestPhase } from './run-tests.js';
import { dockerfileOf, selectTargets, type Selection } from './select.js';
import { renderSummary } from './summary.js';
import { realTools, type Tools } from './tools.js';
import type { BuildInputs, RunContext } from './types.js';

interface Baked {
  build: ImageBuild;
  tests: TestPhase;
  attempts: number;
}

export async function runBuild(inputs: BuildInputs, ctx: RunContext, given?: Tools): Promise<void> {
  checkFiles(inputs);
  const tools = given ?? (await realTools());
  const env = bakeEnv(inputs, ctx, await tools.git.commitTime(inputs.workdir));
  setPhase('selecting the targets');
  const sel = await selectTargets(inputs, env, tools.buildx);
  // A record path that would leave the records directory is the bake file's fault: refused
  // before anything is built.
  for (const f of sel.facts.values()) recordPath(inputs.recordsDir, f);
  const paths = freshEvidenceDir(inputs, ctx);
  writeJson(paths.definition, sel.def);
  if (inputs.cache === 'local') await restoreLocalCache(inputs, ctx);

  const startedAt = new Date().toISOString();
  const queueFacts = fetchQueue(ctx, inputs.githubToken);
  const baked = await bakeWithRetries({ sel, inputs, paths, env, dockerfiles: readDockerfiles(sel, inputs.workdir) }, tools);
  const finishedAt = new Date().toISOString();
  const queue = await queueFacts;
  const assembled = assembleRecords(sel, baked.build, baked.tests, readDigests(inputs.workdir), inputs, ctx, {
    startedAt,
    finishedAt,
    attempts: baked.attempts,
    evidenceDir: paths.dir,
    queue,
  });
  for (const a of assembled) {
    const text = serializeRecord(a.record);
    writeFile(path.join(inputs.workdir, a.path), text);
    writeFile(path.join(paths.dir, a.path), text);
  }
  const failures = distinctFailures(assembled);
  // The record goes up before the build key is tagged: a keyed image is skipped by every later
  // plan, so a key without an uploaded record (cancelled, or the artifact service down in
  // between) would lose that record for good. Without the key the next run builds and records.
  setPhase('uploading the records (the build key is not tagged yet)');
  const notUploaded = inputs.evidence ? await uploadRecords(inputs, ctx, assembled, tools) : [];
  setPhase('tagging the build key');
  const keyTagged = failures.length === 0 && notUploaded.length === 0 ? await tagBuildKey(inputs, assembled, tools) : undefined;
  const result = jobResult(inputs, assembled, failures, baked.attempts, keyTagged);
  if (notUploaded.length && failures.length === 0) {
    result.result = 'error';
    result.message = `the record artifact of ${notUploaded.join(', ')} could not be uploaded, so the image is not tagged with the build key (the next run builds and records it again); re-run the job`;
  }
  setPhase('reporting');
  await report(inputs, ctx, paths, assembled, baked, failures, result, tools);
  if (failures.length || notUploaded.length) throw new ActionError(result.message ?? 'the build failed');
}

function checkFiles(inputs: BuildInputs): void {
  for (const f of inputs.files) {
    if (!fs.existsSync(path.resolve(inputs.workdir, f))) {
      throw new ActionError(`input \`files\`: ${f} not found in ${inputs.workdir}; generate it with \`factory generate\` or fix the path`);
    }
  }
}

function freshEvidenceDir(inputs: BuildInputs, ctx: RunContext): RunPaths {
  const paths = runPaths(path.join(ctx.runnerTemp, 'factory-evidence', `${inputs.target}-${ctx.runId}-${ctx.runAttempt}`));
  fs.rmSync(paths.dir, { recursive: true, force: true });
  fs.mkdirSync(paths.dir, { recursive: true });
  return paths;
}

function readDockerfiles(sel: Selection, workdir: string): Map<string, DockerfileInfo> {
  const out = new Map<string, DockerfileInfo>();
  for (const t of [...sel.images, ...sel.tests]) {
    const rel = dockerfileOf(sel.def.target[t] ?? {});
    const info = rel ? loadDockerfile(workdir, rel) : undefined;
    if (info) out.set(t, info);
  }
  return out;
}

function phaseFailures(b: ImageBuild, t: TestPhase): ErrorReport[] {
  return [...b.outcomes.values(), ...t.byImage.values()].map((o) => o.failure).filter((f): f is ErrorReport => f !== undefined);
}

/**
 * The image and test bakes, again (up to `retries` more times) while they fail with nothing
 * the inputs are to blame for (a builder that went away, a network error): a failure of the
 * inputs would only fail again. Each earlier attempt's logs stay in the evidence under attempt-N/.
 */
async function bakeWithRetries(job: BakeJob, tools: Tools): Promise<Baked> {
  const { retries } = job.inputs;
  for (let attempt = 1; ; attempt++) {
    setPhase(`building the images (attempt ${attempt})`);
    const build = await buildImages(job, tools);
    if (build.run.exitCode === 0) setPhase(`running the tests (attempt ${attempt})`);
    const tests: TestPhase =
      build.run.exitCode === 0 ? await runTests(job, tools.buildx) : { byImage: new Map(job.sel.images.map((t) => [t, { targets: [], cases: [] }])) };
    const failures = phaseFailures(build, tests);
    if (failures.length === 0 || failures.some(isAttributable) || attempt > retries) return { build, tests, attempts: attempt };
    const wait = retryDelayMs(attempt);
    core.warning(
      `attempt ${attempt} of ${retries + 1} failed with no error in the inputs (${failures[0]!.message}); trying again in ${Math.round(wait / 1000)}s`,
    );
    keepAttemptLogs(job.paths, attempt);
    await new Promise((r) => setTimeout(r, wait));
  }
}

/**
 * The pause before retry `attempt + 1`: a builder or registry that just went away (restarted,
 * rescheduled) needs a moment, and retrying at once would fail the same way. Doubles each time.
 * FACTORY_RETRY_DELAY_MS sets the first pause (the unit tests set 0).
 */
function retryDelayMs(attempt: number): number {
  const first = Number(process.env.FACTORY_RETRY_DELAY_MS ?? '5000');
  return (Number.isFinite(first) && first >= 0 ? first : 5000) * 2 ** (attempt - 1);
}

function keepAttemptLogs(paths: RunPaths, attempt: number): void {
  const dir = path.join(paths.dir, `attempt-${attempt}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of [paths.rawjson, paths.metadata, paths.testRawjson, paths.testMetadata]) {
    if (fs.existsSync(f)) fs.renameSync(f, path.join(dir, path.basename(f)));
  }
  fs.rmSync(path.join(paths.dir, 'tests'), { recursive: true, force: true });
}

function distinctFailures(assembled: readonly AssembledRecord[]): ErrorReport[] {
  return [...new Set(assembled.map((a) => a.record.failure).filter((f): f is ErrorReport => f !== undefined))];
}

/**
 * The build-key tag (`bk-<key>`) marks an image later plans may reuse, so only a pushed image
 * whose every test passed gets it; a tag that cannot be written is the infrastructure's
 * problem and fails the leg, since the next plan would otherwise rebuild or, worse, not know.
 */
async function tagBuildKey(inputs: BuildInputs, assembled: readonly AssembledRecord[], tools: Tools): Promise<string | undefined> {
  if (!inputs.push || !inputs.keyTag) return undefined;
  for (const { record } of assembled) {
    const ref = record.image.refs[0];
    if (!ref || !record.image.digest)
      throw new ActionError(`${record.target}: pushed, but buildx reported no image name and digest to tag with ${inputs.keyTag}`);
    const repo = repositoryOf(ref, record.target);
    const r = await tools.buildx.run(['imagetools', 'create', '--tag', `${repo}:${inputs.keyTag}`, `${repo}@${record.image.digest}`]);
    if (r.exitCode !== 0) {
      throw new ActionError(
        `${record.target}: tagging ${repo}@${record.image.digest} as ${inputs.keyTag} failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`,
      );
    }
  }
  return inputs.keyTag;
}

function repositoryOf(ref: string, target: string): string {
  try {
    const r = parseReference(ref);
    return `${r.registry}/${r.repository}`;
  } catch (e) {
    throw new ActionError(`${target}: buildx named the pushed image ${JSON.stringify(ref)}: ${errorMessage(e)}`);
  }
}

function jobResult(inputs: BuildInputs, assembled: readonly AssembledRecord[], failures: readonly ErrorReport[], attempts: number, keyTag?: string): JobResult {
  const first = assembled[0]?.record;
  const r: JobResult = {
    version: 1,
    target: inputs.target,
    result: failures.length === 0 ? 'passed' : failures.some(isAttributable) ? 'failed' : 'error',
    attempts,
    pushed: assembled.length > 0 && assembled.every((a) => a.record.image.pushed),
    refs: assembled.flatMap((a) => a.record.image.refs),
  };
  if (first?.image.digest) r.digest = first.image.digest;
  if (keyTag) r.keyTag = keyTag;
  if (assembled[0]) r.record = assembled[0].path;
  const f = failures.find(isAttributable) ?? failures[0];
  if (f) {
    const where = f.source ? ` at ${f.source.file}:${f.source.line}` : f.dockerfile ? ` at ${f.dockerfile.file}:${f.dockerfile.line}` : '';
    r.message = `${f.target}: ${f.kind === 'build' ? 'step' : 'test'} ${f.step} failed${where}: ${f.message}`;
  }
  return r;
}

async function report(
  inputs: BuildInputs,
  ctx: RunContext,
  paths: RunPaths,
  assembled: readonly AssembledRecord[],
  baked: Baked,
  failures: readonly ErrorReport[],
  result: JobResult,
  tools: Tools,
): Promise<void> {
  annotate(inputs, ctx, paths, failures);
  const records = assembled.map((a) => a.record);
  const recordPaths = new Map(assembled.map((a) => [a.record.target, a.path]));
  const md = renderSummary(records, recordPaths);
  writeFile(path.join(paths.dir, 'summary.md'), md);
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(md).write();

  const resultFile = path.join(inputs.workdir, jobResultFile(inputs.target));
  writeFile(resultFile, serializeJobResult(result));
  writeFile(path.join(paths.dir, jobResultFile(inputs.target)), serializeJobResult(result));
  const steps = countSteps(baked.build.run.progress);
  core.setOutput(Outputs.Result, result.result);
  core.setOutput(Outputs.Attempts, String(result.attempts));
  core.setOutput(Outputs.ResultFile, path.relative(inputs.workdir, resultFile));
  core.setOutput(Outputs.Digest, result.digest ?? '');
  core.setOutput(Outputs.ImageRefs, result.refs.join('\n'));
  core.setOutput(Outputs.RecordPath, result.record ?? '');
  core.setOutput(Outputs.Records, JSON.stringify([...recordPaths.values()]));
  core.setOutput(Outputs.CacheHitRatio, steps.cacheHitRatio !== undefined ? String(steps.cacheHitRatio) : '');
  core.setOutput(Outputs.Metadata, JSON.stringify(baked.build.metadata));
  const attributable = failures.find(isAttributable);
  core.setOutput(Outputs.ErrorReport, attributable ? JSON.stringify(attributable) : '');
  if (inputs.evidence) await uploadEvidence(inputs, ctx, paths, assembled, tools);
}

function annotate(inputs: BuildInputs, ctx: RunContext, paths: RunPaths, failures: readonly ErrorReport[]): void {
  for (const r of failures) {
    writeJson(path.join(paths.dir, 'error-report.json'), r);
    // Annotations take paths relative to the repository root; reports keep them relative to workdir.
    const rel = r.source?.file ?? r.dockerfile?.file;
    const prefix = path.relative(ctx.workspace, inputs.workdir).split(path.sep).join('/');
    const file = rel && prefix && !prefix.startsWith('..') ? `${prefix}/${rel}` : rel;
    const line = r.source?.line ?? r.dockerfile?.line;
    core.error(annotationMessage(r), { title: `factory: ${r.target} failed`, ...(file ? { file } : {}), ...(line ? { startLine: line } : {}) });
  }
}

/** Uploads each target's record artifact; returns the targets whose upload failed (each with a warning). */
async function uploadRecords(inputs: BuildInputs, ctx: RunContext, assembled: readonly AssembledRecord[], tools: Tools): Promise<string[]> {
  const failed: string[] = [];
  for (const { record: r, path: rel } of assembled) {
    try {
      await tools.artifacts.upload(
        artifactName(RECORD_ARTIFACT_PREFIX, r.target, r.platform, ctx),
        [path.join(inputs.workdir, rel)],
        inputs.workdir,
        inputs.retentionDays,
      );
    } catch (e) {
      core.warning(`${r.target}: uploading the record failed: ${errorMessage(e)}`);
      failed.push(r.target);
    }
  }
  return failed;
}

async function uploadEvidence(inputs: BuildInputs, ctx: RunContext, paths: RunPaths, assembled: readonly AssembledRecord[], tools: Tools): Promise<void> {
  // The OCI export is only a means to read the SBOM; the images themselves are not evidence.
  const shared = listFiles(paths.dir).filter((f) => !f.startsWith(path.join(paths.dir, 'oci') + path.sep));
  const targets = assembled.map((a) => a.record.target);
  for (const { record: r } of assembled) {
    try {
      // Per-target files of the other targets of a group (sbom/<t>.spdx.json, tests/test-<t>/,
      // records/.../<t>.json) stay in their own artifacts; shared logs go into each.
      const own = shared.filter((f) => {
        const segments = path.relative(paths.dir, f).split(path.sep);
        return !targets.some((o) => o !== r.target && segments.some((seg) => seg === o || seg === testTargetName(o) || seg.startsWith(`${o}.`)));
      });
      await tools.artifacts.upload(artifactName(EVIDENCE_ARTIFACT_PREFIX, r.target, r.platform, ctx), own, paths.dir, inputs.retentionDays);
    } catch (e) {
      // Evidence must not hide the build's own result; the missing upload is visible as a warning.
      core.warning(`${r.target}: uploading evidence failed: ${errorMessage(e)}`);
    }
  }
}
