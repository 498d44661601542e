// `factory kpi` and `factory compat`: the factory's records read back as answers. Both read
// records/ (history, aggregates, latest files); the factory itself is loaded only to map targets
// to their pools and accelerators, and a factory that does not load only costs that mapping.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { OutputFile, ResolvedFactory } from '../core/types.js';
import { writeOutputs } from '../io/tree.js';
import { createSiteServer } from '../site/serve.js';
import { siteFiles } from '../site/site.js';
import { compat, type CompatRow } from '../obs/compat.js';
import { computeKpis, KPI_GROUPINGS, type KpiGrouping, type KpiReport } from '../obs/kpi.js';
import { readRecords, type RecordSet } from '../obs/read.js';
import { parseSince } from '../obs/stats.js';
import type { Command, CommandContext } from './commands.js';
import { EXIT, UserError } from './errors.js';
import { paint, printJson } from './output.js';

async function targetIndex(ctx: CommandContext): Promise<Map<string, { pool: string; accelerator: string }>> {
  let factory: ResolvedFactory;
  try {
    factory = await ctx.load();
  } catch {
    ctx.io.err(paint(ctx.io, 'yellow', "warning: the factory does not load ('factory validate' says why); pools and accelerators show as unknown"));
    return new Map();
  }
  return new Map(factory.targets.map((t) => [t.name, { pool: t.pool.doc.name, accelerator: t.accelerator }]));
}

/** Unreadable lines are named on stderr and counted in the output, never dropped silently. */
function reportProblems(ctx: CommandContext, set: RecordSet): void {
  for (const p of set.problems) ctx.io.err(paint(ctx.io, 'yellow', `warning: ${p.file}:${p.line}: ${p.message} (skipped)`));
}

const pct = (x?: number) => (x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);
const secs = (ms?: number) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`);
const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function kpiText(r: KpiReport, skipped: number): string {
  const head = ['group', 'builds', 'success', 'retried', 'p50', 'p95', 'cache hit', 'queue p50', 'queue p95', 'max queued', 'tests passed'];
  const rows = r.groups.map((g) => [
    g.key,
    `${g.builds}${g.aggregated ? ` (${g.aggregated} aggr.)` : ''}`,
    pct(g.successRate),
    pct(g.retryRate),
    secs(g.wallTimeMs?.p50),
    secs(g.wallTimeMs?.p95),
    pct(g.cacheHitRatio),
    secs(g.queueWaitMs?.p50),
    secs(g.queueWaitMs?.p95),
    String(g.queueDepth.max),
    `${g.tests.passed}/${g.tests.total}`,
  ]);
  if (!r.groups.length) return 'no builds recorded yet: records/ is empty (the record job writes it on pushes to the default branch).';
  const out = [`KPIs by ${r.by}${r.since ? ` since ${r.since}` : ''}`, table([head, ...rows])];
  if (r.imageSize.length) {
    out.push('', 'Image size (first → last passed build):');
    for (const s of r.imageSize) out.push(`  ${s.series}: ${mib(s.first.bytes)} → ${mib(s.last.bytes)} (${s.points.length} builds)`);
  }
  if (r.flaky.length) {
    out.push('', 'Flaky (failed, then passed on a re-run of the same run):');
    for (const f of r.flaky) out.push(`  ${f.target} run ${f.run}: ${f.kind} failed in attempt ${f.failedAttempt}, passed in ${f.passedAttempt}`);
  }
  if (r.timeToPatch.length) {
    out.push('', 'Time to patch (new digest first seen → its image pushed; measured when the base watch saw it, else from the first build using it):');
    for (const t of r.timeToPatch)
      out.push(
        `  ${t.product} ${t.dependency}: ${t.hours.toFixed(1)} h (${t.measured ? 'measured' : 'estimated'}; seen ${t.firstSeenAt}, pushed ${t.pushedAt})`,
      );
  }
  const missing = r.groups.reduce((n, g) => n + g.queueWaitMissing, 0);
  if (missing) out.push('', `${missing} build(s) have no queue wait (their records say why: kpis.queueWaitMissing).`);
  if (skipped) out.push('', `${skipped} unreadable record line(s) skipped (named above).`);
  return out.join('\n');
}

export const kpi: Command = {
  usage: 'kpi [--since DATE|Nd] [--by pool|product|platform|fragment]',
  summary: 'Build KPIs from records: durations, success, retries, cache hits, queue wait and depth, sizes, flaky builds, time to patch.',
  details:
    'Reads records/history/ (one line per build), the monthly aggregates retention leaves, and the latest records.\nPercentiles come from raw lines only; aggregated months count in the totals and rates.',
  options: {
    since: { type: 'string', description: 'only builds that finished since then: 2026-11-01 or 30d' },
    by: { type: 'string', description: `group by ${KPI_GROUPINGS.join('|')}` },
    records: { type: 'string', description: 'the records directory (default: records)' },
  },
  async run(ctx) {
    const by = ctx.values.by as string | undefined;
    if (by !== undefined && !(KPI_GROUPINGS as readonly string[]).includes(by)) {
      throw new UserError(`--by ${by}: expected one of ${KPI_GROUPINGS.join(', ')}`, EXIT.usage);
    }
    const sinceText = ctx.values.since as string | undefined;
    const since = sinceText === undefined ? undefined : parseSince(sinceText, new Date());
    if (sinceText !== undefined && !since)
      throw new UserError(`--since ${sinceText}: expected a date (2026-11-01) or a count of days or hours (30d, 12h)`, EXIT.usage);
    const set = await readRecords(ctx.root, (ctx.values.records as string | undefined) ?? 'records');
    reportProblems(ctx, set);
    const index = by === 'pool' ? await targetIndex(ctx) : new Map();
    const report = computeKpis(set.records, set.aggregates, {
      ...(since ? { since } : {}),
      ...(by ? { by: by as KpiGrouping } : {}),
      poolOf: (t) => index.get(t)?.pool ?? 'unknown',
    });
    if (ctx.json) printJson(ctx.io, { ...report, skipped: set.problems });
    else ctx.io.out(kpiText(report, set.problems.length));
    return EXIT.ok;
  },
};

function compatText(ref: string, rows: CompatRow[]): string {
  if (!rows.length) return `no records of builds with ${ref} yet`;
  const head = ['result', 'passed', 'failed', 'product', 'platform', 'accel.', 'template', 'base', 'fragments', 'last run'];
  return [
    `Built together with ${ref} (passing combinations first):`,
    table([
      head,
      ...rows.map((r) => [
        r.last.result,
        String(r.passed),
        String(r.failed),
        r.product,
        r.platform,
        r.accelerator,
        r.template,
        r.base,
        r.fragments.join(', '),
        `${r.last.finishedAt} ${r.last.url ?? r.last.run}`,
      ]),
    ]),
  ].join('\n');
}

export const compatCmd: Command = {
  usage: 'compat <fragment@version|product@version>',
  summary: 'What was built and tested together with a fragment, template or product version, on which platform, with the last run.',
  positionals: { min: 1, max: 1 },
  options: { records: { type: 'string', description: 'the records directory (default: records)' } },
  async run(ctx) {
    const ref = ctx.positionals[0]!;
    if (!/^[a-z0-9][a-z0-9._-]*@[0-9A-Za-z.+-]+$/.test(ref))
      throw new UserError(`'${ref}': expected name@version, e.g. python@3.1.0 or llm-runtime@1.4.0`, EXIT.usage);
    const set = await readRecords(ctx.root, (ctx.values.records as string | undefined) ?? 'records');
    reportProblems(ctx, set);
    const index = await targetIndex(ctx);
    const rows = compat(set.records, { ref, accelerator: (t) => index.get(t)?.accelerator ?? 'unknown' });
    if (ctx.json) printJson(ctx.io, { ref, rows, skipped: set.problems });
    else ctx.io.out(compatText(ref, rows));
    return EXIT.ok;
  },
};

async function siteOf(ctx: CommandContext): Promise<OutputFile[]> {
  const factory = await ctx.load();
  const set = await readRecords(ctx.root, (ctx.values.records as string | undefined) ?? 'records');
  reportProblems(ctx, set);
  return siteFiles(factory, set, factory.policy.name);
}

export const site: Command = {
  usage: 'site --out DIR',
  summary: 'Write the static site: the read-only API under api/v1/ (with openapi.json) and the dashboard (index.html).',
  details: 'The same inputs give byte-identical files. DIR is made to hold exactly the site (stale files of an earlier site are removed), all or nothing.',
  options: {
    out: { type: 'string', description: 'where to write the site (required)' },
    records: { type: 'string', description: 'the records directory (default: records)' },
  },
  async run(ctx) {
    const out = ctx.values.out as string | undefined;
    if (!out) throw new UserError('--out DIR is required: where to write the site', EXIT.usage);
    const files = await siteOf(ctx);
    const dir = path.resolve(ctx.root, out);
    const present = existsSync(dir)
      ? (await fs.readdir(dir, { recursive: true, withFileTypes: true }))
          .filter((e) => e.isFile())
          .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      : [];
    const wanted = new Set(files.map((f) => f.path));
    const res = await writeOutputs(dir, files, { remove: present.filter((p) => !wanted.has(p)) });
    if (ctx.json) printJson(ctx.io, { out: dir, files: files.length, written: res.written.length });
    else ctx.io.out(`wrote the site to ${path.relative(process.cwd(), dir) || '.'}: ${files.length} files, ${res.written.length} changed`);
    return EXIT.ok;
  },
};

export const serve: Command = {
  usage: 'serve [--port N] [--host 127.0.0.1]',
  summary: 'Serve the site (dashboard and read-only API) locally; GET and HEAD only.',
  options: {
    port: { type: 'string', description: 'port (default 8080; 0 picks a free one)' },
    host: { type: 'string', description: 'address to listen on (default 127.0.0.1)' },
    records: { type: 'string', description: 'the records directory (default: records)' },
  },
  async run(ctx) {
    const port = Number((ctx.values.port as string | undefined) ?? '8080');
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UserError(`--port ${String(ctx.values.port)}: expected a port number 0-65535`, EXIT.usage);
    const host = (ctx.values.host as string | undefined) ?? '127.0.0.1';
    const server = createSiteServer(await siteOf(ctx));
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
    const addr = server.address() as AddressInfo;
    ctx.io.out(`serving the factory site on http://${addr.address}:${addr.port}/ (Ctrl-C stops)`);
    await new Promise<void>((resolve) => {
      const stop = () => server.close(() => resolve());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return EXIT.ok;
  },
};
