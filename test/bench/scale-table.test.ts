import { describe, expect, it } from 'vitest';
import { formatCell, formatMs, formatRatio, markdownTable, median, parseSizes, parseTimeOutput, type Cell } from '../../bench/scale-table.js';

const ok = (...walls: [number, number][]): Cell => ({ kind: 'ok', samples: walls.map(([wallMs, cpuMs]) => ({ wallMs, cpuMs })) });

describe('bench:scale helpers', () => {
  it.each([
    [[5], 5],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[10, 10, 1_000], 10],
  ])('median(%j) = %d', (xs, want) => {
    expect(median(xs)).toBe(want);
  });

  it('median of nothing throws', () => {
    expect(() => median([])).toThrow();
  });

  it.each([
    ['10,100,1000,10000', [10, 100, 1_000, 10_000]],
    ['10_000', [10_000]],
    [' 10 , 20 ', [10, 20]],
  ])('parseSizes(%j)', (text, want) => {
    expect(parseSizes(text)).toEqual(want);
  });

  it.each(['', '0', '-5', '1.5', '10,,20', 'ten'])('parseSizes(%j) refuses', (text) => {
    expect(() => parseSizes(text)).toThrow(/--sizes/);
  });

  it.each([
    ['1.52 1.20 0.10\n', { wallS: 1.52, cpuS: 1.3 }],
    ['Command exited with non-zero status 3\n0.50 0.40 0.05\n', { wallS: 0.5, cpuS: 0.45 }],
    ['0.006 0.000 0.002\n', { wallS: 0.006, cpuS: 0.002 }],
  ])('parseTimeOutput(%j)', (text, want) => {
    const got = parseTimeOutput(text);
    expect(got.wallS).toBeCloseTo(want.wallS, 9);
    expect(got.cpuS).toBeCloseTo(want.cpuS, 9);
  });

  it('parseTimeOutput without a timing line throws', () => {
    expect(() => parseTimeOutput('Command terminated by signal 9\n')).toThrow(/no timing line/);
  });

  it.each([
    [0.4, '0'],
    [12.5, '13'],
    [1_234.4, '1,234'],
    [123_456, '123,456'],
  ])('formatMs(%d) = %s', (ms, want) => {
    expect(formatMs(ms)).toBe(want);
  });

  it.each<[Cell | undefined, number, string]>([
    [ok([100, 80], [300, 90], [200, 70]), 3, '200 / 80'],
    [ok([45_000.4, 30_000]), 3, '45,000 / 30,000 (1 run)'],
    [ok([10, 5], [20, 7]), 3, '15 / 6 (2 runs)'],
    [{ kind: 'timeout', limitS: 120 }, 3, '> 120 s (timed out)'],
    [undefined, 3, '–'],
  ])('formatCell(%j, %d) = %s', (cell, runs, want) => {
    expect(formatCell(cell, runs)).toBe(want);
  });

  it.each<[Cell | undefined, Cell | undefined, string]>([
    [ok([97, 0]), ok([78, 0]), '1.2x'],
    [ok([5_000, 0]), ok([100, 0]), '50x'],
    [ok([123_456, 0]), ok([100, 0]), '1,234x'],
    [{ kind: 'timeout', limitS: 120 }, ok([150, 0]), '> 800x'],
    [{ kind: 'timeout', limitS: 0.2 }, ok([145, 0]), '> 1.4x'],
    [ok([1, 0]), { kind: 'timeout', limitS: 1 }, '–'],
    [undefined, ok([1, 0]), '–'],
  ])('formatRatio(%j, %j) = %s', (slow, fast, want) => {
    expect(formatRatio(slow, fast)).toBe(want);
  });

  it('markdownTable: first column left, the others right', () => {
    expect(
      markdownTable(
        ['command', '10', '100'],
        [
          ['a', '1 / 1', '2 / 2'],
          ['b', '3 / 3', '> 120 s (timed out)'],
        ],
      ),
    ).toBe('| command | 10 | 100 |\n| --- | ---: | ---: |\n| a | 1 / 1 | 2 / 2 |\n| b | 3 / 3 | > 120 s (timed out) |\n');
  });
});
