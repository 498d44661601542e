// The compatibility matrix: "what is safe to reuse?". Which template, fragment versions and
// base digests were built together, on which platform and accelerator, how often that passed,
// and the last run. Pure: from records (history lines and latest files).
import type { Build } from './build.js';

export interface CompatRow {
  product: string;
  template: string;
  fragments: string[];
  base: string;
  platform: string;
  accelerator: string;
  passed: number;
  failed: number;
  last: { result: 'passed' | 'failed'; finishedAt: string; run: string; url?: string };
}

export interface CompatQuery {
  /** "name@version" of a fragment or a product (or a template). */
  ref: string;
  accelerator(target: string): string;
}

const pin = (x: { ref: string; digest?: string }) => (x.digest ? `${x.ref} (${x.digest.slice(0, 19)})` : x.ref);

function matches(r: Build, ref: string): boolean {
  return r.product.id === ref || r.template?.ref === ref || r.fragments.some((f) => f.ref === ref);
}

/** Records by every ref they were built with (product, template, fragments): one pass for many queries. */
export function recordsByRef(records: readonly Build[]): Map<string, Build[]> {
  const out = new Map<string, Build[]>();
  const add = (ref: string, r: Build) => {
    const have = out.get(ref);
    if (!have) out.set(ref, [r]);
    else if (have.at(-1) !== r) have.push(r);
  };
  for (const r of records) {
    add(r.product.id, r);
    if (r.template) add(r.template.ref, r);
    for (const f of r.fragments) add(f.ref, r);
  }
  return out;
}

/** Rows for one ref, passing combinations first, newest first within each. */
export function compat(records: readonly Build[], q: CompatQuery): CompatRow[] {
  const rows = new Map<string, CompatRow>();
  for (const r of [...records].sort((a, b) => (a.finishedAt < b.finishedAt ? -1 : a.finishedAt > b.finishedAt ? 1 : 0))) {
    if (!matches(r, q.ref)) continue;
    const row: Omit<CompatRow, 'passed' | 'failed' | 'last'> = {
      product: r.product.id,
      template: r.template ? pin(r.template) : '-',
      fragments: r.fragments.map(pin),
      base: r.base.digest ? `${r.base.image?.split('@')[0] ?? ''}@${r.base.digest}` : (r.base.image ?? '-'),
      platform: r.platform,
      accelerator: q.accelerator(r.target),
    };
    const key = JSON.stringify(row);
    const have = rows.get(key) ?? { ...row, passed: 0, failed: 0, last: { result: r.result, finishedAt: r.finishedAt, run: r.run.id } };
    have[r.result] += 1;
    have.last = { result: r.result, finishedAt: r.finishedAt, run: `${r.run.id}/${r.run.attempt}`, ...(r.run.url ? { url: r.run.url } : {}) };
    rows.set(key, have);
  }
  return [...rows.values()].sort(
    (a, b) =>
      Number(b.last.result === 'passed') - Number(a.last.result === 'passed') ||
      (a.last.finishedAt < b.last.finishedAt ? 1 : a.last.finishedAt > b.last.finishedAt ? -1 : 0),
  );
}
