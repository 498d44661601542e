#!/usr/bin/env node
// Bundles the action (src/action/index.ts) into dist/index.js, the file action.yml runs.
//   node scripts/build.mjs          write dist/
//   node scripts/build.mjs --check  exit 1 when dist/ differs from what src/ builds to
// ESM output: the @actions packages are ESM-only in their current majors. Some of their
// dependencies are CommonJS and call require() for Node built-ins, which an ESM bundle lacks;
// the banner gives them one.
import { build } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist');
const check = process.argv.includes('--check');

const result = await build({
  entryPoints: [path.join(root, 'src/action/index.ts')],
  outfile: path.join(outdir, 'index.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  write: false,
  minify: false,
  // Comments of bundled packages keep their licenses; "eof" collects them at the end, in a
  // stable order, so the file is byte-identical from run to run.
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __factoryCreateRequire } from 'node:module';\nconst require = __factoryCreateRequire(import.meta.url);",
  },
});

const files = result.outputFiles.map((f) => ({ path: f.path, text: f.text }));
files.push({ path: path.join(outdir, 'package.json'), text: '{\n  "type": "module"\n}\n' });

if (check) {
  const stale = files.filter((f) => !fs.existsSync(f.path) || fs.readFileSync(f.path, 'utf8') !== f.text);
  const expected = new Set(files.map((f) => f.path));
  const extra = fs.existsSync(outdir) ? fs.readdirSync(outdir).map((n) => path.join(outdir, n)).filter((p) => !expected.has(p)) : [];
  if (stale.length || extra.length) {
    for (const f of stale) console.error(`${path.relative(root, f.path)}: out of date with src/`);
    for (const f of extra) console.error(`${path.relative(root, f)}: not produced by the build`);
    console.error('dist/ is stale: run `npm run build` and commit dist/');
    process.exit(1);
  }
  console.log(`dist/ is up to date (${files.length} files)`);
} else {
  fs.mkdirSync(outdir, { recursive: true });
  for (const f of files) {
    const tmp = `${f.path}.tmp`;
    fs.writeFileSync(tmp, f.text);
    fs.renameSync(tmp, f.path);
  }
  const size = files.reduce((n, f) => n + Buffer.byteLength(f.text), 0);
  console.log(`wrote ${files.map((f) => path.relative(root, f.path)).join(', ')} (${(size / 1024).toFixed(0)} KiB)`);
}
