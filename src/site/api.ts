// The read-only API as data: every route of api/v1/ and its JSON, from the resolved factory and
// its records. Pure (no clock, no I/O): the same inputs give byte-identical files, which
// `factory site` writes and `factory serve` answers from.
import type { z } from 'zod';
import type { FactoryRecord } from '../core/record.js';
import { refOf as ref } from '../core/ids.js';
import type { Build } from '../obs/build.js';
import type { ResolvedFactory, Target } from '../core/types.js';
import { compat, recordsByRef } from '../obs/compat.js';
import { computeKpis, push } from '../obs/kpi.js';
import type { RecordSet } from '../obs/read.js';
import { percentile, ratio } from '../obs/stats.js';
import * as S from './schemas.js';

export const API_PREFIX = 'api/v1';
/** Newest builds a target's route lists (historyTotal counts them all; kpi.json has the rest). */
export const TARGET_HISTORY = 100;
/** Newest builds a product's route lists, all its targets together. */
export const PRODUCT_HISTORY = 50;
/** Queue depth points per product in kpi.json (the pools get DEPTH_POINTS). */
const PRODUCT_DEPTH_POINTS = 60;

/** The newest `cap` of a newest-first list, and how many there are. */
function capped<T, E>(items: readonly T[], cap: number, f: (x: T) => E): { history: E[]; historyTotal: number } {
  return { history: items.slice(0, cap).map(f), historyTotal: items.length };
}

/** One route: its path under the site root, the schema it answers with, and the value. */
export interface Route {
  path: string;
  schema: z.ZodType;
  value: unknown;
}

const byTime = (a: Build, b: Build) => (a.finishedAt < b.finishedAt ? 1 : a.finishedAt > b.finishedAt ? -1 : 0);

function entry(r: Build): z.infer<typeof S.HistoryEntry> {
  const e: z.infer<typeof S.HistoryEntry> = {
    finishedAt: r.finishedAt,
    result: r.result,
    run: `${r.run.id}/${r.run.attempt}`,
    event: r.run.event,
    wallTimeMs: r.kpis.wallTimeMs,
    pushed: r.image.pushed,
  };
  if (r.run.url) e.url = r.run.url;
  if (r.kpis.cacheHitRatio !== undefined) e.cacheHitRatio = r.kpis.cacheHitRatio;
  if (r.kpis.queueWaitMs !== undefined) e.queueWaitMs = r.kpis.queueWaitMs;
  if (r.kpis.imageSizeBytes !== undefined) e.imageSizeBytes = r.kpis.imageSizeBytes;
  if (r.image.digest) e.digest = r.image.digest;
  return e;
}

function latestOf(rs: readonly Build[] | undefined): z.infer<typeof S.LatestResult> | undefined {
  const r = rs?.[0];
  if (!r) return undefined;
  return {
    result: r.result,
    finishedAt: r.finishedAt,
    run: `${r.run.id}/${r.run.attempt}`,
    ...(r.run.url ? { url: r.run.url } : {}),
    ...(r.image.digest ? { digest: r.image.digest } : {}),
    pushed: r.image.pushed,
  };
}

function targetSummary(t: Target, records: Map<string, Build[]>): z.infer<typeof S.TargetSummary> {
  const latest = latestOf(records.get(t.name));
  return {
    name: t.name,
    id: t.id,
    product: t.product.id,
    variant: t.variant.name,
    platform: t.platform,
    accelerator: t.accelerator,
    pool: t.pool.doc.name,
    tags: t.tags,
    ...(latest ? { latest } : {}),
  };
}

function testPlan(t: Target): z.infer<typeof S.PlannedTest>[] {
  const declared = [
    ...t.product.fragments.flatMap((f) => (f.meta.doc.tests ?? []).map((check) => ({ origin: ref(f.meta.doc), check }))),
    ...(t.product.product.doc.tests ?? []).map((check) => ({ origin: t.product.id, check })),
  ];
  return declared.map(({ origin, check }) => {
    const skipped = check.skip?.accelerator?.includes(t.accelerator) ?? false;
    return { name: check.name, origin, runsHere: !skipped, ...(skipped ? { skipReason: check.skip!.reason } : {}), check };
  });
}

function daily(records: readonly Build[]): z.infer<typeof S.DayPoint>[] {
  const days = new Map<string, Build[]>();
  for (const r of records) push(days, r.finishedAt.slice(0, 10), r);
  return [...days.keys()].sort().map((day) => {
    const rs = days.get(day)!;
    const p: z.infer<typeof S.DayPoint> = { day, builds: rs.length, passed: rs.filter((r) => r.result === 'passed').length };
    const wall = percentile(
      rs.map((r) => r.kpis.wallTimeMs),
      50,
    );
    const hit = ratio(
      rs.reduce((n, r) => n + r.kpis.steps.cached, 0),
      rs.reduce((n, r) => n + r.kpis.steps.total, 0),
    );
    const queue = percentile(
      rs.flatMap((r) => (r.kpis.queueWaitMs === undefined ? [] : [r.kpis.queueWaitMs])),
      50,
    );
    if (wall !== undefined) p.wallTimeMsP50 = wall;
    if (hit !== undefined) p.cacheHitRatio = hit;
    if (queue !== undefined) p.queueWaitMsP50 = queue;
    return p;
  });
}

function kpis(factory: ResolvedFactory, set: RecordSet): z.infer<typeof S.Kpis> {
  const pools = new Map(factory.targets.map((t) => [t.name, t.pool.doc.name]));
  const poolOf = (t: string) => pools.get(t) ?? 'unknown';
  const all = computeKpis(set.records, set.aggregates, { poolOf });
  const byPool = computeKpis(set.records, set.aggregates, { poolOf, by: 'pool', groupsOnly: true });
  const dailyByPool: Record<string, z.infer<typeof S.DayPoint>[]> = {};
  const poolRecords = new Map<string, Build[]>();
  for (const r of set.records) push(poolRecords, poolOf(r.target), r);
  for (const g of byPool.groups) dailyByPool[g.key] = daily(poolRecords.get(g.key) ?? []);
  return {
    ...(all.groups[0] ? { all: all.groups[0] } : {}),
    byPool: byPool.groups,
    byProduct: computeKpis(set.records, set.aggregates, { poolOf, by: 'product', groupsOnly: true, depthPoints: PRODUCT_DEPTH_POINTS }).groups,
    daily: daily(set.records),
    dailyByPool,
    flaky: all.flaky,
    timeToPatch: all.timeToPatch,
    skipped: set.problems,
  };
}

function productRoutes(factory: ResolvedFactory, records: Map<string, Build[]>): Route[] {
  const targetsOf = new Map<string, Target[]>();
  for (const t of factory.targets) push(targetsOf, t.product.id, t);
  const summaries = factory.products.map((p) => {
    const targets = targetsOf.get(p.id) ?? [];
    const latest = targets.map((t) => records.get(t.name)?.[0]?.result);
    const summary: z.infer<typeof S.ProductSummary> = {
      id: p.id,
      name: p.product.doc.name,
      version: p.product.doc.version,
      ...(p.product.doc.description ? { description: p.product.doc.description } : {}),
      image: p.product.doc.image,
      manifest: ref(p.manifest.doc),
      template: ref(p.template.meta.doc),
      base: { name: p.base.name, image: p.base.image, ...(p.base.digest ? { digest: p.base.digest } : {}) },
      fragments: p.fragments.map((f) => ref(f.meta.doc)),
      accelerator: p.product.doc.accelerator,
      targets: targets.map((t) => t.name),
      results: {
        passed: latest.filter((r) => r === 'passed').length,
        failed: latest.filter((r) => r === 'failed').length,
        none: latest.filter((r) => r === undefined).length,
      },
    };
    const detail: z.infer<typeof S.ProductDetail> = {
      ...summary,
      variants: p.variants.map((v) => ({ name: v.name, matrix: v.matrix, args: v.args })),
      targetDetails: targets.map((t) => targetSummary(t, records)),
      ...capped(
        targets.flatMap((t) => (records.get(t.name) ?? []).map((r) => [r, t.name] as const)).sort(([a], [b]) => byTime(a, b)),
        PRODUCT_HISTORY,
        ([r, target]) => ({ ...entry(r), target }),
      ),
    };
    return { summary, route: { path: `${API_PREFIX}/products/${p.product.doc.name}/${p.product.doc.version}.json`, schema: S.ProductDetail, value: detail } };
  });
  return [{ path: `${API_PREFIX}/products.json`, schema: S.ProductSummary.array(), value: summaries.map((s) => s.summary) }, ...summaries.map((s) => s.route)];
}

function catalogRoutes(factory: ResolvedFactory): Route[] {
  const users = (pred: (p: ResolvedFactory['products'][number]) => boolean) => factory.products.filter(pred).map((p) => p.id);
  const l = factory.loaded;
  return [
    {
      path: `${API_PREFIX}/manifests.json`,
      schema: S.ManifestSummary.array(),
      value: l.manifests.map(({ doc: m }) => ({
        id: ref(m),
        name: m.name,
        version: m.version,
        template: m.template,
        fragments: m.fragments,
        ...(m.matrix ? { matrix: m.matrix } : {}),
        products: users((p) => ref(p.manifest.doc) === ref(m)),
      })),
    },
    {
      path: `${API_PREFIX}/templates.json`,
      schema: S.TemplateSummary.array(),
      value: l.templates.map(({ meta: { doc: t }, digest }) => ({
        id: ref(t),
        name: t.name,
        version: t.version,
        ...(t.description ? { description: t.description } : {}),
        base: t.base,
        slots: t.slots,
        digest,
        users: users((p) => ref(p.template.meta.doc) === ref(t)),
      })),
    },
    {
      path: `${API_PREFIX}/fragments.json`,
      schema: S.FragmentSummary.array(),
      value: l.fragments.map(({ meta: { doc: f }, digest }) => ({
        id: ref(f),
        name: f.name,
        version: f.version,
        ...(f.description ? { description: f.description } : {}),
        slot: f.slot,
        digest,
        tests: (f.tests ?? []).map((t) => t.name),
        users: users((p) => p.fragments.some((x) => ref(x.meta.doc) === ref(f))),
      })),
    },
  ];
}

function compatRoutes(factory: ResolvedFactory, set: RecordSet): Route[] {
  const accel = new Map(factory.targets.map((t) => [t.name, t.accelerator]));
  const refs = [
    ...factory.loaded.fragments.map((f) => f.meta.doc),
    ...factory.loaded.templates.map((t) => t.meta.doc),
    ...factory.products.map((p) => p.product.doc),
  ];
  // One route per name@version: compat matches a ref whatever kind of document it names.
  const unique = [...new Map(refs.map((d) => [ref(d), d])).values()];
  const byRef = recordsByRef(set.records);
  return unique.map((d) => ({
    path: `${API_PREFIX}/compat/${d.name}/${d.version}.json`,
    schema: S.Compat,
    value: { ref: ref(d), rows: compat(byRef.get(ref(d)) ?? [], { ref: ref(d), accelerator: (t) => accel.get(t) ?? 'unknown' }) },
  }));
}

/** Every route of the API, sorted by path; index.json lists them. */
export function buildApi(factory: ResolvedFactory, set: RecordSet, name = 'factory'): Route[] {
  const records = new Map<string, Build[]>();
  for (const r of [...set.records].sort(byTime)) push(records, r.target, r);
  const whole = new Map<string, FactoryRecord>(set.latest.map((r) => [r.target, r]));
  const routes: Route[] = [
    ...productRoutes(factory, records),
    ...catalogRoutes(factory),
    { path: `${API_PREFIX}/targets.json`, schema: S.TargetSummary.array(), value: factory.targets.map((t) => targetSummary(t, records)) },
    ...factory.targets.map((t) => ({
      path: `${API_PREFIX}/targets/${t.name}.json`,
      schema: S.TargetDetail,
      value: {
        ...targetSummary(t, records),
        mergedTags: t.mergedTags,
        tests: testPlan(t),
        ...(whole.has(t.name) ? { record: whole.get(t.name)! } : {}),
        ...capped(records.get(t.name) ?? [], TARGET_HISTORY, entry),
      },
    })),
    { path: `${API_PREFIX}/records.json`, schema: S.Records, value: set.latest },
    { path: `${API_PREFIX}/kpi.json`, schema: S.Kpis, value: kpis(factory, set) },
    ...compatRoutes(factory, set),
  ].sort((a, b) => (a.path < b.path ? -1 : 1));
  const newest = set.records.reduce((m, r) => (r.finishedAt > m ? r.finishedAt : m), '');
  const index: Route = {
    path: `${API_PREFIX}/index.json`,
    schema: S.Index,
    value: {
      factory: name,
      generatedAt: newest || 'never',
      counts: { products: factory.products.length, targets: factory.targets.length, records: set.records.length, skipped: set.problems.length },
      routes: routes.map((r) => `/${r.path}`),
    },
  };
  return [index, ...routes];
}

/**
 * The route's file text. Not parsed through its schema here: that was most of the time of a
 * 10,000-target site. The values are built from checked records with the schemas' own types,
 * and test/site/api.test.ts parses every route of a site through its schema and asserts the
 * output is the value itself (no key stripped, none missing), so what is written is on-schema.
 */
export function routeText(r: Route): string {
  return JSON.stringify(r.value) + '\n';
}
