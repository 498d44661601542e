import { describe, expect, it } from 'vitest';
import {
  closeMatches,
  dedupeDiagnostics,
  editDistance,
  error,
  formatDiagnostic,
  formatFieldPath,
  sortDiagnostics,
  warning,
} from '../../src/core/diagnostics.js';

const loc = (file: string, line: number, column: number) => ({ file, line, column });

describe('formatDiagnostic', () => {
  const d = error('unknown-fragment', 'unknown fragment "bb@1.0.0"', {
    field: 'fragments[2]',
    hint: 'did you mean "b@1.0.0"?',
    location: loc('manifests/app.yaml', 14, 5),
  });

  it('prints file:line:col: error[code] field: message and the hint on its own line', () => {
    expect(formatDiagnostic(d, { color: false })).toBe(
      'manifests/app.yaml:14:5: error[unknown-fragment] fragments[2]: unknown fragment "bb@1.0.0"\n  hint: did you mean "b@1.0.0"?',
    );
  });

  it('colours only when asked, and the text is the same once colours are stripped', () => {
    const coloured = formatDiagnostic(d, { color: true });
    expect(coloured).toContain('\u001b[31m');
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(formatDiagnostic(d, { color: false }));
  });

  it('leaves out what is missing and keeps messages on one line', () => {
    expect(formatDiagnostic(warning('lock-missing', 'no\nlock'))).toBe('warning[lock-missing] no\\nlock');
  });
});

describe('sortDiagnostics', () => {
  it('orders by file, line, column, severity, code; unlocated last', () => {
    const ds = [
      warning('w', 'x', { location: loc('b.yaml', 1, 1) }),
      error('z', 'x'),
      error('b', 'x', { location: loc('b.yaml', 1, 1) }),
      error('a', 'x', { location: loc('a.yaml', 10, 2) }),
      error('a', 'x', { location: loc('a.yaml', 9, 30) }),
      error('a', 'x', { location: loc('a.yaml', 10, 1) }),
    ];
    const sorted = sortDiagnostics(ds).map((d) => `${d.location ? `${d.location.file}:${d.location.line}:${d.location.column}` : '-'} ${d.severity} ${d.code}`);
    expect(sorted).toEqual(['a.yaml:9:30 error a', 'a.yaml:10:1 error a', 'a.yaml:10:2 error a', 'b.yaml:1:1 error b', 'b.yaml:1:1 warning w', '- error z']);
    expect(sortDiagnostics([...ds].reverse())).toEqual(sortDiagnostics(ds));
  });

  it('dedupes identical diagnostics', () => {
    const a = error('a', 'x', { location: loc('f', 1, 1) });
    expect(dedupeDiagnostics([a, { ...a }, error('a', 'y')])).toHaveLength(2);
  });
});

describe('helpers', () => {
  it.each([
    [['fragments', 2], 'fragments[2]'],
    [['tests', 0, 'stdout', 'contains'], 'tests[0].stdout.contains'],
    [['labels', 'org.example.team'], 'labels["org.example.team"]'],
    [['env-equals', 'PATH'], 'env-equals.PATH'],
    [[], ''],
  ])('formatFieldPath(%j) = %s', (path, s) => {
    expect(formatFieldPath(path)).toBe(s);
  });

  it.each([
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
    ['same', 'same', 0],
    ['platform', 'platforms', 1],
  ])('editDistance(%s, %s) = %i', (a, b, n) => {
    expect(editDistance(a, b)).toBe(n);
  });

  it('suggests close names only', () => {
    expect(closeMatches('platform', ['platforms', 'accelerator', 'image'])).toEqual(['platforms']);
    expect(closeMatches('pyhton', ['python', 'tini', 'locale'])).toEqual(['python']);
    expect(closeMatches('zzz', ['python', 'tini'])).toEqual([]);
  });
});
