// Monthly aggregates: what the retention policy keeps of history older than its raw window.
// Counts add up exactly when late lines arrive; percentiles are those of the month's raw lines
// at the time it was folded (kept, not recomputed), which `factory kpi` says when it uses them.
import { z } from 'zod';
import type { Build } from './build.js';
import { AGGREGATE_SCHEMA } from './history.js';
import { percentile } from './stats.js';

const Count = z.number().int().nonnegative();
const Pcts = z.object({ p50: z.number().nonnegative(), p95: z.number().nonnegative() }).strict();

export const TargetAggregateSchema = z
  .object({
    product: z.string(),
    platform: z.string(),
    builds: Count,
    passed: Count,
    failed: Count,
    retried: Count,
    pushed: Count,
    steps: z.object({ total: Count, cached: Count }).strict(),
    tests: z.object({ total: Count, passed: Count, failed: Count, skipped: Count }).strict(),
    wallTimeMs: Pcts.optional(),
    queueWaitMs: Pcts.optional(),
    imageSizeBytes: Count.optional(),
    firstAt: z.string(),
    lastAt: z.string(),
  })
  .strict();
export type TargetAggregate = z.infer<typeof TargetAggregateSchema>;

export const AggregateSchema = z
  .object({
    schema: z.literal(AGGREGATE_SCHEMA),
    month: z.string().regex(/^\d{4}-\d{2}$/),
    targets: z.record(z.string(), TargetAggregateSchema),
  })
  .strict();
export type MonthAggregate = z.infer<typeof AggregateSchema>;

export function retried(r: Build): boolean {
  return (r.attempts ?? 1) > 1 || Number(r.run.attempt) > 1;
}

function pcts(values: number[]): { p50: number; p95: number } | undefined {
  const p50 = percentile(values, 50);
  const p95 = percentile(values, 95);
  return p50 === undefined || p95 === undefined ? undefined : { p50, p95 };
}

function add(a: TargetAggregate | undefined, r: Build): TargetAggregate {
  const base: TargetAggregate = a ?? {
    product: r.product.id,
    platform: r.platform,
    builds: 0,
    passed: 0,
    failed: 0,
    retried: 0,
    pushed: 0,
    steps: { total: 0, cached: 0 },
    tests: { total: 0, passed: 0, failed: 0, skipped: 0 },
    firstAt: r.finishedAt,
    lastAt: r.finishedAt,
  };
  const out: TargetAggregate = {
    ...base,
    builds: base.builds + 1,
    passed: base.passed + (r.result === 'passed' ? 1 : 0),
    failed: base.failed + (r.result === 'failed' ? 1 : 0),
    retried: base.retried + (retried(r) ? 1 : 0),
    pushed: base.pushed + (r.image.pushed ? 1 : 0),
    steps: { total: base.steps.total + r.kpis.steps.total, cached: base.steps.cached + r.kpis.steps.cached },
    tests: {
      total: base.tests.total + r.tests.total,
      passed: base.tests.passed + r.tests.passed,
      failed: base.tests.failed + r.tests.failed,
      skipped: base.tests.skipped + r.tests.skipped,
    },
    firstAt: r.finishedAt < base.firstAt ? r.finishedAt : base.firstAt,
    lastAt: r.finishedAt > base.lastAt ? r.finishedAt : base.lastAt,
  };
  const size = r.finishedAt >= base.lastAt ? (r.kpis.imageSizeBytes ?? base.imageSizeBytes) : base.imageSizeBytes;
  if (size !== undefined) out.imageSizeBytes = size;
  return out;
}

/** Folds a month's raw records into `into` (or a new aggregate). */
export function aggregateMonth(month: string, records: readonly Build[], into?: MonthAggregate): MonthAggregate {
  const targets: Record<string, TargetAggregate> = { ...(into?.targets ?? {}) };
  const sorted = [...records].sort((a, b) => (a.finishedAt < b.finishedAt ? -1 : a.finishedAt > b.finishedAt ? 1 : 0));
  for (const r of sorted) targets[r.target] = add(targets[r.target], r);
  for (const [t, agg] of Object.entries(targets)) {
    if (into?.targets[t]?.wallTimeMs) continue;
    const mine = sorted.filter((r) => r.target === t);
    const wall = pcts(mine.map((r) => r.kpis.wallTimeMs));
    const queue = pcts(mine.flatMap((r) => (r.kpis.queueWaitMs === undefined ? [] : [r.kpis.queueWaitMs])));
    targets[t] = { ...agg, ...(wall ? { wallTimeMs: wall } : {}), ...(queue ? { queueWaitMs: queue } : {}) };
  }
  const names = Object.keys(targets).sort();
  return { schema: AGGREGATE_SCHEMA, month, targets: Object.fromEntries(names.map((n) => [n, targets[n]!])) };
}

export function serializeAggregate(a: MonthAggregate): string {
  return JSON.stringify(AggregateSchema.parse(a), null, 2) + '\n';
}

export function parseAggregate(text: string, file: string): MonthAggregate {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  const r = AggregateSchema.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${file}: field ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

/** "2026-09" when every build of that month finished more than `rawDays` before `now`. */
export function monthIsDue(month: string, now: Date, rawDays: number): boolean {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const end = Date.UTC(y, m, 1); // the first instant of the next month
  return end <= now.getTime() - rawDays * 86_400_000;
}
