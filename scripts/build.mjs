#!/usr/bin/env node
// Bundles the two programs this repository ships, each into a checked-in directory:
//   src/action/index.ts -> dist/index.js         the file action.yml runs
//   src/cli/main.ts     -> dist-cli/factory.js   what bin/factory.js runs (no TypeScript at start)
//   src/site/dashboard/ -> dist-site/            the dashboard `factory site` copies (browser, uPlot bundled in)
//   node scripts/build.mjs          write dist/ and dist-cli/
//   node scripts/build.mjs --check  exit 1 when either differs from what src/ builds to
// ESM output: the @actions packages are ESM-only in their current majors. Some of their
// dependencies are CommonJS and call require() for Node built-ins, which an ESM bundle lacks;
// the banner gives them one.
import { build } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

const BUNDLES = [
  { dir: 'dist', entry: 'src/action/index.ts', outfile: 'index.js', extra: [{ name: 'package.json', text: '{\n  "type": "module"\n}\n' }] },
  { dir: 'dist-cli', entry: 'src/cli/main.ts', outfile: 'factory.js', extra: [] },
  {
    dir: 'dist-site',
    entry: 'src/site/dashboard/main.ts',
    outfile: 'dashboard.js',
    browser: true,
    extra: [
      { name: 'index.html', text: fs.readFileSync(path.join(root, 'src/site/dashboard/index.html'), 'utf8') },
      { name: 'uPlot.min.css', text: fs.readFileSync(path.join(root, 'node_modules/uplot/dist/uPlot.min.css'), 'utf8') },
    ],
  },
];

// generators/sh/runner-lib.ts reads the runner library next to itself, which works under tsx
// but not from a bundle in dist-cli/: in the bundles it re-exports the file, which esbuild's
// text loader embeds.
const embedShellText = {
  name: 'embed-shell-text',
  setup(build) {
    build.onLoad({ filter: /[\\/]generators[\\/]sh[\\/]runner-lib\.ts$/ }, (args) => ({
      contents: "export { default as RUNNER_LIB_TEXT } from './factory-test-lib.sh';\n",
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};

async function bundle(b) {
  const outdir = path.join(root, b.dir);
  const result = await build({
    entryPoints: [path.join(root, b.entry)],
    outfile: path.join(outdir, b.outfile),
    // esbuild names each module in a comment by its path relative to the working directory;
    // pinning it to the root keeps the output byte-identical wherever the script is run from.
    absWorkingDir: root,
    // The same for a node_modules that is a link (a git worktree sharing the main checkout's):
    // modules are named by the path they were reached by, not the link's target.
    preserveSymlinks: true,
    bundle: true,
    plugins: [embedShellText],
    loader: { '.sh': 'text' },
    ...(b.browser
      ? { platform: 'browser', target: 'es2022', format: 'iife', tsconfig: path.join(root, 'src/site/dashboard/tsconfig.json') }
      : {
          platform: 'node',
          target: 'node20',
          format: 'esm',
          banner: {
            js: "import { createRequire as __factoryCreateRequire } from 'node:module';\nconst require = __factoryCreateRequire(import.meta.url);",
          },
        }),
    write: false,
    minify: false,
    // Comments of bundled packages keep their licenses; "eof" collects them at the end, in a
    // stable order, so the file is byte-identical from run to run.
    legalComments: 'eof',
    charset: 'utf8',
    logLevel: 'warning',
  });
  const files = result.outputFiles.map((f) => ({ path: f.path, text: f.text }));
  for (const e of b.extra) files.push({ path: path.join(outdir, e.name), text: e.text });
  return { ...b, outdir, files };
}

const bundles = await Promise.all(BUNDLES.map(bundle));

if (check) {
  let failed = false;
  for (const b of bundles) {
    const stale = b.files.filter((f) => !fs.existsSync(f.path) || fs.readFileSync(f.path, 'utf8') !== f.text);
    const expected = new Set(b.files.map((f) => f.path));
    const extra = fs.existsSync(b.outdir)
      ? fs
          .readdirSync(b.outdir)
          .map((n) => path.join(b.outdir, n))
          .filter((p) => !expected.has(p))
      : [];
    if (stale.length || extra.length) {
      for (const f of stale) console.error(`${path.relative(root, f.path)}: out of date with src/`);
      for (const f of extra) console.error(`${path.relative(root, f)}: not produced by the build`);
      console.error(`${b.dir}/ is stale: run \`npm run build\` and commit ${b.dir}/`);
      failed = true;
    } else console.log(`${b.dir}/ is up to date (${b.files.length} file${b.files.length === 1 ? '' : 's'})`);
  }
  if (failed) process.exit(1);
} else {
  for (const b of bundles) {
    fs.mkdirSync(b.outdir, { recursive: true });
    for (const f of b.files) {
      const tmp = `${f.path}.tmp`;
      fs.writeFileSync(tmp, f.text);
      fs.renameSync(tmp, f.path);
    }
    const size = b.files.reduce((n, f) => n + Buffer.byteLength(f.text), 0);
    console.log(`wrote ${b.files.map((f) => path.relative(root, f.path)).join(', ')} (${(size / 1024).toFixed(0)} KiB)`);
  }
}
