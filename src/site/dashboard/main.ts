// The dashboard: a static page over the read-only API (relative api/v1/ URLs, so it works on
// GitHub Pages, from `factory serve`, and offline). Charts with uPlot, bundled in (no CDN).
// Browser code: bundled by scripts/build.mjs into dist-site/dashboard.js.
import uPlot from 'uplot';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const app = document.getElementById('app')!;

function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

async function get(route: string): Promise<Json> {
  const res = await fetch(`api/v1/${route}`);
  if (!res.ok) throw new Error(`api/v1/${route}: HTTP ${res.status}`);
  return res.json();
}

/** Rows of the overview's target table (the product pages list all of theirs). */
const TARGET_ROWS = 500;

const pct = (x?: number) => (x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
const secs = (ms?: number) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);
const day = (d: string) => Date.parse(`${d}T00:00:00Z`) / 1000;

function card(label: string, value: string): HTMLElement {
  return el('div', { class: 'card' }, el('div', { class: 'value' }, value), el('div', { class: 'label' }, label));
}

/** One chart; `data-points` says how many x values it drew (the browser test reads it). */
function chart(id: string, title: string, xs: number[], series: { label: string; values: (number | null)[] }[], opts: { stepped?: boolean } = {}): HTMLElement {
  const box = el('section', { class: 'chart', 'data-chart': id, 'data-points': String(xs.length) }, el('h3', {}, title));
  if (xs.length === 0) {
    box.append(el('p', { class: 'empty' }, 'no data in this period'));
    return box;
  }
  const colors = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c'];
  const plot = new uPlot(
    {
      width: 520,
      height: 220,
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: colors[i % colors.length],
          width: 2,
          ...(opts.stepped ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
        })),
      ],
      axes: [{}, {}],
      // One day of data (a new factory): a week around it, not uPlot's default years.
      scales: { x: { time: true, ...(xs.length === 1 ? { range: [xs[0]! - 3 * 86_400, xs[0]! + 3 * 86_400] as uPlot.Range.MinMax } : {}) } },
    },
    [xs, ...series.map((s) => s.values)] as uPlot.AlignedData,
  );
  box.append(plot.root);
  return box;
}

function table(head: string[], rows: (Node | string)[][], attrs: Record<string, string> = {}): HTMLElement {
  return el(
    'table',
    attrs,
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))),
  );
}

function result(r?: string): HTMLElement {
  return el('span', { class: `result ${r ?? 'none'}` }, r ?? 'not built');
}

function runLink(latest?: Json): Node | string {
  if (!latest) return '–';
  return latest.url ? el('a', { href: latest.url }, `run ${latest.run}`) : `run ${latest.run}`;
}

function charts(kpi: Json): HTMLElement {
  const d = kpi.daily as Json[];
  const xs = d.map((p) => day(p.day));
  const pools = Object.keys(kpi.dailyByPool).sort();
  const poolDays = [...new Set(pools.flatMap((p) => kpi.dailyByPool[p].map((x: Json) => x.day)))].sort() as string[];
  const depthTimes = [...new Set(kpi.byPool.flatMap((g: Json) => g.queueDepth.series.map((s: Json) => s.at)))].sort() as string[];
  // One sweep per pool over the merged change points (a scan per point was quadratic).
  const depthSeries = (g: Json): number[] => {
    const out: number[] = [];
    let j = 0;
    let depth = 0;
    for (const at of depthTimes) {
      while (j < g.queueDepth.series.length && g.queueDepth.series[j].at <= at) depth = g.queueDepth.series[j++].depth;
      out.push(depth);
    }
    return out;
  };
  return el(
    'div',
    { class: 'charts' },
    chart('duration', 'Build duration, daily p50 (s)', xs, [{ label: 'p50', values: d.map((p) => (p.wallTimeMsP50 ?? null) && p.wallTimeMsP50 / 1000) }]),
    chart('success', 'Success rate, daily (%)', xs, [{ label: 'success', values: d.map((p) => (100 * p.passed) / p.builds) }]),
    chart('cache', 'Cache hit ratio, daily (%)', xs, [
      { label: 'cache hits', values: d.map((p) => (p.cacheHitRatio === undefined ? null : 100 * p.cacheHitRatio)) },
    ]),
    chart(
      'queue-wait',
      'Queue wait per pool, daily p50 (s)',
      poolDays.map(day),
      pools.map((p) => ({ label: p, values: poolDays.map((dd) => kpi.dailyByPool[p].find((x: Json) => x.day === dd)?.queueWaitMsP50 / 1000 || null) })),
    ),
    chart(
      'queue-depth',
      'Queue depth per pool (jobs waiting)',
      depthTimes.map((t) => Date.parse(t) / 1000),
      kpi.byPool.map((g: Json) => ({ label: g.key, values: depthSeries(g) })),
      { stepped: true },
    ),
  );
}

async function compatMatrix(): Promise<HTMLElement> {
  const fragments = (await get('fragments.json')) as Json[];
  const rows: (Node | string)[][] = [];
  const used = fragments.filter((x) => x.users.length);
  const all = await Promise.all(used.map((f) => get(`compat/${f.name}/${f.version}.json`)));
  for (const [i, f] of used.entries()) {
    for (const r of all[i].rows)
      rows.push([
        f.id,
        r.product,
        r.platform,
        r.accelerator,
        r.base.split('@').pop().slice(0, 19),
        result(r.last.result),
        `${r.passed} / ${r.failed}`,
        runLink(r.last),
      ]);
  }
  const box = el('section', { id: 'compat' }, el('h2', {}, 'Compatibility: what passed together'));
  box.append(
    rows.length
      ? table(['fragment', 'product', 'platform', 'accelerator', 'base', 'last', 'passed / failed', 'last run'], rows, { 'data-table': 'compat' })
      : el('p', { class: 'empty' }, 'no builds recorded yet'),
  );
  return box;
}

async function overview(index: Json): Promise<void> {
  const [kpi, targets] = await Promise.all([get('kpi.json'), get('targets.json')]);
  const a = kpi.all;
  const nav = el(
    'nav',
    {},
    ...((await get('products.json')) as Json[]).map((p) => el('a', { href: `#/product/${p.name}/${p.version}`, 'data-product': p.id }, p.id)),
  );
  app.replaceChildren(el('h1', {}, `${index.factory}: container factory`), nav);
  if (!a) {
    app.append(
      el('p', { class: 'empty', id: 'no-builds' }, 'No builds yet. Records appear here after the first push to the default branch runs the factory workflow.'),
    );
  } else {
    app.append(
      el(
        'div',
        { class: 'cards' },
        card('builds', String(a.builds)),
        card('success', pct(a.successRate)),
        card('build p50', secs(a.wallTimeMs?.p50)),
        card('cache hits', pct(a.cacheHitRatio)),
        card('queue wait p50', secs(a.queueWaitMs?.p50)),
      ),
      charts(kpi),
    );
  }
  // A table of 10,000 rows costs the browser seconds; the first rows, failed first, say what matters.
  const shown = [...targets].sort((a: Json, b: Json) => Number(b.latest?.result === 'failed') - Number(a.latest?.result === 'failed')).slice(0, TARGET_ROWS);
  app.append(
    el('h2', {}, 'Targets'),
    table(
      ['target', 'product', 'platform', 'pool', 'latest', 'finished', 'run'],
      shown.map((t: Json) => [t.name, t.product, t.platform, t.pool, result(t.latest?.result), t.latest?.finishedAt ?? '–', runLink(t.latest)]),
      { 'data-table': 'targets' },
    ),
  );
  if (targets.length > shown.length)
    app.append(el('p', { class: 'more' }, `${shown.length} of ${targets.length} targets shown (failed first); api/v1/targets.json lists them all.`));
  app.append(await compatMatrix());
  if (index.counts.skipped)
    app.append(el('p', { class: 'warning' }, `${index.counts.skipped} record line(s) could not be read; kpi.json lists them under "skipped".`));
}

async function product(name: string, version: string): Promise<void> {
  const p = await get(`products/${name}/${version}.json`);
  app.replaceChildren(
    el('p', {}, el('a', { href: '#' }, '← all products')),
    el('h1', { 'data-page': 'product' }, p.id),
    el('p', {}, p.description ?? ''),
    el(
      'p',
      {},
      `image ${p.image}, manifest ${p.manifest}, template ${p.template}, base ${p.base.image}${p.base.digest ? `@${p.base.digest.slice(0, 19)}` : ''}`,
    ),
    el('h2', {}, 'Fragments'),
    el('ul', {}, ...p.fragments.map((f: string) => el('li', {}, f))),
    el('h2', {}, 'Targets'),
    table(
      ['target', 'variant', 'platform', 'pool', 'latest', 'run'],
      p.targetDetails.map((t: Json) => [t.name, t.variant, t.platform, t.pool, result(t.latest?.result), runLink(t.latest)]),
    ),
    el('h2', {}, 'Tests'),
    table(
      ['target', 'test', 'from', 'runs here'],
      (await Promise.all(p.targets.map((t: string) => get(`targets/${t}.json`)))).flatMap((t: Json) =>
        t.tests.map((x: Json) => [t.name, x.name, x.origin, x.runsHere ? 'yes' : `skipped: ${x.skipReason}`]),
      ),
    ),
    el('h2', {}, 'History'),
    p.history.length
      ? table(
          ['finished', 'target', 'result', 'duration', 'cache hits', 'run'],
          p.history.map((h: Json) => [h.finishedAt, h.target, result(h.result), secs(h.wallTimeMs), pct(h.cacheHitRatio), runLink(h)]),
          { 'data-table': 'history' },
        )
      : el('p', { class: 'empty' }, 'no builds yet'),
  );
}

async function route(): Promise<void> {
  app.replaceChildren(el('p', { class: 'loading' }, 'Loading…'));
  try {
    const index = await get('index.json');
    const m = /^#\/product\/([^/]+)\/([^/]+)$/.exec(location.hash);
    if (m) await product(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
    else await overview(index);
    document.body.dataset.ready = 'true';
  } catch (e) {
    app.replaceChildren(el('p', { class: 'error' }, `Could not load the factory data: ${(e as Error).message}`));
    document.body.dataset.ready = 'error';
  }
}

window.addEventListener('hashchange', () => {
  document.body.dataset.ready = 'false';
  void route();
});
void route();
