// The result of one build leg (one bake target in one job): what the action writes after its
// last attempt, and what `factory merge` and `factory summary` read to decide what to publish
// and report. One schema, one writer, one reader; the workflow only moves the file around.
import { z } from 'zod';

export const JOB_RESULT_VERSION = 1;
/** Directory (relative to the workspace) the action writes result files to; uploaded as is. */
export const JOB_RESULT_DIR = 'factory-result';
/** Artifact name prefix of a leg's result file: `factory-result-<target>`. */
export const JOB_RESULT_ARTIFACT_PREFIX = 'factory-result-';

const Digest = z.string().regex(/^sha256:[a-f0-9]{64}$/, { message: 'expected sha256:<64 hex digits>' });

export const JobResultSchema = z
  .object({
    version: z.literal(JOB_RESULT_VERSION),
    target: z.string().regex(/^[A-Za-z0-9_-]+$/),
    /** passed: built (and pushed when asked) and every test passed; failed: the inputs are at
     * fault (a step or test, with an error report); error: infrastructure, after every retry. */
    result: z.enum(['passed', 'failed', 'error']),
    attempts: z.number().int().min(1),
    pushed: z.boolean(),
    digest: Digest.optional(),
    refs: z.array(z.string()),
    /** The build-key tag the pushed image also carries (`bk-<key>`), when one was asked for. */
    keyTag: z.string().optional(),
    /** The record file, relative to the workdir. */
    record: z.string().optional(),
    /** One line: why the leg failed. */
    message: z.string().optional(),
  })
  .strict();
export type JobResult = z.infer<typeof JobResultSchema>;

export function jobResultFile(target: string): string {
  return `${JOB_RESULT_DIR}/${target}.json`;
}

export function serializeJobResult(r: JobResult): string {
  return JSON.stringify(JobResultSchema.parse(r), null, 2) + '\n';
}

export type JobResultParse = { ok: true; value: JobResult } | { ok: false; message: string };

/** Parses a result file; `file` only names it in the message. Never throws. */
export function parseJobResult(text: string, file: string): JobResultParse {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { ok: false, message: `${file}: not JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  const r = JobResultSchema.safeParse(data);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.') || '(root)';
  return { ok: false, message: `${file}: ${field}: ${issue.message} (a result file of another factory version? re-run the leg)` };
}
