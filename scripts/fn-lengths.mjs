#!/usr/bin/env node
// Function lengths in src/ and generators/ (tests left out), measured with the TypeScript
// compiler's own parser so a brace in a string or a template literal cannot fool it.
//
//   node scripts/fn-lengths.mjs            every function over 80 lines; exit 1 when there is one
//   node scripts/fn-lengths.mjs --max 60   another limit
//   node scripts/fn-lengths.mjs --top 20   the 20 longest, whatever their length (exit 0)
//
// A function's length runs from its first token (decorators and leading comments left out) to
// its closing brace, nested functions included: what a reader has to take in at once.
// `npm run lint` runs it, so the limit stays true.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const DIRS = ['src', 'generators'];

function parseArgs(argv) {
  const opts = { max: 80, top: 0 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = Number(argv[i + 1]);
    if ((flag === '--max' || flag === '--top') && Number.isInteger(value) && value > 0) {
      opts[flag.slice(2)] = value;
      i++;
    } else {
      console.error(`fn-lengths: unknown argument ${JSON.stringify(flag)} (use --max N or --top N)`);
      process.exit(2);
    }
  }
  return opts;
}

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|cts)$/.test(name) && !/\.test\.ts$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function functionName(node, sf) {
  if (node.name) return node.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(sf);
  if (parent && (ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))) return parent.name.getText(sf);
  if (parent && ts.isCallExpression(parent)) return `(callback of ${parent.expression.getText(sf).slice(0, 40)})`;
  return '(anonymous)';
}

function measure(path) {
  const text = readFileSync(path, 'utf8');
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      found.push({ file: relative(root, path), line: start + 1, name: functionName(node, sf), lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

const opts = parseArgs(process.argv.slice(2));
const all = DIRS.flatMap((d) => sourceFiles(join(root, d))).flatMap(measure);
all.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || a.line - b.line);
const shown = opts.top ? all.slice(0, opts.top) : all.filter((f) => f.lines > opts.max);
for (const f of shown) console.log(`${String(f.lines).padStart(4)}  ${f.name}  ${f.file}:${f.line}`);
if (!opts.top && shown.length) {
  console.error(`fn-lengths: ${shown.length} function(s) over ${opts.max} lines; split them into named steps`);
  process.exit(1);
}
