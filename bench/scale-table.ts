// Pure helpers of bench/scale.ts: argument parsing, the child's CPU time from /usr/bin/time,
// medians and the markdown table. No I/O here, so test/bench/scale-table.test.ts covers it.

/** One measured run of a command: wall time seen by the bench, CPU (user + system) of the child. */
export interface Sample {
  wallMs: number;
  cpuMs: number;
}

/** A table cell: the runs of one command at one size, or a run that hit the per-call limit. */
export type Cell = { kind: 'ok'; samples: Sample[] } | { kind: 'timeout'; limitS: number };

/** Median; the mean of the two middle values for an even count. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** `--sizes 10,100,1000`: positive integers, comma-separated; `_` allowed inside a number (10_000). */
export function parseSizes(text: string): number[] {
  const sizes = text.split(',').map((part) => {
    const t = part.trim().replace(/_/g, '');
    if (!/^[1-9][0-9]*$/.test(t)) throw new Error(`--sizes: not a positive integer: ${JSON.stringify(part)}`);
    return Number(t);
  });
  return sizes;
}

/**
 * The timing line /usr/bin/time -f "%e %U %S" (or bash's TIMEFORMAT="%R %U %S") writes: the last
 * line of three numbers, in seconds. Lines before it ("Command exited with non-zero status 3")
 * are skipped. CPU is user + system of the child and every descendant it waited for.
 */
export function parseTimeOutput(text: string): { wallS: number; cpuS: number } {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    const m = /^\s*([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s*$/.exec(line);
    if (m) return { wallS: Number(m[1]), cpuS: Number(m[2]) + Number(m[3]) };
  }
  throw new Error(`no timing line in ${JSON.stringify(text)}`);
}

/** Milliseconds, rounded, with thousands separators: 1234.6 -> "1,235". */
export function formatMs(ms: number): string {
  return Math.round(ms).toLocaleString('en-US');
}

/** `wall / cpu` (median ms); "(1 run)" when fewer runs than asked; the limit when it timed out. */
export function formatCell(cell: Cell | undefined, runs: number): string {
  if (!cell) return '–';
  if (cell.kind === 'timeout') return `> ${cell.limitS} s (timed out)`;
  const wall = median(cell.samples.map((s) => s.wallMs));
  const cpu = median(cell.samples.map((s) => s.cpuMs));
  const n = cell.samples.length;
  return `${formatMs(wall)} / ${formatMs(cpu)}${n < runs ? ` (${n} run${n === 1 ? '' : 's'})` : ''}`;
}

/**
 * How many times slower `slow` is than `fast` in median wall time: "12.3x"; when `slow` timed out,
 * a lower bound from its limit ("> 450x").
 */
export function formatRatio(slow: Cell | undefined, fast: Cell | undefined): string {
  if (!slow || !fast || fast.kind !== 'ok') return '–';
  const fastMs = median(fast.samples.map((s) => s.wallMs));
  const times = (r: number) => `${r < 10 ? r.toFixed(1) : Math.floor(r).toLocaleString('en-US')}x`;
  if (slow.kind === 'timeout') return `> ${times((slow.limitS * 1000) / fastMs)}`;
  return times(median(slow.samples.map((s) => s.wallMs)) / fastMs);
}

/** A markdown table; the first column left-aligned, the others right-aligned. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n') + '\n';
}
