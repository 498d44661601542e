// Names shared by the plan (which writes GitHub step outputs) and the workflow generator (which
// reads them as `needs.plan.outputs.<name>`). Pure: no I/O; in core so that both import it downwards.

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

/** GitHub refuses a matrix of more than 256 jobs. */
export const MAX_MATRIX_LEGS = 256;

/**
 * How many jobs a pool's matrix is split into: enough for every target of the pool to fit
 * (a full rebuild). Generator and plan both derive it from the pool's target count, so the
 * committed workflow and the plan agree as long as `factory generate --check` passes.
 */
export function poolShards(targetsInPool: number): number {
  return Math.max(1, Math.ceil(targetsInPool / MAX_MATRIX_LEGS));
}

/** Job-id suffix and output names of shard `shard` (1-based); shard 1 has no suffix. */
export function shardSuffix(shard: number): string {
  return shard === 1 ? '' : `-${shard}`;
}

export function poolOutputNames(pool: string, shard = 1): PoolOutputNames {
  const id = `${poolSlug(pool)}${shardSuffix(shard)}`;
  return { matrix: `matrix-${id}`, count: `count-${id}` };
}

/** Splits legs into `shards` contiguous chunks of nearly equal size (earlier chunks larger). */
export function splitLegs<T>(legs: readonly T[], shards: number): T[][] {
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; i < shards; i++) {
    const size = Math.floor(legs.length / shards) + (i < legs.length % shards ? 1 : 0);
    out.push(legs.slice(start, start + size));
    start += size;
  }
  return out;
}

/** Outputs that do not depend on a pool. */
export const PLAN_OUTPUTS = {
  /** Legs to build across all pools. */
  build: 'build-count',
  /** Manifest lists the merge job should publish. */
  merges: 'merge-count',
} as const;
