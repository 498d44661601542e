// The job summary: one table row per target, then the error report of each failure. Rendered
// to a Markdown string (pure, tested) that main.ts appends with core.summary.
import type { FactoryRecord } from './record.js';

function ratio(r: number | undefined): string {
  return r === undefined ? '–' : `${(r * 100).toFixed(1)}%`;
}

function duration(ms: number): string {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${Math.round(s % 60)
    .toString()
    .padStart(2, '0')}s`;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function short(digest: string | undefined): string {
  return digest ? `\`${digest.slice(0, 19)}\`` : '–';
}

export function renderSummary(records: readonly FactoryRecord[], paths: ReadonlyMap<string, string> = new Map()): string {
  const out: string[] = ['## Factory build', ''];
  out.push('| target | platform | result | duration | cache hits | steps (executed/cached/total) | digest | SBOM packages | tests (passed/failed/skipped) | failing step |');
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of records) {
    const k = r.kpis;
    const failing = r.failure ? `${r.failure.step}${r.failure.exitCode !== undefined ? ` (exit ${r.failure.exitCode})` : ''}` : '';
    out.push(
      '| ' +
        [
          `\`${r.target}\``,
          r.platform,
          r.result === 'passed' ? '✅ passed' : '❌ failed',
          duration(k.wallTimeMs),
          ratio(k.cacheHitRatio),
          `${k.steps.executed}/${k.steps.cached}/${k.steps.total}`,
          short(r.image.digest),
          r.sbom ? String(r.sbom.packages) : '–',
          r.tests.total ? `${r.tests.passed}/${r.tests.failed}/${r.tests.skipped}` : '–',
          cell(failing),
        ].join(' | ') +
        ' |',
    );
  }
  for (const r of records) {
    const f = r.failure;
    if (!f) continue;
    out.push('', `### ❌ ${r.target}: ${f.kind === 'build' ? 'build step' : 'test'} failed`, '');
    out.push(`- step: \`${f.step.replace(/\r?\n/g, ' ').replace(/`/g, "'")}\``);
    if (f.exitCode !== undefined) out.push(`- exit code: ${f.exitCode}`);
    if (f.dockerfile) out.push(`- Dockerfile: \`${f.dockerfile.file}:${f.dockerfile.line}\``);
    if (f.source) out.push(`- source: \`${f.source.file}:${f.source.line}\`${f.source.origin ? ` (${f.source.origin})` : ''}`);
    out.push(`- error: ${f.message.replace(/\r?\n/g, ' ')}`);
    if (f.log.length) out.push('', '```text', ...f.log.map((l) => l.replace(/```/g, "'''")), '```');
  }
  const recs = [...paths.entries()];
  if (recs.length) {
    out.push('', '<details><summary>records</summary>', '');
    for (const [t, p] of recs) out.push(`- \`${t}\`: \`${p}\``);
    out.push('', '</details>');
  }
  return out.join('\n') + '\n';
}
