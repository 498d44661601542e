// The compatibility record of one target's build: a versioned zod schema (the single source of
// the record's shape) and the pure function that assembles it. Written to
// records/<product>/<version>/<target>.json and committed back by `mode: record`.
import { z } from 'zod';
import { ActionError } from './errors.js';

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

/** What the bake definition says about a target (from its dev.factory.* and OCI labels). */
export interface TargetFacts {
  target: string;
  productName: string;
  productVersion: string;
  variant: string;
  platform: string;
  templateRef?: string;
  fragmentRefs: string[];
  baseImage?: string;
  tags: string[];
}

// A record path is made of bake labels (a hand-edited bake file can say anything) and is
// written and committed: each part must be one plain file name, so that the file lands under
// the records directory and nowhere else. No separators (`/`, `\`), no `.`/`..`, no NUL,
// whitespace or other characters a file system or a reviewer would read differently.
const PATH_SEGMENT = /^[A-Za-z0-9_.+-]{1,200}$/;

function plainSegment(s: string): boolean {
  return PATH_SEGMENT.test(s) && s !== '.' && s !== '..';
}

const SEGMENT_HINT = 'letters, digits and . _ + - only, at most 200, not "." or ".."';

/** The records directory as record paths start with it: no leading `./`, no trailing `/`. */
export function normalRecordsDir(recordsDir: string): string {
  return recordsDir.replace(/^(?:\.\/+)+/, '').replace(/\/+$/, '');
}

/** Why `rel` (a repository-relative record path) is not one under `recordsDir`, or undefined when it is. */
export function recordPathProblem(rel: string, recordsDir: string): string | undefined {
  const dir = normalRecordsDir(recordsDir);
  if (!rel.startsWith(`${dir}/`)) return `it is not under ${dir}/`;
  const parts = rel.split('/');
  const bad = parts.find((p) => !plainSegment(p));
  if (bad !== undefined) return `its part ${JSON.stringify(bad)} is not a plain file name (${SEGMENT_HINT})`;
  if (!rel.endsWith('.json')) return 'it does not end in .json';
  return undefined;
}

/**
 * records/<product>/<version>/<target>.json, relative to the repository root. Refuses (with
 * the label to fix) a part that is not a plain file name: `../..`, an absolute path, a NUL.
 */
export function recordPath(recordsDir: string, facts: Pick<TargetFacts, 'productName' | 'productVersion' | 'target'>): string {
  const dir = normalRecordsDir(recordsDir);
  const dirBad = dir.split('/').find((p) => !plainSegment(p));
  if (dir === '' || dirBad !== undefined) {
    throw new ActionError(`input \`records-dir\`: ${JSON.stringify(recordsDir)} is not a relative path of plain names (${SEGMENT_HINT})`);
  }
  const parts: [string, string, string][] = [
    ['product name', facts.productName, 'label dev.factory.product (name@version) or org.opencontainers.image.title'],
    ['product version', facts.productVersion, 'label dev.factory.product (name@version) or org.opencontainers.image.version'],
    ['target name', facts.target, "the target's name"],
  ];
  for (const [what, value, from] of parts) {
    if (!plainSegment(value)) {
      throw new ActionError(
        `target ${JSON.stringify(facts.target)}: its record would be written outside ${dir}/: the ${what} ${JSON.stringify(value)} (from ${from} in the bake file) ` +
          `is not a plain file name (${SEGMENT_HINT}); fix the bake file or regenerate it with \`factory generate\``,
      );
    }
  }
  return [dir, facts.productName, facts.productVersion, `${facts.target}.json`].join('/');
}

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
