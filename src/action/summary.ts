// The job summary: one table row per target, then the error report of each failure. Rendered
// to a Markdown string (pure, tested) that build.ts appends with core.summary. Step names, test
// names, messages and logs come from Dockerfiles and tests, so every value is escaped for
// Markdown (src/core/escape.ts): it shows as text, never as HTML, a link or a table column.
import { markdownBlock, markdownCode, markdownText } from '../core/escape.js';
import type { FactoryRecord } from '../core/record.js';

function ratio(r: number | undefined): string {
  return r === undefined ? '–' : `${(r * 100).toFixed(1)}%`;
}

function duration(ms: number): string {
  const s = ms / 1000;
  return s < 60
    ? `${s.toFixed(1)}s`
    : `${Math.floor(s / 60)}m${Math.round(s % 60)
        .toString()
        .padStart(2, '0')}s`;
}

function short(digest: string | undefined): string {
  return digest ? markdownCode(digest.slice(0, 19), true) : '–';
}

export function renderSummary(records: readonly FactoryRecord[], paths: ReadonlyMap<string, string> = new Map()): string {
  const out: string[] = ['## Factory build', ''];
  out.push(
    '| target | platform | result | duration | cache hits | steps (executed/cached/total) | digest | SBOM packages | tests (passed/failed/skipped) | failing step |',
  );
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of records) {
    const k = r.kpis;
    const failing = r.failure ? `${r.failure.step}${r.failure.exitCode !== undefined ? ` (exit ${r.failure.exitCode})` : ''}` : '';
    out.push(
      '| ' +
        [
          markdownCode(r.target, true),
          markdownText(r.platform),
          r.result === 'passed' ? '✅ passed' : '❌ failed',
          duration(k.wallTimeMs),
          ratio(k.cacheHitRatio),
          `${k.steps.executed}/${k.steps.cached}/${k.steps.total}`,
          short(r.image.digest),
          r.sbom ? String(r.sbom.packages) : '–',
          r.tests.total ? `${r.tests.passed}/${r.tests.failed}/${r.tests.skipped}` : '–',
          failing ? markdownCode(failing, true) : '',
        ].join(' | ') +
        ' |',
    );
  }
  for (const r of records) {
    const f = r.failure;
    if (!f) continue;
    out.push('', `### ❌ ${markdownText(r.target)}: ${f.kind === 'build' ? 'build step' : 'test'} failed`, '');
    out.push(`- step: ${markdownCode(f.step)}`);
    if (f.exitCode !== undefined) out.push(`- exit code: ${f.exitCode}`);
    if (f.dockerfile) out.push(`- Dockerfile: ${markdownCode(`${f.dockerfile.file}:${f.dockerfile.line}`)}`);
    if (f.source) out.push(`- source: ${markdownCode(`${f.source.file}:${f.source.line}`)}${f.source.origin ? ` (${markdownText(f.source.origin)})` : ''}`);
    out.push(`- error: ${markdownText(f.message)}`);
    if (f.log.length) out.push('', ...markdownBlock(f.log));
  }
  const recs = [...paths.entries()];
  if (recs.length) {
    out.push('', '<details><summary>records</summary>', '');
    for (const [t, p] of recs) out.push(`- ${markdownCode(t)}: ${markdownCode(p)}`);
    out.push('', '</details>');
  }
  return out.join('\n') + '\n';
}
