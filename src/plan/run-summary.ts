// The run's Markdown summary (job summary and pull request comment) from the plan and the legs'
// result files. Pure; `factory summary` writes it. Every value that can come from a pull
// request (target names, reasons, messages) is a code span (core/escape.ts markdownCode).
import { markdownCode } from '../core/escape.js';
import type { JobResultParse } from '../core/job-result.js';
import type { PlanResult } from './index.js';
import type { ResultFiles } from './merge.js';

function resultCell(status: 'build' | 'skip', read: JobResultParse | undefined): string {
  if (read === undefined) return status === 'build' ? 'not run' : '-';
  if (!read.ok) return `unreadable result ${markdownCode(read.message, true)}`;
  const r = read.value;
  const attempts = r.attempts > 1 ? ` (${r.attempts} attempts)` : '';
  return `${r.result}${attempts}${r.message ? ` ${markdownCode(r.message, true)}` : ''}`;
}

export function renderRunSummary(plan: Pick<PlanResult, 'summary' | 'affected' | 'removed'>, results: ResultFiles): string {
  const s = plan.summary;
  const out = [
    '## Container factory',
    '',
    `${s.affected} affected target(s) of ${s.targets}: ${s.build} to build, ${s.skipped} already built (build key in the registry).`,
    '',
  ];
  if (plan.affected.length > 0) {
    out.push('| target | pool | plan | result | why |', '| --- | --- | --- | --- | --- |');
    for (const t of plan.affected) {
      const why = t.reasons[0]?.summary ?? '';
      out.push(
        `| ${markdownCode(t.target, true)} | ${markdownCode(t.pool, true)} | ${t.status} | ${resultCell(t.status, results.get(t.target))} | ${markdownCode(why, true)} |`,
      );
    }
  }
  // An image under a build key that did not verify is rebuilt: say so, since someone put it there.
  const untrusted = plan.affected.filter((t) => t.untrusted);
  if (untrusted.length > 0) {
    out.push('', 'Rebuilt, not reused: the image under the build key is not trusted:', '');
    for (const t of untrusted) out.push(`- ${markdownCode(t.target, true)}: ${markdownCode(t.untrusted!, true)}`);
  }
  if (plan.removed.length > 0) out.push('', `Removed targets: ${plan.removed.length}`);
  return `${out.join('\n')}\n`;
}
