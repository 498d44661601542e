// npm run bench:site — `factory site` as a whole process (node bin/factory.js, from disk to disk)
// on synthetic factories with a synthetic record history, and the dashboard's first contentful
// paint and time to data in headless chromium on the site it wrote. The history: every target
// built once every --every days over --days days (all passed but one in 20, with queue times),
// written as the record job writes it. Wall and CPU (user+sys, /usr/bin/time) are medians of
// --runs runs; the in-process part (read records + build the API, no CLI start, no writes) is
// printed beside it and labelled as a part.
//   npx tsx bench/site.ts [--sizes 100,1000,10000] [--days 90] [--every 7] [--runs 3] [--json]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseRecord, serializeRecord, type FactoryRecord } from '../src/core/record.js';
import { recordPath } from '../src/action/record-paths.js';
import { buildFactory } from '../src/core/index.js';
import { readTree } from '../src/io/tree.js';
import { byMonthFile, mergeHistory } from '../src/obs/history.js';
import { readRecords } from '../src/obs/read.js';
import { percentile } from '../src/obs/stats.js';
import { buildApi, routeText } from '../src/site/api.js';
import { syntheticFactory } from './synthetic.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,10000' },
    days: { type: 'string', default: '90' },
    every: { type: 'string', default: '7' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const sizes = values.sizes.split(',').map(Number);
const days = Number(values.days);
const every = Number(values.every);
const runs = Number(values.runs);
const base = parseRecord(fs.readFileSync(path.join(repo, 'test/action/fixtures/records/passed.json'), 'utf8'), 'passed.json');

function cli(root: string, args: string[]): { wallMs: number; cpuMs: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', process.execPath, path.join(repo, 'bin/factory.js'), '--root', root, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`factory ${args.join(' ')} failed: ${r.stderr.slice(-500)}`);
  const [wall, user, sys] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number];
  return { wallMs: wall * 1000, cpuMs: (user + sys) * 1000 };
}

function writeFactory(size: number): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-bench-site-'));
  for (const f of syntheticFactory(size)) {
    fs.mkdirSync(path.dirname(path.join(root, f.path)), { recursive: true });
    fs.writeFileSync(path.join(root, f.path), f.bytes);
  }
  cli(root, ['lock']);
  return root;
}

/** The history the record job would have written: one build per target every `every` days. */
async function writeHistory(root: string): Promise<number> {
  const factory = buildFactory(await readTree(root)).factory!;
  const end = Date.parse('2026-12-01T00:00:00Z');
  const records: FactoryRecord[] = [];
  factory.targets.forEach((t, i) => {
    for (let d = i % every; d < days; d += every) {
      const started = end - (days - d) * 86_400_000 + ((i * 613) % 86_400) * 1000;
      const wall = 60_000 + ((i * 7919 + d * 104729) % 240_000);
      const created = started - ((i * 31 + d) % 120) * 1000;
      records.push({
        ...base,
        target: t.name,
        product: { id: t.product.id, name: t.product.product.doc.name, version: t.product.product.doc.version },
        variant: t.variant.name,
        platform: t.platform,
        result: (i + d) % 20 === 0 ? 'failed' : 'passed',
        run: { ...base.run, id: String(1000 + d) },
        kpis: {
          ...base.kpis,
          wallTimeMs: wall,
          queueWaitMs: started - created,
          queue: { createdAt: new Date(created).toISOString(), startedAt: new Date(started).toISOString() },
        },
        startedAt: new Date(started).toISOString(),
        finishedAt: new Date(started + wall).toISOString(),
      });
    }
  });
  for (const [rel, rs] of byMonthFile('records', records)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), mergeHistory('', rs, rel));
  }
  // And the latest-per-target files beside it, as the record job leaves them.
  const newest = new Map<string, FactoryRecord>();
  for (const r of records) if ((newest.get(r.target)?.finishedAt ?? '') <= r.finishedAt) newest.set(r.target, r);
  for (const r of newest.values()) {
    const rel = recordPath('records', { productName: r.product.name, productVersion: r.product.version, target: r.target });
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), serializeRecord(r));
  }
  return records.length;
}

/** The parts, in one process (no CLI start, no writes): load the factory, read records, build the API's text. */
async function inProcess(root: string): Promise<{ loadMs: number; readMs: number; apiMs: number }> {
  const t0 = performance.now();
  const factory = buildFactory(await readTree(root)).factory!;
  const t1 = performance.now();
  const set = await readRecords(root);
  const t2 = performance.now();
  for (const r of buildApi(factory, set)) routeText(r);
  return { loadMs: t1 - t0, readMs: t2 - t1, apiMs: performance.now() - t2 };
}

async function paint(site: string): Promise<{ fcpMs: number; readyMs: number }> {
  const { chromium } = await import('playwright-core');
  const server = spawn(process.execPath, [path.join(repo, 'bin/factory.js'), '--root', path.dirname(site), 'serve', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const url = await new Promise<string>((resolve) =>
    server.stdout!.on('data', (d) => /http:\/\/\S+\//.exec(String(d)) && resolve(/http:\/\/\S+\//.exec(String(d))![0])),
  );
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    const readyMs = Date.now() - t0;
    const fcpMs = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1);
    return { fcpMs, readyMs };
  } finally {
    await browser.close();
    server.kill();
  }
}

const med = (xs: number[]) => percentile(xs, 50)!;
const rows = [];
for (const size of sizes) {
  const root = writeFactory(size);
  try {
    const builds = await writeHistory(root);
    const historyMiB =
      fs.readdirSync(path.join(root, 'records/history'), { recursive: true, encoding: 'utf8' }).reduce((n, f) => {
        const p = path.join(root, 'records/history', f);
        return n + (fs.statSync(p).isFile() ? fs.statSync(p).size : 0);
      }, 0) / 1048576;
    const cold: { wallMs: number; cpuMs: number }[] = [];
    const again: { wallMs: number; cpuMs: number }[] = [];
    const part: { loadMs: number; readMs: number; apiMs: number }[] = [];
    for (let i = 0; i < runs; i++) {
      fs.rmSync(path.join(root, '_site'), { recursive: true, force: true });
      cold.push(cli(root, ['site', '--out', '_site']));
      again.push(cli(root, ['site', '--out', '_site']));
      part.push(await inProcess(root));
    }
    const files = fs.readdirSync(path.join(root, '_site'), { recursive: true }).length;
    const browser = await paint(path.join(root, '_site'));
    rows.push({
      targets: size,
      builds,
      historyMiB: Number(historyMiB.toFixed(1)),
      siteFiles: files,
      coldWallMs: med(cold.map((c) => c.wallMs)),
      coldCpuMs: med(cold.map((c) => c.cpuMs)),
      noChangeWallMs: med(again.map((c) => c.wallMs)),
      loadMs: Math.round(med(part.map((p) => p.loadMs))),
      readMs: Math.round(med(part.map((p) => p.readMs))),
      apiMs: Math.round(med(part.map((p) => p.apiMs))),
      fcpMs: Math.round(browser.fcpMs),
      readyMs: browser.readyMs,
    });
  } finally {
    if (process.env.KEEP) console.log('kept', root);
    else fs.rmSync(root, { recursive: true, force: true });
  }
}

if (values.json) console.log(JSON.stringify(rows, null, 2));
else {
  console.log(
    `factory site, whole process (node bin/factory.js --root DIR site --out _site), history: each target built every ${every} days over ${days} days; median of ${runs}`,
  );
  console.log(
    'targets  builds   history  files   site cold (wall / cpu)   site no-change   parts in-process: load / read records / API text   dashboard FCP   data shown',
  );
  for (const r of rows) {
    console.log(
      `${String(r.targets).padStart(7)}  ${String(r.builds).padStart(7)}  ${`${r.historyMiB} MiB`.padStart(8)}  ${String(r.siteFiles).padStart(5)}  ${`${(r.coldWallMs / 1000).toFixed(2)} s / ${(r.coldCpuMs / 1000).toFixed(2)} s`.padStart(22)}  ${`${(r.noChangeWallMs / 1000).toFixed(2)} s`.padStart(14)}  ${`${(r.loadMs / 1000).toFixed(2)} / ${(r.readMs / 1000).toFixed(2)} / ${(r.apiMs / 1000).toFixed(2)} s`.padStart(48)}  ${`${r.fcpMs} ms`.padStart(13)}  ${`${r.readyMs} ms`.padStart(10)}`,
    );
  }
  console.log('timed: "site" cells are the whole process (node start, load the factory, read records/, build and write the site; /usr/bin/time);');
  console.log(
    '"parts" are the same steps in this process without start-up and writes; FCP and "data shown" (body[data-ready]) are from headless chromium over `factory serve`.',
  );
  console.log(
    `machine: ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at the end`,
  );
  console.log('goals (issue 12): site for 10,000 targets x 90 days <= 5 s; dashboard first contentful paint <= 1 s');
}
