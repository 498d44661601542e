// The compatibility record of one target's build: a versioned zod schema (the single source of
// the record's shape), its writer and its reader. The action assembles and writes it
// (records/<product>/<version>/<target>.json, committed back by `mode: record`; paths in
// src/action/record-paths.ts); obs, the site and the CLI read it.
import { z } from 'zod';

export const RECORD_SCHEMA = 'factory.record/v1';

const Digest = z.string().regex(/^sha256:[a-f0-9]{64}$/);

export const ErrorReportSchema = z.object({
  kind: z.enum(['build', 'test']),
  target: z.string(),
  step: z.string(),
  stage: z.string().optional(),
  exitCode: z.number().int().optional(),
  message: z.string(),
  log: z.array(z.string()),
  dockerfile: z.object({ file: z.string(), line: z.number().int().positive() }).optional(),
  source: z.object({ file: z.string(), line: z.number().int().positive(), origin: z.string() }).optional(),
});

export const KpisSchema = z.object({
  wallTimeMs: z.number().int().nonnegative(),
  steps: z.object({
    total: z.number().int().nonnegative(),
    executed: z.number().int().nonnegative(),
    cached: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
  }),
  cacheHitRatio: z.number().min(0).max(1).optional(),
  imageSizeBytes: z.number().int().nonnegative().optional(),
  layerCount: z.number().int().nonnegative().optional(),
  queueWaitMs: z.number().int().nonnegative().optional(),
  /** The job's created/started times (GitHub's jobs API): queue depth over time per pool. */
  queue: z.object({ createdAt: z.string().datetime(), startedAt: z.string().datetime() }).strict().optional(),
  /** Why the queue wait is missing (no token, no `actions: read`, API error), so a gap is explained. */
  queueWaitMissing: z.string().optional(),
});
export type Kpis = z.infer<typeof KpisSchema>;

export const RecordSchema = z
  .object({
    schema: z.literal(RECORD_SCHEMA),
    target: z.string(),
    product: z.object({ id: z.string(), name: z.string(), version: z.string() }),
    variant: z.string(),
    platform: z.string(),
    template: z.object({ ref: z.string(), digest: Digest.optional() }).optional(),
    fragments: z.array(z.object({ ref: z.string(), digest: Digest.optional() })),
    base: z.object({
      image: z.string().optional(),
      digest: Digest.optional(),
      /** When the base watch first saw this digest under the base's tag (the lock pin's `seen`): where time to patch starts. */
      seenAt: z.string().datetime().optional(),
    }),
    image: z.object({ refs: z.array(z.string()), digest: Digest.optional(), pushed: z.boolean() }),
    result: z.enum(['passed', 'failed']),
    failure: ErrorReportSchema.optional(),
    tests: z.object({
      targets: z.array(z.string()),
      total: z.number().int().nonnegative(),
      passed: z.number().int().nonnegative(),
      failed: z.number().int().nonnegative(),
      skipped: z.number().int().nonnegative(),
      /** Which tests ran on which device: per test target, what its test step found. */
      runs: z
        .array(
          z
            .object({
              target: z.string(),
              accelerator: z.string(),
              pool: z.string().optional(),
              device: z.string().optional(),
              passed: z.number().int().nonnegative(),
              failed: z.number().int().nonnegative(),
              skipped: z.number().int().nonnegative(),
            })
            .strict(),
        )
        .optional(),
    }),
    kpis: KpisSchema,
    sbom: z.object({ format: z.literal('spdx-json'), packages: z.number().int().nonnegative(), file: z.string() }).optional(),
    run: z.object({
      repository: z.string(),
      id: z.string(),
      attempt: z.string(),
      url: z.string().optional(),
      event: z.string(),
      sha: z.string(),
      ref: z.string(),
    }),
    /** How many times the action ran the bakes (infrastructure retries inside one job step). */
    attempts: z.number().int().positive().optional(),
    startedAt: z.string().datetime(),
    finishedAt: z.string().datetime(),
  })
  .strict();
export type FactoryRecord = z.infer<typeof RecordSchema>;

/** Stable JSON: keys in schema order (zod output order), two-space indent, trailing newline. */
export function serializeRecord(r: FactoryRecord): string {
  return JSON.stringify(RecordSchema.parse(r), null, 2) + '\n';
}

/** Reads a record back; the message names the file and the first field that is wrong. */
export function parseRecord(text: string, file: string): FactoryRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  const r = RecordSchema.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${file}: field ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}
