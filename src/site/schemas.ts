// The read-only API's response shapes: one zod schema per route, the single source of both the
// JSON the site writes (parsed through these before it is written) and its OpenAPI document.
import { z } from 'zod';
import { RecordSchema } from '../core/record.js';
import { Test } from '../core/schema.js';

const Ref = z.string().describe('name@version');
const Digest = z.string().regex(/^sha256:[a-f0-9]{64}$/);
const Pcts = z.object({ p50: z.number(), p95: z.number() }).strict();

export const LatestResult = z
  .object({
    result: z.enum(['passed', 'failed']),
    finishedAt: z.string(),
    run: z.string(),
    url: z.string().optional(),
    digest: Digest.optional(),
    pushed: z.boolean(),
  })
  .strict();

export const HistoryEntry = z
  .object({
    finishedAt: z.string(),
    result: z.enum(['passed', 'failed']),
    run: z.string(),
    url: z.string().optional(),
    event: z.string(),
    wallTimeMs: z.number(),
    cacheHitRatio: z.number().optional(),
    queueWaitMs: z.number().optional(),
    imageSizeBytes: z.number().optional(),
    digest: Digest.optional(),
    pushed: z.boolean(),
  })
  .strict();

export const TargetSummary = z
  .object({
    name: z.string(),
    id: z.string(),
    product: Ref,
    variant: z.string(),
    platform: z.string(),
    accelerator: z.string(),
    pool: z.string(),
    tags: z.array(z.string()),
    latest: LatestResult.optional(),
  })
  .strict();

export const PlannedTest = z
  .object({
    name: z.string(),
    origin: z.string().describe('the fragment (name@version) or product that declares it'),
    runsHere: z.boolean().describe('false when the test skips on this target (its skip.accelerator)'),
    skipReason: z.string().optional(),
    check: Test,
  })
  .strict();

export const TargetDetail = TargetSummary.extend({
  mergedTags: z.array(z.string()),
  tests: z.array(PlannedTest),
  record: RecordSchema.optional().describe('the latest record of this target'),
  history: z.array(HistoryEntry).describe('the newest recorded builds (at most 100), newest first'),
  historyTotal: z.number().int().describe('how many builds of this target are recorded'),
}).strict();

export const ProductSummary = z
  .object({
    id: Ref,
    name: z.string(),
    version: z.string(),
    description: z.string().optional(),
    image: z.string(),
    manifest: Ref,
    template: Ref,
    base: z.object({ name: z.string(), image: z.string(), digest: Digest.optional() }).strict(),
    fragments: z.array(Ref),
    accelerator: z.string(),
    targets: z.array(z.string()),
    results: z.object({ passed: z.number().int(), failed: z.number().int(), none: z.number().int() }).strict(),
  })
  .strict();

export const ProductDetail = ProductSummary.extend({
  variants: z.array(z.object({ name: z.string(), matrix: z.record(z.string(), z.string()), args: z.record(z.string(), z.string()) }).strict()),
  targetDetails: z.array(TargetSummary),
  history: z.array(HistoryEntry.extend({ target: z.string() }).strict()).describe("the newest builds of the product's targets (at most 50), newest first"),
  historyTotal: z.number().int().describe("how many builds of the product's targets are recorded"),
}).strict();

export const ManifestSummary = z
  .object({
    id: Ref,
    name: z.string(),
    version: z.string(),
    template: Ref,
    fragments: z.array(Ref),
    matrix: z.record(z.string(), z.array(z.string())).optional(),
    products: z.array(Ref),
  })
  .strict();

export const TemplateSummary = z
  .object({
    id: Ref,
    name: z.string(),
    version: z.string(),
    description: z.string().optional(),
    base: z.string(),
    slots: z.array(z.string()),
    digest: Digest,
    users: z.array(Ref),
  })
  .strict();

export const FragmentSummary = z
  .object({
    id: Ref,
    name: z.string(),
    version: z.string(),
    description: z.string().optional(),
    slot: z.string(),
    digest: Digest,
    tests: z.array(z.string()),
    users: z.array(Ref).describe('products that build with this version'),
  })
  .strict();

export const KpiGroup = z
  .object({
    key: z.string(),
    builds: z.number().int(),
    passed: z.number().int(),
    failed: z.number().int(),
    successRate: z.number().optional(),
    retryRate: z.number().optional(),
    cacheHitRatio: z.number().optional(),
    wallTimeMs: Pcts.optional(),
    queueWaitMs: Pcts.optional(),
    queueWaitMissing: z.number().int(),
    queueDepth: z.object({ max: z.number().int(), series: z.array(z.object({ at: z.string(), depth: z.number().int() }).strict()) }).strict(),
    tests: z.object({ total: z.number().int(), passed: z.number().int(), failed: z.number().int(), skipped: z.number().int() }).strict(),
    aggregated: z.number().int(),
  })
  .strict();

export const DayPoint = z
  .object({
    day: z.string(),
    builds: z.number().int(),
    passed: z.number().int(),
    wallTimeMsP50: z.number().optional(),
    cacheHitRatio: z.number().optional(),
    queueWaitMsP50: z.number().optional(),
  })
  .strict();

export const Kpis = z
  .object({
    all: KpiGroup.optional(),
    byPool: z.array(KpiGroup),
    byProduct: z.array(KpiGroup),
    daily: z.array(DayPoint).describe('one point per day with builds'),
    dailyByPool: z.record(z.string(), z.array(DayPoint)),
    flaky: z.array(
      z
        .object({
          target: z.string(),
          run: z.string(),
          failedAttempt: z.string(),
          passedAttempt: z.string(),
          kind: z.enum(['build', 'test']),
          tests: z.array(z.string()),
        })
        .strict(),
    ),
    timeToPatch: z.array(
      z
        .object({
          product: z.string(),
          dependency: z.string(),
          from: z.string(),
          to: z.string(),
          firstSeenAt: z.string(),
          pushedAt: z.string(),
          hours: z.number(),
          measured: z.boolean().describe('firstSeenAt is when the base watch saw the upstream digest, not the first build that used it'),
        })
        .strict(),
    ),
    skipped: z.array(z.object({ file: z.string(), line: z.number().int(), message: z.string() }).strict()).describe('record lines that could not be read'),
  })
  .strict();

export const CompatRow = z
  .object({
    product: z.string(),
    template: z.string(),
    fragments: z.array(z.string()),
    base: z.string(),
    platform: z.string(),
    accelerator: z.string(),
    passed: z.number().int(),
    failed: z.number().int(),
    last: z.object({ result: z.enum(['passed', 'failed']), finishedAt: z.string(), run: z.string(), url: z.string().optional() }).strict(),
  })
  .strict();

export const Compat = z.object({ ref: Ref, rows: z.array(CompatRow) }).strict();

export const Index = z
  .object({
    factory: z.string(),
    generatedAt: z.string().describe('the newest record time (not the clock), so the site is reproducible'),
    counts: z.object({ products: z.number().int(), targets: z.number().int(), records: z.number().int(), skipped: z.number().int() }).strict(),
    routes: z.array(z.string()),
  })
  .strict();

export const Records = z.array(RecordSchema).describe('the latest record of every target that has one');

export const ApiError = z.object({ error: z.string(), status: z.number().int() }).strict();
