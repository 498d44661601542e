// The dashboard in a real browser (Debian's chromium, driven by playwright-core) against
// `factory serve` started as a user starts it (the compiled CLI), on a copy of the sample
// factory with fixture records, and on one with no records. Screenshots are kept under
// test-results/dashboard/ as evidence.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(__dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const evidence = path.join(repo, 'test-results/dashboard');
const temps: string[] = [];
const servers: ChildProcess[] = [];

function factoryCopy(withRecords: boolean): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'factory-dashboard-'));
  temps.push(dir);
  for (const p of ['manifests', 'templates', 'fragments', 'factory.lock.json']) cpSync(path.join(repo, p), path.join(dir, p), { recursive: true });
  if (withRecords) cpSync(path.join(repo, 'test/obs/fixtures/records'), path.join(dir, 'records'), { recursive: true });
  return dir;
}

async function serve(root: string): Promise<string> {
  const child = spawn(process.execPath, [path.join(repo, 'bin/factory.js'), '--root', root, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      const m = /http:\/\/\S+\//.exec(String(d));
      if (m) resolve(m[0]);
    });
    child.on('exit', (code) => reject(new Error(`factory serve exited ${code}`)));
  });
}

let browser: Browser;
beforeAll(async () => {
  mkdirSync(evidence, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  for (const s of servers) s.kill();
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

async function open(url: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
  return { page, errors };
}

describe.skipIf(!existsSync(CHROMIUM))('the dashboard in chromium', () => {
  it('draws every chart with one point per day, the target table and the compatibility matrix, with no console errors', async () => {
    const { page, errors } = await open(await serve(factoryCopy(true)));
    const charts = await page.$$eval('[data-chart]', (els) =>
      Object.fromEntries(els.map((e) => [(e as HTMLElement).dataset.chart, Number((e as HTMLElement).dataset.points)])),
    );
    // 3 days with builds; the queue depth changes 7 times (created/started of 4 jobs with times).
    expect(charts).toEqual({ duration: 3, success: 3, cache: 3, 'queue-wait': 3, 'queue-depth': 7 });
    expect(await page.locator('[data-chart] canvas').count()).toBe(5);
    expect(await page.locator('[data-table=targets] tbody tr').count()).toBe(11);
    expect(await page.locator('[data-table=compat] tbody tr').count()).toBe(6);
    expect(await page.locator('.warning').textContent()).toContain('1 record line(s) could not be read');
    await page.screenshot({ path: path.join(evidence, 'overview.png'), fullPage: true });

    await page.click('[data-product="llm-runtime@1.4.0"]');
    await page.waitForSelector('body[data-ready="true"] [data-page=product]');
    expect(await page.locator('h1').textContent()).toBe('llm-runtime@1.4.0');
    expect(await page.locator('[data-table=history] tbody tr').count()).toBe(5);
    await page.screenshot({ path: path.join(evidence, 'product.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('says "no builds yet" for a factory without records', async () => {
    const { page, errors } = await open(await serve(factoryCopy(false)));
    expect(await page.locator('#no-builds').textContent()).toMatch(/^No builds yet/);
    expect(await page.locator('[data-chart]').count()).toBe(0);
    expect(await page.locator('[data-table=targets] tbody tr').count()).toBe(11);
    await page.screenshot({ path: path.join(evidence, 'empty.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
