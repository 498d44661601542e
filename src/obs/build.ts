// One build as the KPIs, the compatibility matrix and the site use it: the fields of a record
// they read, and nothing else. A FactoryRecord is one (structurally); a history of 100,000+
// lines is kept as these instead, with repeated strings shared, so reading it does not hold
// every parsed line (image refs, SBOM, run sha...) in memory.
import type { FactoryRecord } from '../core/record.js';

export interface Build {
  target: string;
  product: { id: string };
  variant: string;
  platform: string;
  template?: { ref: string; digest?: string };
  fragments: readonly { ref: string; digest?: string }[];
  base: { image?: string; digest?: string; seenAt?: string };
  image: { digest?: string; pushed: boolean };
  result: 'passed' | 'failed';
  failure?: { kind: 'build' | 'test' };
  tests: { targets: readonly string[]; total: number; passed: number; failed: number; skipped: number };
  kpis: {
    wallTimeMs: number;
    steps: { total: number; cached: number };
    cacheHitRatio?: number;
    imageSizeBytes?: number;
    queueWaitMs?: number;
    queue?: { createdAt: string; startedAt: string };
    queueWaitMissing?: string;
  };
  run: { repository: string; id: string; attempt: string; url?: string; event: string };
  attempts?: number;
  startedAt: string;
  finishedAt: string;
}

/** Shares equal strings and small arrays between builds (targets, refs, digests, URLs). */
export class Interner {
  private strings = new Map<string, string>();
  private lists = new Map<string, unknown>();
  s<T extends string | undefined>(v: T): T {
    if (v === undefined) return v;
    const have = this.strings.get(v);
    if (have !== undefined) return have as T;
    this.strings.set(v, v);
    return v;
  }
  list<T>(key: string, make: () => T): T {
    const have = this.lists.get(key);
    if (have !== undefined) return have as T;
    const made = make();
    this.lists.set(key, made);
    return made;
  }
}

function pin(x: { ref: string; digest?: string }, i: Interner): { ref: string; digest?: string } {
  return x.digest === undefined ? { ref: i.s(x.ref) } : { ref: i.s(x.ref), digest: i.s(x.digest) };
}

function kpisOf(k: FactoryRecord['kpis'], i: Interner): Build['kpis'] {
  const out: Build['kpis'] = { wallTimeMs: k.wallTimeMs, steps: { total: k.steps.total, cached: k.steps.cached } };
  if (k.cacheHitRatio !== undefined) out.cacheHitRatio = k.cacheHitRatio;
  if (k.imageSizeBytes !== undefined) out.imageSizeBytes = k.imageSizeBytes;
  if (k.queueWaitMs !== undefined) out.queueWaitMs = k.queueWaitMs;
  if (k.queue) out.queue = { createdAt: k.queue.createdAt, startedAt: k.queue.startedAt };
  if (k.queueWaitMissing !== undefined) out.queueWaitMissing = i.s(k.queueWaitMissing);
  return out;
}

/** The build of a (checked) record, with its repeated strings shared through `i`. */
export function buildOf(r: FactoryRecord, i: Interner): Build {
  const b: Build = {
    target: i.s(r.target),
    product: i.list(`p\0${r.product.id}`, () => ({ id: r.product.id })),
    variant: i.s(r.variant),
    platform: i.s(r.platform),
    fragments: i.list(`f\0${JSON.stringify(r.fragments)}`, () => r.fragments.map((f) => pin(f, i))),
    base: i.list(`b\0${r.base.image ?? ''}\0${r.base.digest ?? ''}\0${r.base.seenAt ?? ''}`, () => ({
      ...(r.base.image ? { image: r.base.image } : {}),
      ...(r.base.digest ? { digest: r.base.digest } : {}),
      ...(r.base.seenAt ? { seenAt: r.base.seenAt } : {}),
    })),
    image: r.image.digest === undefined ? { pushed: r.image.pushed } : { digest: i.s(r.image.digest), pushed: r.image.pushed },
    result: r.result,
    tests: {
      targets: i.list(`t\0${r.tests.targets.join('\0')}`, () => r.tests.targets.map((t) => i.s(t))),
      total: r.tests.total,
      passed: r.tests.passed,
      failed: r.tests.failed,
      skipped: r.tests.skipped,
    },
    kpis: kpisOf(r.kpis, i),
    run: {
      repository: i.s(r.run.repository),
      id: i.s(r.run.id),
      attempt: i.s(r.run.attempt),
      event: i.s(r.run.event),
      ...(r.run.url ? { url: i.s(r.run.url) } : {}),
    },
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
  };
  if (r.template) b.template = i.list(`T\0${r.template.ref}\0${r.template.digest ?? ''}`, () => pin(r.template!, i));
  if (r.failure) b.failure = { kind: r.failure.kind };
  if (r.attempts !== undefined) b.attempts = r.attempts;
  return b;
}
