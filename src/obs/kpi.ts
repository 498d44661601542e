// `factory kpi`: how the factory performs, computed from records (history lines, monthly
// aggregates and the latest-per-target files). Pure: the CLI reads the files.
import type { Build } from './build.js';
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
  /** At most this many queue depth points per group (default DEPTH_POINTS): peaks per hour, day or week beyond. */
  depthPoints?: number;
}

export const DEPTH_POINTS = 2000;

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
  /**
   * Jobs waiting for a runner over time (from each job's created/started times): every change,
   * or past `depthPoints` changes the peak of each hour (6 hours, day, week, 4 weeks).
   */
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
  const sorted = Float64Array.from(values).sort();
  const p50 = percentile(sorted, 50, true);
  const p95 = percentile(sorted, 95, true);
  return p50 === undefined || p95 === undefined ? undefined : { p50, p95 };
}

function keysOf(r: Build, o: KpiOptions): string[] {
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

/** The exact change points of a series, or the peak per bucket when there are more than `cap`. */
const DEPTH_BUCKETS_MS = [3_600_000, 6 * 3_600_000, 86_400_000, 7 * 86_400_000, 28 * 86_400_000];

function bucketed(times: number[], depths: number[], cap: number): QueuePoint[] {
  for (const width of DEPTH_BUCKETS_MS) {
    if (times.length <= cap) break;
    const t: number[] = [];
    const d: number[] = [];
    const put = (at: number, depth: number) => {
      if (t.at(-1) === at) {
        t.pop();
        d.pop();
      }
      t.push(at);
      d.push(depth);
    };
    let before = 0; // the depth when the bucket opens: jobs already waiting count in its peak
    for (let i = 0; i < times.length;) {
      const start = Math.floor(times[i]! / width) * width;
      let peak = before;
      for (; i < times.length && times[i]! < start + width; i++) peak = Math.max(peak, depths[i]!);
      const end = depths[i - 1]!;
      put(start, peak);
      // Where the queue drained inside the bucket, say so at the next bucket's start.
      if (end !== peak) put(start + width, end);
      before = end;
    }
    times = t;
    depths = d;
  }
  return times.map((at, i) => ({ at: new Date(at).toISOString(), depth: depths[i]! }));
}

function queueDepth(records: readonly Build[], cap: number): { max: number; series: QueuePoint[] } {
  // Events as numbers (time * 2, +1 for a job queued, +0 for one started, so at the same instant
  // a start counts before a new wait) in a typed array: a numeric sort, not 250,000 string pairs.
  let n = 0;
  for (const r of records) if (r.kpis.queue) n += 2;
  const events = new Float64Array(n);
  let i = 0;
  for (const r of records) {
    const q = r.kpis.queue;
    if (!q) continue;
    events[i++] = Date.parse(q.createdAt) * 2 + 1;
    events[i++] = Date.parse(q.startedAt) * 2;
  }
  events.sort();
  let depth = 0;
  let max = 0;
  const times: number[] = [];
  const depths: number[] = [];
  for (const e of events) {
    const at = Math.floor(e / 2);
    depth += e % 2 === 1 ? 1 : -1;
    max = Math.max(max, depth);
    if (times.at(-1) === at) depths[depths.length - 1] = depth;
    else {
      times.push(at);
      depths.push(depth);
    }
  }
  return { max, series: bucketed(times, depths, cap) };
}

type Totals = Pick<KpiGroup, 'builds' | 'passed'> & { retried: number; steps: number; cached: number; tests: KpiGroup['tests'] };

/** The counts of raw builds and aggregated months, in one pass over each. */
function totals(records: readonly Build[], aggs: readonly MonthAggregate['targets'][string][]): Totals {
  const t: Totals = { builds: 0, passed: 0, retried: 0, steps: 0, cached: 0, tests: { total: 0, passed: 0, failed: 0, skipped: 0 } };
  for (const r of records) {
    t.builds += 1;
    if (r.result === 'passed') t.passed += 1;
    if (retried(r)) t.retried += 1;
    t.steps += r.kpis.steps.total;
    t.cached += r.kpis.steps.cached;
    t.tests.total += r.tests.total;
    t.tests.passed += r.tests.passed;
    t.tests.failed += r.tests.failed;
    t.tests.skipped += r.tests.skipped;
  }
  for (const a of aggs) {
    t.builds += a.builds;
    t.passed += a.passed;
    t.retried += a.retried;
    t.steps += a.steps.total;
    t.cached += a.steps.cached;
    t.tests.total += a.tests.total;
    t.tests.passed += a.tests.passed;
    t.tests.failed += a.tests.failed;
    t.tests.skipped += a.tests.skipped;
  }
  return t;
}

function group(key: string, records: Build[], aggs: MonthAggregate['targets'][string][], depthCap: number): KpiGroup {
  const t = totals(records, aggs);
  const waits: number[] = [];
  for (const r of records) if (r.kpis.queueWaitMs !== undefined) waits.push(r.kpis.queueWaitMs);
  const out: KpiGroup = {
    key,
    builds: t.builds,
    passed: t.passed,
    failed: t.builds - t.passed,
    queueWaitMissing: records.length - waits.length,
    queueDepth: queueDepth(records, depthCap),
    tests: t.tests,
    aggregated: t.builds - records.length,
  };
  const optional = {
    successRate: ratio(t.passed, t.builds),
    retryRate: ratio(t.retried, t.builds),
    cacheHitRatio: ratio(t.cached, t.steps),
    wallTimeMs: pcts(records.map((r) => r.kpis.wallTimeMs)),
    queueWaitMs: pcts(waits),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

function imageSizes(records: readonly Build[]): KpiReport['imageSize'] {
  const bySeries = new Map<string, SizePoint[]>();
  for (const r of records) {
    if (r.result !== 'passed' || r.kpis.imageSizeBytes === undefined) continue;
    const k = `${r.product.id} ${r.variant} ${r.platform}`;
    push(bySeries, k, { at: r.finishedAt, bytes: r.kpis.imageSizeBytes });
  }
  return [...bySeries.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([series, points]) => ({ series, first: points[0]!, last: points.at(-1)!, points }));
}

/** A run attempt that failed and a later attempt of the same run that passed. */
function flaky(records: readonly Build[]): FlakyBuild[] {
  const byRun = new Map<string, Build[]>();
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
      tests: [...fail.tests.targets],
    });
  }
  return out.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}

/** A build's pinned dependencies; builds share their fragments and base objects, so this is cached by them. */
function dependencies(r: Build, cache: Map<object, [string, string][]>): [string, string][] {
  let frags = cache.get(r.fragments);
  if (!frags) cache.set(r.fragments, (frags = r.fragments.filter((f) => f.digest).map((f) => [f.ref.split('@')[0]!, `${f.ref}@${f.digest}`])));
  if (!r.base.digest) return frags;
  let base = cache.get(r.base);
  if (!base) cache.set(r.base, (base = [[`base ${r.base.image?.split('@')[0] ?? ''}`.trim(), r.base.digest]]));
  return [...frags, ...base];
}

/**
 * Time to patch: a product's dependency (a fragment or its base) moved to a new digest; from the
 * first sighting of the new digest to the product's first pushed, passed image with it. For a
 * base the watch stamped (record base.seenAt, from the lock pin's `seen`) the sighting is when
 * the watch saw the digest upstream: measured. Otherwise it is the first record that used the
 * digest: an estimate that starts late.
 */
function timeToPatch(records: readonly Build[]): PatchTime[] {
  const sorted = [...records].sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
  const cache = new Map<object, [string, string][]>();
  const deps = sorted.map((r) => dependencies(r, cache));
  const firstSeen = new Map<string, string>();
  sorted.forEach((r, i) => {
    for (const [, d] of deps[i]!) if (!firstSeen.has(d)) firstSeen.set(d, r.startedAt);
  });
  const watched = new Set<string>();
  for (const r of sorted) {
    const d = r.base.digest;
    if (!d || !r.base.seenAt) continue;
    watched.add(d);
    if (r.base.seenAt < firstSeen.get(d)!) firstSeen.set(d, r.base.seenAt);
  }
  const current = new Map<string, string>();
  const out: PatchTime[] = [];
  for (const [i, r] of sorted.entries()) {
    if (r.result !== 'passed' || !r.image.pushed) continue;
    for (const [dep, d] of deps[i]!) {
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

export function computeKpis(records: readonly Build[], aggregates: readonly MonthAggregate[], o: KpiOptions): KpiReport {
  const since = o.since?.toISOString();
  const inWindow = records.filter((r) => !since || r.finishedAt >= since);
  const groups = new Map<string, Build[]>();
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
    groups: keys.map((k) => group(k, groups.get(k) ?? [], aggGroups.get(k) ?? [], o.depthPoints ?? DEPTH_POINTS)),
    imageSize: o.groupsOnly ? [] : imageSizes(inWindow),
    flaky: o.groupsOnly ? [] : flaky(inWindow),
    timeToPatch: o.groupsOnly ? [] : timeToPatch(inWindow),
  };
}

export { parseSince };
