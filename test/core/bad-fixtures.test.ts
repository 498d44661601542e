// The bad-input corpus: every directory under test/fixtures/bad/ is a small factory tree with one
// kind of mistake, and an expect.json listing exactly the errors it must produce (code, file,
// line, column, field, message). Each tree is read from disk with the real readTree.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildFactory, DIAGNOSTIC_CODES, formatDiagnostic } from '../../src/core/index.js';
import { readTree } from '../../src/io/tree.js';

interface ExpectedError {
  code: string;
  file: string;
  line: number;
  column: number;
  field?: string;
  /** A substring of the message. */
  message: string;
  /** A substring of the hint, when the case is about what the user is told to do. */
  hint?: string;
}

interface Expectation {
  description: string;
  errors: ExpectedError[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.resolve(here, '../fixtures/bad');
const cases = fs
  .readdirSync(corpus, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe('bad-input corpus', () => {
  it('has at least 30 cases, each with an expect.json naming at least one error', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    for (const name of cases) {
      const e = JSON.parse(fs.readFileSync(path.join(corpus, name, 'expect.json'), 'utf8')) as Expectation;
      expect(e.errors.length, name).toBeGreaterThan(0);
    }
  });

  it.each(cases)('%s', async (name) => {
    const dir = path.join(corpus, name);
    const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expect.json'), 'utf8')) as Expectation;
    const { factory, diagnostics } = buildFactory(await readTree(dir));
    const errors = diagnostics.filter((d) => d.severity === 'error');

    expect(factory, 'a tree with errors must not resolve').toBeUndefined();
    const actual = errors.map((d) => ({
      code: d.code,
      file: d.location?.file,
      line: d.location?.line,
      column: d.location?.column,
      field: d.field,
      message: d.message,
    }));
    // Exactly the expected errors, in the sorted order the CLI prints them.
    expect(actual.length, `${name}: got\n${errors.map((d) => formatDiagnostic(d)).join('\n')}`).toBe(expected.errors.length);
    expected.errors.forEach((want, i) => {
      const got = actual[i]!;
      expect({ code: got.code, file: got.file, line: got.line, column: got.column }).toEqual({
        code: want.code,
        file: want.file,
        line: want.line,
        column: want.column,
      });
      if (want.field !== undefined) expect(got.field).toBe(want.field);
      expect(got.message).toContain(want.message);
      if (want.hint !== undefined) expect(errors[i]!.hint).toContain(want.hint);
    });

    // Every error a user can cause names where and what to do, on one line, without a stack.
    for (const d of errors) {
      expect(Object.keys(DIAGNOSTIC_CODES), 'every code is documented').toContain(d.code);
      expect(d.location, d.message).toBeDefined();
      expect(d.hint, d.message).toBeTruthy();
      const text = formatDiagnostic(d, { color: false });
      expect(text).toMatch(/^[^\s:]+:\d+:\d+: error\[[a-z-]+\] /);
      expect(text).not.toMatch(/\n\s+at /);
    }
  });
});
