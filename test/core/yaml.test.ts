import { describe, expect, it } from 'vitest';
import { jsonSyntaxError, parseJson, parseSingle, parseYaml, positionInText } from '../../src/core/yaml.js';

const MULTI = `kind: Product
name: app
tests:
  - name: first
    command: echo hi
---
# a comment-only document is skipped
---
kind: Manifest
fragments:
  - a@1.0.0
  - b@1.0.0
matrix:
  python: ['3.11']
`;

describe('parseYaml', () => {
  const { docs, diagnostics } = parseYaml('m.yaml', MULTI);

  it('keeps every non-empty document with its index and start', () => {
    expect(diagnostics).toEqual([]);
    expect(docs.map((d) => [d.index, d.location.line])).toEqual([
      [0, 1],
      [2, 9],
    ]);
    expect(docs[1]!.value).toEqual({ kind: 'Manifest', fragments: ['a@1.0.0', 'b@1.0.0'], matrix: { python: ['3.11'] } });
  });

  it.each([
    [0, ['name'], 2, 7],
    [0, ['tests', 0, 'command'], 5, 14],
    [1, ['fragments', 1], 12, 5],
    [1, ['matrix', 'python', 0], 14, 12],
    // missing paths fall back to the nearest existing parent
    [1, ['fragments', 7], 11, 3],
    [1, ['matrix', 'cuda', 0], 14, 3],
    [0, ['nope'], 1, 1],
  ] as const)('doc %i locates %j at %i:%i', (i, path, line, column) => {
    expect(docs[i]!.locate(path)).toEqual({ file: 'm.yaml', line, column });
  });

  it('locates keys for unknown-field reports', () => {
    expect(docs[1]!.locateKey(['matrix', 'python'])).toEqual({ file: 'm.yaml', line: 14, column: 3 });
    expect(docs[0]!.has(['tests', 0, 'command'])).toBe(true);
    expect(docs[0]!.has(['tests', 1])).toBe(false);
  });

  it('reports syntax errors with their position and drops that document only', () => {
    const r = parseYaml('x.yaml', 'a: 1\n---\nb: [1, 2\n---\nc: 3\n');
    expect(r.docs.map((d) => d.value)).toEqual([{ a: 1 }, { c: 3 }]);
    expect(r.diagnostics).toHaveLength(1);
    // At the [ left open, not at the `---` where the parser noticed.
    expect(r.diagnostics[0]).toMatchObject({ code: 'yaml', severity: 'error', location: { file: 'x.yaml', line: 3, column: 4 } });
  });

  it.each([
    ['a list closed a line late', 'a: [1, 2\nb: 3\n', 1, 4, 'list', ']'],
    ['a map left open before the next document', 'a: 1\nb: {c: 1\n---\nd: 2\n', 2, 4, 'map', '}'],
    ['nested lists, the outer one open', 'a: [[1], [2]\nb: 1\n', 1, 4, 'list', ']'],
  ])('names the unclosed opener of %s', (_what, text, line, column, kind, close) => {
    const r = parseYaml('x.yaml', text);
    expect(r.diagnostics[0]).toMatchObject({
      code: 'yaml',
      location: { line, column },
      message: `malformed YAML: the flow ${kind} opened here is never closed with ${close}`,
    });
  });

  it.each([
    ['in the same document', 'a: 1\nb: *nope\nc: 2\n', 2, 4],
    ['set in an earlier document', 'a: &x 1\n---\nb: 2\nc: *x\n', 4, 4],
  ])('locates an unresolved alias %s at the alias', (_what, text, line, column) => {
    const r = parseYaml('x.yaml', text);
    expect(r.diagnostics[0]).toMatchObject({ code: 'yaml', location: { line, column } });
    expect(r.diagnostics[0]!.hint).toContain('anchors do not carry across ---');
  });

  it('reports duplicate keys', () => {
    const r = parseYaml('x.yaml', 'a: 1\nb: 2\na: 3\n');
    expect(r.diagnostics[0]).toMatchObject({ code: 'yaml', location: { line: 3, column: 1 }, hint: 'remove or rename one of the two keys' });
  });

  it.each([
    ['v: 3.10\n', '3.10', 1, 4],
    ['v: [3.9, 3.10]\n', '3.10', 1, 10],
    ['v: 010\n', '010', 1, 4],
    ['v: 1e3\n', '1e3', 1, 4],
  ])('flags %j: a number that does not read back as written', (text, source, line, column) => {
    const r = parseYaml('n.yaml', text);
    expect(r.diagnostics).toEqual([expect.objectContaining({ code: 'yaml-number', location: { file: 'n.yaml', line, column } })]);
    expect(r.diagnostics[0]!.message).toContain(source);
  });

  it('flags such numbers in keys and nested collections too, in document order', () => {
    const r = parseYaml('n.yaml', 'm:\n  a: [1.50, {b: 1e2}]\n  2.0: 010\n');
    expect(r.diagnostics.map((d) => [d.location?.line, d.location?.column, d.message.split(' ')[0]])).toEqual([
      [2, 7, '1.50'],
      [2, 17, '1e2'],
      [3, 3, '2.0'],
      [3, 8, '010'],
    ]);
  });

  it.each(['v: 3.1\n', "v: '3.10'\n", 'v: 42\n', 'v: -7\n', 'v: 0.5\n'])('accepts %j', (text) => {
    expect(parseYaml('n.yaml', text).diagnostics).toEqual([]);
  });

  it('refuses alias bombs instead of expanding them', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ].join('\n');
    const r = parseYaml('bomb.yaml', `${bomb}\n`);
    expect(r.docs).toEqual([]);
    expect(r.diagnostics[0]).toMatchObject({ code: 'yaml' });
  });
});

describe('parseSingle', () => {
  it('parses JSON with positions', () => {
    const r = parseSingle('l.json', '{\n  "a": {\n    "b": 1\n  }\n}\n');
    expect(r.doc!.value).toEqual({ a: { b: 1 } });
    expect(r.doc!.locate(['a', 'b'])).toEqual({ file: 'l.json', line: 3, column: 10 });
  });

  it('parseJson refuses what only YAML accepts, with the position', () => {
    expect(parseJson('l.json', '{\n  "a": }').diagnostics[0]).toMatchObject({ code: 'json', location: { file: 'l.json', line: 2, column: 8 } });
    expect(parseJson('l.json', "{'a': 1}").diagnostics[0]).toMatchObject({ code: 'json' });
    expect(parseJson('l.json', '{"a": [1]}').doc!.locate(['a', 0])).toEqual({ file: 'l.json', line: 1, column: 8 });
  });

  it.each([
    ['{}', undefined],
    ['{"a": [1, -2.5e3, true, null, "x\\u00e9\\n"]}', undefined],
    ['{"a": 1,}', 8],
    ['[1 2]', 3],
    ['{"a" 1}', 5],
    ['"x', 2],
    ['01', 1],
    ['{"a": 1} x', 9],
  ] as const)('jsonSyntaxError(%j) -> offset %j', (text, offset) => {
    expect(jsonSyntaxError(text)?.offset).toBe(offset);
  });
});

describe('positionInText', () => {
  it.each([
    [0, 1, 1],
    [3, 1, 4],
    [4, 2, 1],
    [6, 2, 3],
  ])('offset %i is %i:%i', (offset, line, column) => {
    expect(positionInText('f', 'abc\ndef\n', offset)).toEqual({ file: 'f', line, column });
  });
});
