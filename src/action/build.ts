// `mode: build`: bake the image targets, run their tests, read SBOM and KPIs, write records and
// evidence, report. Outputs, summary, annotations and uploads happen before a failure is
// rethrown, so a failed build still leaves everything behind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as core from '@actions/core';
import { RegistryClient } from '../registry/client.js';
import { dockerConfigCredentials } from '../registry/docker-config.js';
import { LayoutSource } from '../registry/layout.js';
import { parseReference } from '../registry/reference.js';
import { artifactName, listFiles, upload } from './artifact.js';
import { Buildx } from './buildx.js';
import { restoreLocalCache } from './cache.js';
import { progressPrinter } from './console.js';
import { EVIDENCE_ARTIFACT_PREFIX, Outputs, RECORD_ARTIFACT_PREFIX } from './constants.js';
import { bakeEnv, buildArgs, runPaths, runUrl, testArgs, type RunPaths } from './context.js';
import { annotationMessage, buildErrorReport, isAttributable, testErrorReport, type DockerfileInfo, type ErrorReport } from './error-report.js';
import { ActionError, errorMessage } from './errors.js';
import { findResults, loadDockerfile, readDigests, readJson, writeFile, writeJson } from './evidence.js';
import { baseDigest, inspectImage, packageCount, type ImageFacts } from './image.js';
import { fetchQueueWait, kpis } from './kpi.js';
import { autoTests, dockerfileOf, expand, isTestTarget, targetFacts } from './plan.js';
import { countSteps, parseRawJson, type Progress } from './rawjson.js';
import { recordPath, RECORD_SCHEMA, serializeRecord, type FactoryRecord, type TargetFacts } from './record.js';
import { renderSummary } from './summary.js';
import { parseResults, summarize, toJUnit, type TestCase } from './test-results.js';
import type { BakeDefinition, BuildInputs, RunContext } from './types.js';

interface TargetOutcome {
  facts: TargetFacts;
  digest?: string;
  refs: string[];
  image?: ImageFacts;
  sbomFile?: string;
  tests: { targets: string[]; cases: TestCase[] };
  failure?: ErrorReport;
}

interface BakeRun {
  exitCode: number;
  wallTimeMs: number;
  progress: Progress;
}

async function bake(buildx: Buildx, args: string[], cwd: string, env: Record<string, string>, rawjsonFile: string): Promise<BakeRun> {
  core.info(`${buildx.command} ${args.join(' ')}`);
  const start = Date.now();
  const r = await buildx.run(args, { cwd, env, stderrFile: rawjsonFile, onStderrLine: progressPrinter() });
  const wallTimeMs = Date.now() - start;
  return { exitCode: r.exitCode, wallTimeMs, progress: parseRawJson(r.stderr) };
}

function testOwners(testTarget: string, images: readonly string[], facts: ReadonlyMap<string, TargetFacts>): string[] {
  if (testTarget.startsWith('test-') && images.includes(testTarget.slice(5))) return [testTarget.slice(5)];
  // An isolated fragment test belongs to every image target on its arch that uses the fragment.
  return images.filter((t) => autoTests([t], facts, new Set([testTarget])).length > 0);
}

export async function runBuild(inputs: BuildInputs, ctx: RunContext): Promise<void> {
  for (const f of inputs.files) {
    if (!fs.existsSync(path.resolve(inputs.workdir, f))) {
      throw new ActionError(`input \`files\`: ${f} not found in ${inputs.workdir}; generate it with \`factory generate\` or fix the path`);
    }
  }
  const buildx = await Buildx.find();
  const env = bakeEnv(inputs, ctx);

  const def0 = await buildx.print(inputs.files, [inputs.target], inputs.workdir, env);
  const expanded = expand(def0, inputs.target);
  const images = expanded.filter((t) => !isTestTarget(t));
  if (images.length === 0) {
    throw new ActionError(
      `input \`target\`: "${inputs.target}" names only test targets; name an image target or group (its tests run with it, see input \`tests\`)`,
    );
  }
  const facts = new Map(images.map((t) => [t, targetFacts(t, def0.target[t] ?? {})]));
  let tests: string[] = expanded.filter(isTestTarget);
  if (inputs.tests !== 'none') {
    const known = new Set(await buildx.names(inputs.files, inputs.workdir));
    if (inputs.tests === 'auto') tests.push(...autoTests(images, facts, known).filter((t) => !tests.includes(t)));
    else {
      for (const t of inputs.tests) {
        if (!known.has(t)) throw new ActionError(`input \`tests\`: unknown test target "${t}" in ${inputs.files.join(', ')}`);
        if (!tests.includes(t)) tests.push(t);
      }
    }
  } else tests = [];
  const def: BakeDefinition = tests.length ? await buildx.print(inputs.files, [...images, ...tests], inputs.workdir, env) : def0;

  const paths = runPaths(path.join(ctx.runnerTemp, 'factory-evidence', `${inputs.target}-${ctx.runId}-${ctx.runAttempt}`));
  fs.rmSync(paths.dir, { recursive: true, force: true });
  fs.mkdirSync(paths.dir, { recursive: true });
  writeJson(paths.definition, def);
  if (inputs.cache === 'local') await restoreLocalCache(inputs, ctx);

  const startedAt = new Date().toISOString();
  const queueWait = fetchQueueWait(ctx, inputs.githubToken);
  const outcomes = new Map<string, TargetOutcome>(
    images.map((t) => [t, { facts: facts.get(t)!, refs: [], tests: { targets: [], cases: [] } }]),
  );
  const dockerfiles = new Map<string, DockerfileInfo>();
  for (const t of [...images, ...tests]) {
    const rel = dockerfileOf(def.target[t] ?? {});
    const info = rel ? loadDockerfile(inputs.workdir, rel) : undefined;
    if (info) dockerfiles.set(t, info);
  }

  // 1. The images.
  const build = await bake(buildx, buildArgs(inputs, images, paths), inputs.workdir, env, paths.rawjson);
  const metadata = readJson<Record<string, Record<string, unknown>>>(paths.metadata) ?? {};
  if (build.exitCode !== 0) {
    const report = buildErrorReport({ progress: build.progress, targets: images, dockerfiles, exitCode: build.exitCode });
    for (const o of outcomes.values()) {
      o.failure = o.facts.target === report.target ? report : { ...report, message: `not finished: bake stopped when ${report.target} failed: ${report.message}` };
    }
  } else {
    for (const [t, o] of outcomes) {
      const m = metadata[t] ?? {};
      if (typeof m['containerimage.digest'] === 'string') o.digest = m['containerimage.digest'];
      if (typeof m['image.name'] === 'string') o.refs = m['image.name'].split(',').filter(Boolean);
      try {
        o.image = await readImage(inputs, paths, t, o);
      } catch (e) {
        core.warning(`${t}: could not read the image manifest for size, layers and SBOM: ${errorMessage(e)}`);
      }
      if (o.image?.sbom) {
        o.sbomFile = path.join(paths.dir, 'sbom', `${t}.spdx.json`);
        writeJson(o.sbomFile, o.image.sbom);
      } else if (inputs.sbom && (inputs.push || !inputs.load)) {
        core.warning(`${t}: the image has no SPDX SBOM attestation; check that the builder supports attestations and the scanner ${inputs.sbomScanner} can be pulled`);
      }
      if (o.image?.provenance) writeJson(path.join(paths.dir, 'provenance', `${t}.json`), o.image.provenance);
    }
  }

  // 2. The tests (only on a built image: they run on top of it).
  let testRun: BakeRun | undefined;
  if (build.exitCode === 0 && tests.length) {
    testRun = await bake(buildx, testArgs(inputs, tests, paths, images, Object.keys(def.target).sort()), inputs.workdir, env, paths.testRawjson);
    const suites: { name: string; cases: TestCase[] }[] = [];
    for (const tt of tests) {
      const owners = testOwners(tt, images, facts);
      const file = findResults(paths.testsDir(tt));
      let cases: TestCase[] = [];
      if (file) cases = parseResults(fs.readFileSync(file, 'utf8'), `${tt}/results.json`);
      suites.push({ name: tt, cases });
      for (const t of owners) {
        const o = outcomes.get(t)!;
        o.tests.targets.push(tt);
        o.tests.cases.push(...cases);
        const failed = cases.find((c) => c.status === 'failed');
        if (!o.failure && failed) o.failure = testErrorReport(tt, failed);
      }
    }
    if (testRun.exitCode !== 0) {
      const report = buildErrorReport({ progress: testRun.progress, targets: tests, dockerfiles, exitCode: testRun.exitCode });
      for (const t of testOwners(report.target, images, facts)) outcomes.get(t)!.failure ??= report;
      if (testOwners(report.target, images, facts).length === 0) for (const o of outcomes.values()) o.failure ??= report;
    }
    writeFile(path.join(paths.dir, 'tests', 'junit.xml'), toJUnit(suites));
    writeJson(path.join(paths.dir, 'tests', 'results.json'), suites.map((s) => ({ target: s.name, summary: summarize(s.cases), tests: s.cases })));
  }

  // 3. KPIs, records, report.
  const finishedAt = new Date().toISOString();
  const steps = countSteps(build.progress);
  const qw = await queueWait;
  const lock = await readDigests(inputs.workdir);
  const records: FactoryRecord[] = [];
  const recordPaths = new Map<string, string>();
  for (const [t, o] of outcomes) {
    const f = o.facts;
    const sum = summarize(o.tests.cases);
    const record: FactoryRecord = {
      schema: RECORD_SCHEMA,
      target: t,
      product: { id: `${f.productName}@${f.productVersion}`, name: f.productName, version: f.productVersion },
      variant: f.variant,
      platform: f.platform,
      fragments: f.fragmentRefs.map((ref) => (lock.fragments[ref]?.digest ? { ref, digest: lock.fragments[ref]!.digest! } : { ref })),
      base: {},
      image: { refs: o.refs, pushed: inputs.push },
      result: o.failure ? 'failed' : 'passed',
      tests: { targets: o.tests.targets, ...sum },
      kpis: kpis({
        wallTimeMs: build.wallTimeMs + (testRun?.wallTimeMs ?? 0),
        steps: images.length > 1 ? countSteps(build.progress, t, images) : steps,
        ...(o.image ? { image: o.image } : {}),
        ...(qw !== undefined ? { queueWaitMs: qw } : {}),
      }),
      run: { repository: ctx.repository, id: ctx.runId, attempt: ctx.runAttempt, event: ctx.eventName, sha: ctx.sha, ref: ctx.ref },
      startedAt,
      finishedAt,
    };
    if (f.templateRef) record.template = lock.templates[f.templateRef]?.digest ? { ref: f.templateRef, digest: lock.templates[f.templateRef]!.digest! } : { ref: f.templateRef };
    if (f.baseImage) record.base.image = f.baseImage;
    const bd = baseDigest(o.image?.provenance ?? metadata[t]?.['buildx.build.provenance'], f.baseImage);
    if (bd) record.base.digest = bd;
    if (o.digest) record.image.digest = o.digest;
    if (o.failure) record.failure = o.failure;
    const pkgs = packageCount(o.image?.sbom);
    if (o.sbomFile && pkgs !== undefined) record.sbom = { format: 'spdx-json', packages: pkgs, file: path.relative(paths.dir, o.sbomFile) };
    const url = runUrl(ctx);
    if (url) record.run.url = url;
    const rel = recordPath(inputs.recordsDir, f);
    const text = serializeRecord(record);
    writeFile(path.join(inputs.workdir, rel), text);
    writeFile(path.join(paths.dir, rel), text);
    records.push(record);
    recordPaths.set(t, rel);
  }

  const failures = [...new Set(records.map((r) => r.failure).filter((x): x is ErrorReport => x !== undefined))];
  for (const r of failures) {
    writeJson(path.join(paths.dir, 'error-report.json'), r);
    // Annotations take paths relative to the repository root; reports keep them relative to workdir.
    const rel = r.source?.file ?? r.dockerfile?.file;
    const prefix = path.relative(ctx.workspace, inputs.workdir).split(path.sep).join('/');
    const file = rel && prefix && !prefix.startsWith('..') ? `${prefix}/${rel}` : rel;
    const line = r.source?.line ?? r.dockerfile?.line;
    core.error(annotationMessage(r), { title: `factory: ${r.target} failed`, ...(file ? { file } : {}), ...(line ? { startLine: line } : {}) });
  }

  const md = renderSummary(records, recordPaths);
  writeFile(path.join(paths.dir, 'summary.md'), md);
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(md).write();

  const first = records[0];
  core.setOutput(Outputs.Result, records.every((r) => r.result === 'passed') ? 'passed' : 'failed');
  core.setOutput(Outputs.Digest, first?.image.digest ?? '');
  core.setOutput(Outputs.ImageRefs, records.flatMap((r) => r.image.refs).join('\n'));
  core.setOutput(Outputs.RecordPath, recordPaths.get(first?.target ?? '') ?? '');
  core.setOutput(Outputs.Records, JSON.stringify([...recordPaths.values()]));
  core.setOutput(Outputs.CacheHitRatio, steps.cacheHitRatio !== undefined ? String(steps.cacheHitRatio) : '');
  core.setOutput(Outputs.Metadata, JSON.stringify(metadata));
  const attributable = failures.find(isAttributable);
  core.setOutput(Outputs.ErrorReport, attributable ? JSON.stringify(attributable) : '');

  if (inputs.evidence) await uploadAll(inputs, ctx, paths, records, recordPaths);

  if (failures.length) {
    const r = failures[0]!;
    const where = r.source ? ` at ${r.source.file}:${r.source.line}` : r.dockerfile ? ` at ${r.dockerfile.file}:${r.dockerfile.line}` : '';
    throw new ActionError(`${r.target}: ${r.kind === 'build' ? 'step' : 'test'} ${r.step} failed${where}: ${r.message}`);
  }
}

async function readImage(inputs: BuildInputs, paths: RunPaths, t: string, o: TargetOutcome): Promise<ImageFacts | undefined> {
  if (!o.digest) return undefined;
  if (inputs.push) {
    const ref = o.refs[0];
    if (!ref) return undefined;
    const r = parseReference(ref);
    const client = new RegistryClient({ credentials: dockerConfigCredentials(), insecureRegistries: inputs.registryInsecure ? [r.registry] : [] });
    return inspectImage(client.source(r), o.digest, o.facts.platform);
  }
  if (!inputs.load) {
    const layout = new LayoutSource(paths.ociDir(t));
    return inspectImage(layout, layout.root().digest, o.facts.platform);
  }
  return undefined;
}

async function uploadAll(inputs: BuildInputs, ctx: RunContext, paths: RunPaths, records: FactoryRecord[], recordPaths: Map<string, string>): Promise<void> {
  // The OCI export is only a means to read the SBOM; the images themselves are not evidence.
  const shared = listFiles(paths.dir).filter((f) => !f.startsWith(path.join(paths.dir, 'oci') + path.sep));
  for (const r of records) {
    try {
      const own = shared.filter((f) => {
        // Per-target files of the other targets of a group (sbom/<t>.spdx.json, tests/test-<t>/,
        // records/.../<t>.json) stay in their own artifacts; shared logs go into each.
        const segments = path.relative(paths.dir, f).split(path.sep);
        return !records.some(
          (o) => o.target !== r.target && segments.some((seg) => seg === o.target || seg === `test-${o.target}` || seg.startsWith(`${o.target}.`)),
        );
      });
      await upload(artifactName(EVIDENCE_ARTIFACT_PREFIX, r.target, r.platform, ctx), own, paths.dir, inputs.retentionDays);
      const rel = recordPaths.get(r.target)!;
      await upload(artifactName(RECORD_ARTIFACT_PREFIX, r.target, r.platform, ctx), [path.join(inputs.workdir, rel)], inputs.workdir, inputs.retentionDays);
    } catch (e) {
      // Evidence must not hide the build's own result; the missing upload is visible as a warning.
      core.warning(`${r.target}: uploading evidence failed: ${errorMessage(e)}`);
    }
  }
}
