// Phase 2 of a build: `buildx bake` of the selected image targets from the trimmed definition,
// then what each pushed or exported image says about itself (digest, refs, size, SBOM,
// provenance). A failed bake gives every image an error report: the failing one its own, the
// rest "not finished".
import * as path from 'node:path';
import * as core from '@actions/core';
import { info, progressPrinter } from './console.js';
import { buildArgs, type RunPaths } from './context.js';
import { buildErrorReport, type DockerfileInfo, type ErrorReport } from './error-report.js';
import { errorMessage } from './errors.js';
import { readJson, writeJson } from './evidence.js';
import type { ImageFacts } from './image.js';
import { parseRawJson, type Progress } from './rawjson.js';
import type { Selection } from './select.js';
import type { BakeRunner, ImageReader } from './tools.js';
import type { BuildInputs } from './types.js';

export interface BakeRun {
  exitCode: number;
  wallTimeMs: number;
  progress: Progress;
}

export interface ImageOutcome {
  digest?: string;
  refs: string[];
  image?: ImageFacts;
  sbomFile?: string;
  failure?: ErrorReport;
}

/** What both bakes of a job run from: the selection, the inputs, where evidence goes, buildx's environment. */
export interface BakeJob {
  sel: Selection;
  inputs: BuildInputs;
  paths: RunPaths;
  env: Record<string, string>;
  /** Rendered Dockerfiles and source maps per target, for error reports. */
  dockerfiles: ReadonlyMap<string, DockerfileInfo>;
}

export interface ImageBuild {
  run: BakeRun;
  metadata: Record<string, Record<string, unknown>>;
  outcomes: Map<string, ImageOutcome>;
}

/** One bake with its rawjson progress captured, echoed to the log as it runs. */
export async function bake(buildx: BakeRunner, args: string[], cwd: string, env: Record<string, string>, rawjsonFile: string): Promise<BakeRun> {
  info(`${buildx.command} ${args.join(' ')}`);
  const start = Date.now();
  const r = await buildx.run(args, { cwd, env, stderrFile: rawjsonFile, onStderrLine: progressPrinter() });
  return { exitCode: r.exitCode, wallTimeMs: Date.now() - start, progress: parseRawJson(r.stderr) };
}

export async function buildImages(job: BakeJob, tools: { buildx: BakeRunner; images: ImageReader }): Promise<ImageBuild> {
  const { sel, inputs, paths, env, dockerfiles } = job;
  const run = await bake(tools.buildx, buildArgs(inputs, sel.images, paths, sel.def), inputs.workdir, env, paths.rawjson);
  const metadata = readJson<Record<string, Record<string, unknown>>>(paths.metadata) ?? {};
  const outcomes = new Map<string, ImageOutcome>(sel.images.map((t) => [t, { refs: [] }]));
  if (run.exitCode !== 0) {
    const report = buildErrorReport({ progress: run.progress, targets: sel.images, dockerfiles, exitCode: run.exitCode });
    for (const [t, o] of outcomes) {
      o.failure = t === report.target ? report : { ...report, message: `not finished: bake stopped when ${report.target} failed: ${report.message}` };
    }
    return { run, metadata, outcomes };
  }
  for (const [t, o] of outcomes) {
    const m = metadata[t] ?? {};
    if (typeof m['containerimage.digest'] === 'string') o.digest = m['containerimage.digest'];
    if (typeof m['image.name'] === 'string') o.refs = m['image.name'].split(',').filter(Boolean);
    await readImage(sel, inputs, paths, t, o, tools.images);
  }
  return { run, metadata, outcomes };
}

async function readImage(sel: Selection, inputs: BuildInputs, paths: RunPaths, t: string, o: ImageOutcome, images: ImageReader): Promise<void> {
  const platform = sel.facts.get(t)!.platform;
  try {
    if (inputs.push && o.digest && o.refs[0]) o.image = await images.pushed(o.refs[0], o.digest, platform, inputs.registryInsecure);
    else if (!inputs.push && !inputs.load && o.digest) o.image = await images.layout(paths.ociDir(t), platform);
  } catch (e) {
    core.warning(`${t}: could not read the image manifest for size, layers and SBOM: ${errorMessage(e)}`);
  }
  if (o.image?.sbom) {
    o.sbomFile = path.join(paths.dir, 'sbom', `${t}.spdx.json`);
    writeJson(o.sbomFile, o.image.sbom);
  } else if (inputs.sbom && (inputs.push || !inputs.load)) {
    core.warning(
      `${t}: the image has no SPDX SBOM attestation; check that the builder supports attestations and the scanner ${inputs.sbomScanner} can be pulled`,
    );
  }
  if (o.image?.provenance) writeJson(path.join(paths.dir, 'provenance', `${t}.json`), o.image.provenance);
}
