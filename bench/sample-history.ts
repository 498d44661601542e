// npx tsx bench/sample-history.ts — a small REAL record history for the dashboard sample: the bundled action
// (dist/index.js, mode build, as a runner runs it: INPUT_*/GITHUB_* env) builds, tests and pushes
// targets of the sample factory on the BuildKit sandbox three times (cold, warm, then a release
// of the toolbox fragment), and each run's records go through the record job's own history code
// (applyHistory: the month files) and latest-per-target files into docs/sample/records/. Then
// `factory site` from those records and a headless chromium screenshot of the dashboard
// (docs/img/dashboard.png). Nothing here is synthetic: timings, digests, cache hits, sizes and
// test counts are the runs'. Queue wait is missing (no jobs API here), and the records say so.
// Needs the sandbox: `bash scripts/sandbox.sh up`.
//   npx tsx bench/sample-history.ts [--targets tools-default-amd64,python-runtime-profileslim-amd64] [--keep] [--screenshot-only]
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { applyHistory } from '../src/action/history.js';
import { parseRecord, serializeRecord, type FactoryRecord } from '../src/core/record.js';
import { recordPath } from '../src/action/record-paths.js';
import { copyFactory, factory, releaseFragment } from '../test/e2e/harness.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: 'tools-default-amd64,python-runtime-profileslim-amd64' },
    out: { type: 'string', default: 'docs/sample/records' },
    keep: { type: 'boolean', default: false },
    'screenshot-only': { type: 'boolean', default: false },
  },
});
const targets = values.targets.split(',');
const out = path.resolve(repo, values.out);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-sample-history-'));
const sh = (script: string, args: string[] = []) =>
  execFileSync(path.join(repo, 'scripts', script), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

sh('sandbox.sh', ['status']);
const sandbox = Object.fromEntries(
  sh('sandbox.sh', ['env'])
    .split('\n')
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
const scanner = sh('sandbox-scanner.sh');

/** One job of the build matrix: dist/index.js with a runner's environment; returns its records. */
function runAction(tree: string, target: string, runId: number, name: string): Promise<FactoryRecord[]> {
  const dir = path.join(work, `${name}-${target}`);
  fs.mkdirSync(path.join(dir, 'temp'), { recursive: true });
  const files = { out: path.join(dir, 'output'), summary: path.join(dir, 'summary.md') };
  for (const f of Object.values(files)) fs.writeFileSync(f, '');
  const recordsDir = `.factory/sample-records-${runId}`;
  const env: Record<string, string> = {
    ...sandbox,
    PATH: `${path.dirname(process.execPath)}:/usr/local/lib/factory-sandbox/bin:${process.env.PATH}`,
    HOME: os.homedir(),
    GITHUB_WORKSPACE: tree,
    GITHUB_REPOSITORY: 'acme/factory',
    GITHUB_RUN_ID: String(runId),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_SHA: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim(),
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_OUTPUT: files.out,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_TEMP: path.join(dir, 'temp'),
    INPUT_TARGET: target,
    INPUT_PUSH: 'true',
    'INPUT_SBOM-SCANNER': scanner,
    'INPUT_RECORDS-DIR': recordsDir,
    // No artifact service here: the records are read from the workspace instead.
    INPUT_EVIDENCE: 'false',
  };
  return new Promise((resolve, reject) => {
    const log = fs.openSync(path.join(dir, 'action.log'), 'w');
    const child = spawn(process.execPath, [path.join(repo, 'dist/index.js')], { env, cwd: tree, stdio: ['ignore', log, log] });
    child.on('close', (status) => {
      const text = fs.readFileSync(path.join(dir, 'action.log'), 'utf8');
      const written = /^records<<(\S+)\n([\s\S]*?)\n\1$/m.exec(fs.readFileSync(files.out, 'utf8'))?.[2];
      if (!written) return reject(new Error(`${name} ${target}: the action wrote no record (exit ${status}); log ${dir}/action.log:\n${text.slice(-2000)}`));
      const paths = JSON.parse(written) as string[];
      console.log(`${name} ${target}: exit ${status}, ${paths.length} record(s)`);
      resolve(paths.map((p) => parseRecord(fs.readFileSync(path.join(tree, p), 'utf8'), p)));
    });
  });
}

/** What the record job does with a run's records: the latest-per-target files and the history lines. */
function commitBack(records: FactoryRecord[]): void {
  const dir = path.relative(repo, out);
  for (const r of records) {
    const rel = recordPath(dir, { productName: r.product.name, productVersion: r.product.version, target: r.target });
    fs.mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
    fs.writeFileSync(path.join(repo, rel), serializeRecord(r));
  }
  applyHistory(repo, records, { recordsDir: dir, rawDays: 0, now: new Date() });
}

async function run(tree: string, runId: number, name: string): Promise<void> {
  // The matrix jobs of one run are independent: one at a time here (2 cores).
  const records: FactoryRecord[] = [];
  for (const t of targets) records.push(...(await runAction(tree, t, runId, name)));
  commitBack(records);
}

/** The sample factory's site from the sample records, and the dashboard's screenshot for the README. */
async function screenshot(): Promise<void> {
  const records = path.relative(repo, out);
  const cli = path.join(repo, 'bin/factory.js');
  execFileSync(process.execPath, [cli, '--root', repo, 'site', '--records', records, '--out', path.join(work, 'site')], { stdio: 'inherit' });
  const { chromium } = await import('playwright-core');
  const server = spawn(process.execPath, [cli, '--root', repo, 'serve', '--port', '0', '--records', records], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve) =>
      server.stdout!.on('data', (d) => /http:\/\/\S+\//.exec(String(d)) && resolve(/http:\/\/\S+\//.exec(String(d))![0])),
    );
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    await page.screenshot({ path: path.join(repo, 'docs/img/dashboard.png'), fullPage: false });
    await browser.close();
  } finally {
    server.kill();
  }
  console.log('wrote docs/img/dashboard.png');
}

if (process.argv.includes('--screenshot-only')) {
  await screenshot();
  process.exit(0);
}

try {
  fs.rmSync(out, { recursive: true, force: true });
  const tree = path.join(work, 'tree');
  await copyFactory(tree);
  const base = Date.now() % 1_000_000;
  await run(tree, base + 1, 'cold');
  await run(tree, base + 2, 'warm');
  const bumped = releaseFragment(tree, 'toolbox', (v) => {
    const files = path.join(v, 'files');
    fs.appendFileSync(path.join(files, fs.readdirSync(files).sort()[0]!), '\n# changed by bench/sample-history.ts\n');
  });
  await factory(tree, ['lock']);
  await factory(tree, ['generate']);
  console.log(`released ${bumped.to} (was ${bumped.from})`);
  await run(tree, base + 3, 'fragment-bump');
  await screenshot();
  console.log(`records in ${path.relative(repo, out)}; the bumped factory tree is ${tree}`);
} finally {
  if (!values.keep) fs.rmSync(work, { recursive: true, force: true });
}
