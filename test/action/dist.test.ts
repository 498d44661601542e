// The CI check that dist/ is what src/ builds to, and that action.yml declares exactly the
// inputs and outputs the code reads and writes.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Inputs, Outputs } from '../../src/action/constants.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

describe('dist/', () => {
  it('is up to date with src/ (run `npm run build` and commit dist/ when this fails)', () => {
    const out = execFileSync(process.execPath, [path.join(repo, 'scripts/build.mjs'), '--check'], { encoding: 'utf8' });
    expect(out).toMatch(/^dist\/ is up to date/);
    expect(out).toMatch(/^dist-cli\/ is up to date/m);
  });
});

describe('action.yml', () => {
  const action = parse(fs.readFileSync(path.join(repo, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string }>;
    outputs: Record<string, unknown>;
    runs: Record<string, string>;
  };

  it('runs the bundle on node24, with a post step for the local cache', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js', post: 'dist/index.js', 'post-if': 'success() || failure()' });
  });

  it('declares every input the code reads and no other', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.values(Inputs).sort());
  });

  it('declares every output the code sets and no other', () => {
    expect(Object.keys(action.outputs).sort()).toEqual(Object.values(Outputs).sort());
  });
});
