// The site as files: every API route, its OpenAPI document, and the dashboard (index.html and
// the assets scripts/build.mjs bundled into dist-site/). `factory site` writes them;
// `factory serve` answers them from memory.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OutputFile, ResolvedFactory } from '../core/types.js';
import type { RecordSet } from '../obs/read.js';
import { API_PREFIX, buildApi, routeText } from './api.js';
import { openApi } from './openapi.js';

/** dist-site/ of this checkout: beside dist-cli/ for the bundle, two levels up for src/site. */
function distSite(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'dist-site', 'dashboard.js'))) return path.join(dir, 'dist-site');
  }
  throw new Error('dist-site/dashboard.js not found: run `npm run build`');
}

export function siteFiles(factory: ResolvedFactory, set: RecordSet, name: string): OutputFile[] {
  const routes = buildApi(factory, set, name);
  const assets = distSite();
  const asset = (f: string) => readFileSync(path.join(assets, f), 'utf8');
  return [
    ...routes.map((r) => ({ path: r.path, text: routeText(r) })),
    { path: `${API_PREFIX}/openapi.json`, text: JSON.stringify(openApi(routes, name), null, 2) + '\n' },
    { path: 'index.html', text: asset('index.html') },
    { path: 'assets/dashboard.js', text: asset('dashboard.js') },
    { path: 'assets/uPlot.min.css', text: asset('uPlot.min.css') },
    // GitHub Pages runs Jekyll otherwise, which skips nothing here but costs a build.
    { path: '.nojekyll', text: '' },
  ].sort((a, b) => (a.path < b.path ? -1 : 1));
}
