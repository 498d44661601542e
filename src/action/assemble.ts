// Phase 4 of a build: one record per image target from what the earlier phases returned (the
// selection's facts, the image build, the tests) and the lock's digests. Pure: the caller
// writes the records where they go.
import * as path from 'node:path';
import { countSteps } from './rawjson.js';
import { baseDigest, packageCount } from './image.js';
import { kpis, type QueueFacts } from './kpi.js';
import { RECORD_SCHEMA, type FactoryRecord } from '../core/record.js';
import { recordPath } from './record-paths.js';
import { runUrl } from './context.js';
import { summarize } from './test-results.js';
import type { ImageBuild } from './images.js';
import type { TestPhase } from './run-tests.js';
import type { Selection } from './select.js';
import type { LockDigests } from './evidence.js';
import type { BuildInputs, RunContext } from './types.js';

export interface RunFacts {
  startedAt: string;
  finishedAt: string;
  attempts: number;
  queue?: QueueFacts;
  /** The evidence directory: SBOM paths in records are relative to it. */
  evidenceDir: string;
}

export interface AssembledRecord {
  record: FactoryRecord;
  /** records/<product>/<version>/<target>.json, relative to the workdir. */
  path: string;
}

function pinned(ref: string, digests: Record<string, { digest?: string }>): { ref: string; digest?: string } {
  const d = digests[ref]?.digest;
  return d ? { ref, digest: d } : { ref };
}

export function assembleRecords(
  sel: Selection,
  build: ImageBuild,
  tests: TestPhase,
  lock: LockDigests,
  inputs: Pick<BuildInputs, 'push' | 'recordsDir'>,
  ctx: RunContext,
  run: RunFacts,
): AssembledRecord[] {
  const wallTimeMs = build.run.wallTimeMs + (tests.run?.wallTimeMs ?? 0);
  return sel.images.map((t) => {
    const f = sel.facts.get(t)!;
    const o = build.outcomes.get(t)!;
    const mine = tests.byImage.get(t) ?? { targets: [], cases: [] };
    const failure = o.failure ?? mine.failure;
    const record: FactoryRecord = {
      schema: RECORD_SCHEMA,
      target: t,
      product: { id: `${f.productName}@${f.productVersion}`, name: f.productName, version: f.productVersion },
      variant: f.variant,
      platform: f.platform,
      fragments: f.fragmentRefs.map((ref) => pinned(ref, lock.fragments)),
      base: {},
      image: { refs: o.refs, pushed: inputs.push && o.digest !== undefined },
      result: failure ? 'failed' : 'passed',
      tests: { targets: mine.targets, ...summarize(mine.cases), ...(mine.runs ? { runs: mine.runs } : {}) },
      kpis: kpis({
        wallTimeMs,
        steps: sel.images.length > 1 ? countSteps(build.run.progress, t, sel.images) : countSteps(build.run.progress),
        ...(o.image ? { image: o.image } : {}),
        ...(run.queue ? { queue: run.queue } : {}),
      }),
      run: { repository: ctx.repository, id: ctx.runId, attempt: ctx.runAttempt, event: ctx.eventName, sha: ctx.sha, ref: ctx.ref },
      attempts: run.attempts,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
    };
    if (f.templateRef) record.template = pinned(f.templateRef, lock.templates);
    if (f.baseImage) record.base.image = f.baseImage;
    const bd = baseDigest(o.image?.provenance ?? build.metadata[t]?.['buildx.build.provenance'], f.baseImage);
    if (bd) record.base.digest = bd;
    const seen = bd ? Object.values(lock.bases ?? {}).find((p) => p.digest === bd && p.seen)?.seen : undefined;
    if (seen) record.base.seenAt = seen;
    if (o.digest) record.image.digest = o.digest;
    if (failure) record.failure = failure;
    const pkgs = packageCount(o.image?.sbom);
    if (o.sbomFile && pkgs !== undefined) record.sbom = { format: 'spdx-json', packages: pkgs, file: path.relative(run.evidenceDir, o.sbomFile) };
    const url = runUrl(ctx);
    if (url) record.run.url = url;
    return { record, path: recordPath(inputs.recordsDir, f) };
  });
}
