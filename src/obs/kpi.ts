// `factory kpi`: how the factory performs, computed from records (history lines, monthly
// aggregates and the latest-per-target files). Pure: the CLI reads the files.
import type { FactoryRecord } from '../action/record.js';
import { retried, type MonthAggregate } from './aggregate.js';
import { parseSince, percentile, ratio } from './stats.js';

export const KPI_GROUPINGS = ['pool', 'product', 'platform', 'fragment'] as const;
export type KpiGrouping = (typeof KPI_GROUPINGS)[number];

export interface KpiOptions {
  since?: Date;
  by?: KpiGrouping;
  /** Which pool builds a target (from the factory as it is now); "unknown" for removed targets. */
  poolOf(target: string): string;
  /** Only the groups (no size trend, flaky builds or time to patch): for callers that group twice. */
  groupsOnly?: boolean;
}

export interface Pcts {
  p50: number;
  p95: number;
}

export interface QueuePoint {
  at: string;
  depth: number;
}

export interface KpiGroup {
  key: string;
  builds: number;
  passed: number;
  failed: number;
  successRate?: number;
  retryRate?: number;
  cacheHitRatio?: number;
  wallTimeMs?: Pcts;
  queueWaitMs?: Pcts;
  /** Builds whose record says the queue wait could not be read. */
  queueWaitMissing: number;
  /** Jobs waiting for a runner over time (from each job's created/started times). */
  queueDepth: { max: number; series: QueuePoint[] };
  tests: { total: number; passed: number; failed: number; skipped: number };
  /** Builds counted from monthly aggregates: in the counts and rates, not in the percentiles. */
  aggregated: number;
}

export interface SizePoint {
  at: string;
  bytes: number;
}

export interface FlakyBuild {
  target: string;
  run: string;
  failedAttempt: string;
  passedAttempt: string;
  kind: 'build' | 'test';
  tests: string[];
}

export interface PatchTime {
  product: string;
  dependency: string;
  from: string;
  to: string;
  firstSeenAt: string;
  pushedAt: string;
  hours: number;
  /** firstSeenAt is when the base watch saw the upstream digest (measured), not the first record (estimated). */
  measured: boolean;
}

export interface KpiReport {
  since?: string;
  by: KpiGrouping | 'all';
  groups: KpiGroup[];
  imageSize: { series: string; first: SizePoint; last: SizePoint; points: SizePoint[] }[];
  flaky: FlakyBuild[];
  timeToPatch: PatchTime[];
}

/** Appends in place: copying the group on every record made a 100k-build history quadratic. */
export function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const have = m.get(k);
  if (have) have.push(v);
  else m.set(k, [v]);
}

function pcts(values: number[]): Pcts | undefined {
  const p50 = percentile(values, 50);
  const p95 = percentile(values, 95);
  return p50 === undefined || p95 === undefined ? undefined : { p50, p95 };
}

function keysOf(r: FactoryRecord, o: KpiOptions): string[] {
  switch (o.by) {
    case 'pool':
      return [o.poolOf(r.target)];
    case 'product':
      return [r.product.id];
    case 'platform':
      return [r.platform];
    case 'fragment':
      return r.fragments.length ? r.fragments.map((f) => f.ref) : ['(none)'];
    default:
      return ['all'];
  }
}

function queueDepth(records: readonly FactoryRecord[]): { max: number; series: QueuePoint[] } {
  const events: [string, number][] = [];
  for (const r of records) {
    const q = r.kpis.queue;
    if (q) events.push([q.createdAt, +1], [q.startedAt, -1]);
  }
  events.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
  let depth = 0;
  let max = 0;
  const series: QueuePoint[] = [];
  for (const [at, d] of events) {
    depth += d;
    max = Math.max(max, depth);
    if (series.at(-1)?.at === at) series.at(-1)!.depth = depth;
    else series.push({ at, depth });
  }
  return { max, series };
}

function group(key: string, records: FactoryRecord[], aggs: MonthAggregate['targets'][string][]): KpiGroup {
  const sum = (f: (r: FactoryRecord) => number, g: (a: MonthAggregate['targets'][string]) => number) =>
    records.reduce((n, r) => n + f(r), 0) + aggs.reduce((n, a) => n + g(a), 0);
  const builds = records.length + aggs.reduce((n, a) => n + a.builds, 0);
  const passed = sum(
    (r) => (r.result === 'passed' ? 1 : 0),
    (a) => a.passed,
  );
  const steps = sum(
    (r) => r.kpis.steps.total,
    (a) => a.steps.total,
  );
  const out: KpiGroup = {
    key,
    builds,
    passed,
    failed: builds - passed,
    queueWaitMissing: records.filter((r) => r.kpis.queueWaitMs === undefined).length,
    queueDepth: queueDepth(records),
    tests: {
      total: sum(
        (r) => r.tests.total,
        (a) => a.tests.total,
      ),
      passed: sum(
        (r) => r.tests.passed,
        (a) => a.tests.passed,
      ),
      failed: sum(
        (r) => r.tests.failed,
        (a) => a.tests.failed,
      ),
      skipped: sum(
        (r) => r.tests.skipped,
        (a) => a.tests.skipped,
      ),
    },
    aggregated: builds - records.length,
  };
  const optional = {
    successRate: ratio(passed, builds),
    retryRate: ratio(
      sum(
        (r) => (retried(r) ? 1 : 0),
        (a) => a.retried,
      ),
      builds,
    ),
    cacheHitRatio: ratio(
      sum(
        (r) => r.kpis.steps.cached,
        (a) => a.steps.cached,
      ),
      steps,
    ),
    wallTimeMs: pcts(records.map((r) => r.kpis.wallTimeMs)),
    queueWaitMs: pcts(records.flatMap((r) => (r.kpis.queueWaitMs === undefined ? [] : [r.kpis.queueWaitMs]))),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

function imageSizes(records: readonly FactoryRecord[]): KpiReport['imageSize'] {
  const bySeries = new Map<string, SizePoint[]>();
  for (const r of records) {
    if (r.result !== 'passed' || r.kpis.imageSizeBytes === undefined) continue;
    const k = `${r.product.id} ${r.variant} ${r.platform}`;
    push(bySeries, k, { at: r.finishedAt, bytes: r.kpis.imageSizeBytes });
  }
  return [...bySeries.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([series, points]) => ({ series, first: points[0]!, last: points.at(-1)!, points }));
}

/** A run attempt that failed and a later attempt of the same run that passed. */
function flaky(records: readonly FactoryRecord[]): FlakyBuild[] {
  const byRun = new Map<string, FactoryRecord[]>();
  for (const r of records) push(byRun, `${r.target} ${r.run.id}`, r);
  const out: FlakyBuild[] = [];
  for (const rs of byRun.values()) {
    const sorted = [...rs].sort((a, b) => Number(a.run.attempt) - Number(b.run.attempt));
    const fail = sorted.find((r) => r.result === 'failed');
    const pass = fail && sorted.find((r) => r.result === 'passed' && Number(r.run.attempt) > Number(fail.run.attempt));
    if (!fail || !pass) continue;
    out.push({
      target: fail.target,
      run: fail.run.id,
      failedAttempt: fail.run.attempt,
      passedAttempt: pass.run.attempt,
      kind: fail.failure?.kind ?? 'build',
      tests: fail.tests.targets,
    });
  }
  return out.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}

function dependencies(r: FactoryRecord): [string, string][] {
  const out: [string, string][] = r.fragments.filter((f) => f.digest).map((f) => [f.ref.split('@')[0]!, `${f.ref}@${f.digest}`]);
  if (r.base.digest) out.push([`base ${r.base.image?.split('@')[0] ?? ''}`.trim(), r.base.digest]);
  return out;
}

/**
 * Time to patch: a product's dependency (a fragment or its base) moved to a new digest; from the
 * first sighting of the new digest to the product's first pushed, passed image with it. For a
 * base the watch stamped (record base.seenAt, from the lock pin's `seen`) the sighting is when
 * the watch saw the digest upstream: measured. Otherwise it is the first record that used the
 * digest: an estimate that starts late.
 */
function timeToPatch(records: readonly FactoryRecord[]): PatchTime[] {
  const sorted = [...records].sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
  const firstSeen = new Map<string, string>();
  for (const r of sorted) for (const [, d] of dependencies(r)) if (!firstSeen.has(d)) firstSeen.set(d, r.startedAt);
  const watched = new Set<string>();
  for (const r of sorted) {
    const d = r.base.digest;
    if (!d || !r.base.seenAt) continue;
    watched.add(d);
    if (r.base.seenAt < firstSeen.get(d)!) firstSeen.set(d, r.base.seenAt);
  }
  const current = new Map<string, string>();
  const out: PatchTime[] = [];
  for (const r of sorted) {
    if (r.result !== 'passed' || !r.image.pushed) continue;
    for (const [dep, d] of dependencies(r)) {
      const k = `${r.product.id}\u0000${dep}`;
      const was = current.get(k);
      current.set(k, d);
      if (was === undefined || was === d) continue;
      const seen = firstSeen.get(d)!;
      out.push({
        product: r.product.id,
        dependency: dep,
        from: was,
        to: d,
        firstSeenAt: seen,
        pushedAt: r.finishedAt,
        hours: (Date.parse(r.finishedAt) - Date.parse(seen)) / 3_600_000,
        measured: watched.has(d),
      });
    }
  }
  return out;
}

export function computeKpis(records: readonly FactoryRecord[], aggregates: readonly MonthAggregate[], o: KpiOptions): KpiReport {
  const since = o.since?.toISOString();
  const inWindow = records.filter((r) => !since || r.finishedAt >= since);
  const groups = new Map<string, FactoryRecord[]>();
  const aggGroups = new Map<string, MonthAggregate['targets'][string][]>();
  for (const r of inWindow) for (const k of keysOf(r, o)) push(groups, k, r);
  for (const m of aggregates) {
    if (since && `${m.month}-31` < since.slice(0, 10)) continue;
    for (const [target, a] of Object.entries(m.targets)) {
      const keys =
        o.by === 'pool' ? [o.poolOf(target)] : o.by === 'product' ? [a.product] : o.by === 'platform' ? [a.platform] : o.by === 'fragment' ? [] : ['all'];
      for (const k of keys) push(aggGroups, k, a);
    }
  }
  const keys = [...new Set([...groups.keys(), ...aggGroups.keys()])].sort();
  return {
    ...(since ? { since } : {}),
    by: o.by ?? 'all',
    groups: keys.map((k) => group(k, groups.get(k) ?? [], aggGroups.get(k) ?? [])),
    imageSize: o.groupsOnly ? [] : imageSizes(inWindow),
    flaky: o.groupsOnly ? [] : flaky(inWindow),
    timeToPatch: o.groupsOnly ? [] : timeToPatch(inWindow),
  };
}

export { parseSince };
