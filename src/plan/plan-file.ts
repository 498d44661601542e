// plan.json as the jobs after the plan read it: `factory plan --json` writes a PlanResult
// (index.ts), the workflow carries it as the factory-plan artifact, and `factory merge` and
// `factory summary` read it back here. The schema checks the fields those readers use, so a
// plan of another factory version (or a hand-edited one) is a located error, not a crash.
import { z } from 'zod';
import type { PlanResult } from './index.js';

const Target = z.string().regex(/^[A-Za-z0-9_-]+$/, { message: 'must be a bake target name' });
const Tag = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, { message: 'must be an image tag' });

const MergeSource = z.object({
  target: Target,
  platform: z.string(),
  status: z.enum(['build', 'existing', 'missing']),
  keyTag: Tag,
  digest: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/, { message: 'must be a sha256 digest' })
    .optional(),
  untrusted: z.string().optional(),
});

const PlanFileSchema = z.looseObject({
  version: z.literal(1),
  registry: z.string().min(1),
  affected: z.array(
    z.looseObject({
      target: Target,
      pool: z.string(),
      status: z.enum(['build', 'skip']),
      reasons: z.array(z.looseObject({ summary: z.string() })),
    }),
  ),
  removed: z.array(z.looseObject({ target: z.string() })),
  merges: z.array(
    z.looseObject({
      image: z.string().regex(/^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/, { message: 'must be a repository path' }),
      tags: z.array(Tag).min(1),
      sources: z.array(MergeSource).min(1),
    }),
  ),
  summary: z.looseObject({ targets: z.number(), affected: z.number(), build: z.number(), skipped: z.number() }),
});

export type PlanFileParse = { ok: true; value: PlanResult } | { ok: false; message: string };

/** Parses plan.json; `file` only names it in the message. Never throws. */
export function parsePlanFile(text: string, file: string): PlanFileParse {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { ok: false, message: `${file}: not JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  const r = PlanFileSchema.safeParse(data);
  // The fields merge and summary read are checked; the rest is what `factory plan` wrote.
  if (r.success) return { ok: true, value: r.data as unknown as PlanResult };
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.') || '(root)';
  return { ok: false, message: `${file}: ${field}: ${issue.message} (a plan of another factory version? re-run the workflow)` };
}
