// Names shared by the plan (which writes GitHub step outputs) and the workflow generator (which
// reads them as `needs.plan.outputs.<name>`). Pure: no I/O, importable from generators/.

/** A pool name as it may appear in a job id or output name ([A-Za-z0-9_-]). */
export function poolSlug(pool: string): string {
  return pool.replace(/[^A-Za-z0-9_-]/g, '_');
}

export interface PoolOutputNames {
  /** JSON `{include: [...]}` for `strategy.matrix: fromJSON(...)`. */
  matrix: string;
  /** Number of legs to build in the pool; the pool's jobs are skipped when it is "0". */
  count: string;
}

export function poolOutputNames(pool: string): PoolOutputNames {
  const slug = poolSlug(pool);
  return { matrix: `matrix-${slug}`, count: `count-${slug}` };
}

/** Outputs that do not depend on a pool. */
export const PLAN_OUTPUTS = {
  /** Legs to build across all pools. */
  build: 'build-count',
  /** Manifest lists the merge job should publish. */
  merges: 'merge-count',
} as const;
