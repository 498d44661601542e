// The read-only API as data: every route parses through its schema, the index lists them all,
// the OpenAPI document covers every route, the same inputs give the same bytes, and a factory
// without records still gets a complete (empty) API.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFactory } from '../../src/core/index.js';
import type { ResolvedFactory } from '../../src/core/types.js';
import { readTree } from '../../src/io/tree.js';
import { readRecords } from '../../src/obs/read.js';
import { buildApi, routeText } from '../../src/site/api.js';
import { openApi } from '../../src/site/openapi.js';
import { siteFiles } from '../../src/site/site.js';

const repo = path.resolve(__dirname, '../..');
const sample = async (): Promise<ResolvedFactory> => buildFactory(await readTree(repo)).factory!;
const records = () => readRecords(path.resolve(__dirname, '../obs/fixtures'));
const empty = { records: [], latest: [], aggregates: [], problems: [] };

describe('buildApi', async () => {
  const factory = await sample();
  const set = await records();
  const routes = buildApi(factory, set, 'factory');
  const get = (p: string) => JSON.parse(routeText(routes.find((r) => r.path === `api/v1/${p}`)!));

  it('has a route per product, target and name@version, each valid against its schema', () => {
    const paths = routes.map((r) => r.path);
    expect(paths).toContain('api/v1/products/llm-runtime/1.4.0.json');
    for (const t of factory.targets) expect(paths).toContain(`api/v1/targets/${t.name}.json`);
    expect(paths).toContain('api/v1/compat/python/1.0.0.json');
    expect(new Set(paths).size).toBe(paths.length);
    // The contract: each file is its schema's output for it, nothing stripped, nothing missing.
    for (const r of routes) expect(JSON.parse(routeText(r)), r.path).toEqual(JSON.parse(JSON.stringify(r.schema.parse(r.value))));
    expect(get('index.json').routes).toEqual(routes.slice(1).map((r) => `/${r.path}`));
  });

  it('joins targets to their latest record and plans their tests with skips', () => {
    const t = get('targets/llm-runtime-profileslim-amd64.json');
    expect(t.latest).toMatchObject({ result: 'passed', run: '101/1', pushed: true });
    expect(t.history.map((h: { run: string }) => h.run)).toEqual(['101/1', '99/1', '100/1']);
    expect(t.tests.length).toBeGreaterThan(0);
    expect(t.tests.every((x: { origin: string }) => /@/.test(x.origin))).toBe(true);
    const gpu = get('targets/llm-runtime-cuda-default-amd64.json');
    expect(gpu.latest).toBeUndefined();
    expect(get('products.json').find((p: { id: string }) => p.id === 'llm-runtime@1.4.0').results).toEqual({ passed: 2, failed: 0, none: 2 });
  });

  it('answers KPIs with daily series per pool and the skipped line', () => {
    const k = get('kpi.json');
    expect(k.all.builds).toBe(7);
    expect(k.daily.map((d: { day: string }) => d.day)).toEqual(['2026-11-02', '2026-11-19', '2026-11-20']);
    expect(Object.keys(k.dailyByPool)).toEqual(['amd64', 'arm64']);
    expect(k.skipped).toHaveLength(1);
  });

  it('is byte-identical for the same inputs, and complete without records', async () => {
    const again = buildApi(await sample(), await records(), 'factory');
    expect(again.map(routeText)).toEqual(routes.map(routeText));
    const bare = buildApi(factory, empty, 'factory');
    expect(bare.map((r) => r.path).length).toBe(routes.length);
    expect(JSON.parse(routeText(bare.find((r) => r.path === 'api/v1/kpi.json')!)).all).toBeUndefined();
  });

  it('describes every route in the OpenAPI document, with the valid path values', () => {
    const doc = openApi(routes, 'factory') as {
      openapi: string;
      paths: Record<string, { get: { parameters: { name: string; schema: { enum: string[] } }[] } }>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toHaveLength(11);
    const target = doc.paths['/api/v1/targets/{target}.json']!.get.parameters[0]!;
    expect(target.schema.enum).toEqual(factory.targets.map((t) => t.name).sort());
  });

  it('writes the dashboard beside the API', () => {
    const files = siteFiles(factory, set, 'factory').map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['index.html', 'assets/dashboard.js', 'assets/uPlot.min.css', 'api/v1/openapi.json', '.nojekyll']));
  });
});
