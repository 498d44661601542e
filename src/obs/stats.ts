// Small statistics shared by the history aggregates and `factory kpi`.

/** Nearest-rank percentile (p in 0..100) of the values; undefined for none. `sorted`: they already are. */
export function percentile(values: ArrayLike<number>, p: number, sorted = false): number | undefined {
  if (values.length === 0) return undefined;
  if (!sorted) values = Float64Array.from(values).sort();
  const rank = Math.max(1, Math.ceil((p / 100) * values.length));
  return values[Math.min(rank, values.length) - 1];
}

/** a / b, or undefined when there is nothing to divide (a rate of no builds is unknown, not 0). */
export function ratio(a: number, b: number): number | undefined {
  return b > 0 ? a / b : undefined;
}

/** Parses `--since`: an ISO date/time, or a relative "30d" / "12h" before `now`. */
export function parseSince(value: string, now: Date): Date | undefined {
  const rel = /^(\d+)([dh])$/.exec(value.trim());
  if (rel) return new Date(now.getTime() - Number(rel[1]) * (rel[2] === 'd' ? 86_400_000 : 3_600_000));
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(value.trim())) return undefined;
  const d = new Date(value.trim());
  return Number.isNaN(d.getTime()) ? undefined : d;
}
