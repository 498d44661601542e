// What `factory merge` publishes: for each manifest list of the plan, the platform images it is
// made of, or why it is refused. Pure: the plan and the legs' result files in, the
// `imagetools create` arguments out (src/cli/publish.ts runs them).
//
// A list is published only whole: every platform has an image that this run pushed and tested
// (digest from its result file) or one already in the registry under the same build key. A
// partial list would silently drop a platform from a tag consumers pull.
import type { JobResultParse } from '../core/job-result.js';
import type { MergeEntry, PlanResult } from './index.js';

export interface ListToPublish {
  /** `<registry>/<image>:<tag>` of the first tag: how messages name the list. */
  name: string;
  /** Full references of every tag the list gets. */
  tags: string[];
  /** Full references of the platform images, in platform order. */
  sources: string[];
}

export interface RefusedList {
  name: string;
  /** One entry per platform without an image: "<platform> (<why>)". */
  missing: string[];
}

export interface MergeDecision {
  publish: ListToPublish[];
  refused: RefusedList[];
}

/** A leg's result file as read from the results directory; undefined when there is none. */
export type ResultFiles = ReadonlyMap<string, JobResultParse | undefined>;

function whyNoImage(target: string, read: JobResultParse | undefined): string | undefined {
  if (!read) return `target ${target} left no result: it did not run or was cancelled`;
  if (!read.ok) return `target ${target} left an unreadable result: ${read.message}`;
  const r = read.value;
  if (r.target !== target) return `the result file of ${target} names target ${r.target}`;
  if (r.result !== 'passed') return `target ${target} ${r.result === 'failed' ? 'failed' : 'hit an infrastructure error'}${r.message ? `: ${r.message}` : ''}`;
  if (!r.pushed || !r.digest) return `target ${target} pushed no image`;
  return undefined;
}

function decide(registry: string, m: MergeEntry, results: ResultFiles): ListToPublish | RefusedList {
  const repo = `${registry}/${m.image}`;
  const name = `${repo}:${m.tags[0]}`;
  const sources: string[] = [];
  const missing: string[] = [];
  for (const s of m.sources) {
    // By the digest the plan verified, when it has one: the tag can move after the plan.
    if (s.status === 'existing') sources.push(s.digest ? `${repo}@${s.digest}` : `${repo}:${s.keyTag}`);
    else if (s.status === 'missing' && s.untrusted) missing.push(`${s.platform} (the image tagged ${s.keyTag} is not trusted: ${s.untrusted})`);
    else if (s.status === 'missing') missing.push(`${s.platform} (target ${s.target} is neither built in this run nor in the registry)`);
    else {
      const read = results.get(s.target);
      const why = whyNoImage(s.target, read);
      if (why) missing.push(`${s.platform} (${why})`);
      else if (read?.ok) sources.push(`${repo}@${read.value.digest}`);
    }
  }
  if (missing.length > 0) return { name, missing };
  return { name, tags: m.tags.map((t) => `${repo}:${t}`), sources };
}

export function decideMerges(plan: Pick<PlanResult, 'registry' | 'merges'>, results: ResultFiles): MergeDecision {
  const out: MergeDecision = { publish: [], refused: [] };
  for (const m of plan.merges) {
    const d = decide(plan.registry, m, results);
    if ('missing' in d) out.refused.push(d);
    else out.publish.push(d);
  }
  return out;
}

/** The arguments of `buildx imagetools create` that publish one list. */
export function imagetoolsArgs(list: ListToPublish): string[] {
  return ['imagetools', 'create', ...list.tags.flatMap((t) => ['--tag', t]), ...list.sources];
}
