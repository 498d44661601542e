// The structured report of a failed build or test: what failed, where, and the source line a
// maintainer has to change. Pure: main.ts reads the files and hands their text in.
import type { SourceMapEntry } from '../core/types.js';
import { ERROR_LOG_LINES } from './constants.js';
import { errorLine, errorLocation, errorTarget, exitCodeOf, failedVertex, parseStepName, type Progress } from './rawjson.js';
import { findStepLine, lookup } from './sourcemap.js';
import type { TestCase } from './test-results.js';

export interface ErrorReport {
  kind: 'build' | 'test';
  /** The bake target that failed. */
  target: string;
  /** The failing step: the vertex name ("[core-python 2/3] RUN pip install x") or test name. */
  step: string;
  stage?: string;
  exitCode?: number;
  message: string;
  /** The last lines of the failing step's log. */
  log: string[];
  /** The line of the rendered Dockerfile. */
  dockerfile?: { file: string; line: number };
  /** Where that line was written: the template or fragment file. */
  source?: { file: string; line: number; origin: string };
}

export interface DockerfileInfo {
  /** Repository-relative path of the rendered Dockerfile. */
  path: string;
  text: string;
  map: SourceMapEntry[];
}

export function buildErrorReport(args: {
  progress: Progress;
  /** Image targets of this bake; the failing one is read from the vertex prefix when several. */
  targets: readonly string[];
  dockerfiles: ReadonlyMap<string, DockerfileInfo>;
  exitCode: number;
}): ErrorReport {
  const { progress, targets } = args;
  const v = failedVertex(progress);
  const step = v ? parseStepName(v.name, targets) : undefined;
  const named = errorTarget(progress.text);
  const target =
    step?.target ??
    (named && targets.includes(named) ? named : undefined) ??
    (targets.length === 1 ? targets[0]! : (targets.find((t) => v?.name.startsWith(`[${t}`)) ?? targets[0] ?? ''));
  const message = v?.error ?? errorLine(progress.text) ?? `buildx bake exited with code ${args.exitCode}`;
  const report: ErrorReport = {
    kind: 'build',
    target,
    step: v?.name ?? '(no failing step reported by BuildKit)',
    message,
    log: (v?.log ?? progress.text).filter((l) => l.trim() !== '').slice(-ERROR_LOG_LINES),
  };
  if (step?.stage) report.stage = step.stage;
  const exit = exitCodeOf(v?.error) ?? exitCodeOf(errorLine(progress.text));
  if (exit !== undefined) report.exitCode = exit;

  const push = pushFailure(progress);
  if (push) {
    report.step = 'push';
    report.message =
      push.kind === 'refused'
        ? `the registry refused the push: ${push.line}; log in with docker/login-action, check that the token may write packages, or set \`push: false\``
        : `${PUSH_UNREACHABLE}: ${push.line}; check the registry address and that it is up (input \`retries\` retries this)`;
    return report;
  }

  if (!v && BUILDER_GONE.test(message)) {
    report.step = 'builder';
    report.message = `${BUILDER_LOST}: ${message}; this is not a fault of the inputs: re-run the job, or let input \`retries\` retry it`;
    return report;
  }

  const df = args.dockerfiles.get(target);
  if (df) {
    // buildx's printed location is exact (it comes from BuildKit's source info); the name match
    // is the fallback for errors printed without one.
    const loc = errorLocation(progress.text);
    const line = loc?.line ?? (step ? findStepLine(df.text, step.stage, step.instruction) : undefined);
    if (line !== undefined) {
      report.dockerfile = { file: df.path, line };
      const src = lookup(df.map, line);
      if (src) report.source = { file: src.file, line: src.sourceLine, origin: src.origin };
    }
  }
  return report;
}

/**
 * A failure of the inputs (a step that exited non-zero, a test, a refused push, a located
 * Dockerfile or bake error) rather than of the infrastructure (builder gone, network down). The
 * `error-report` output is set only for these, so a workflow can retry the rest.
 */
export function isAttributable(r: ErrorReport): boolean {
  if (r.step === 'push') return !r.message.startsWith(PUSH_UNREACHABLE);
  return r.kind === 'test' || r.exitCode !== undefined || r.dockerfile !== undefined || r.stage !== undefined;
}

/** How the message starts when the connection to BuildKit broke (infrastructure: retried). */
export const BUILDER_LOST = 'the connection to the BuildKit builder was lost';
// What buildx prints when its builder dies or cannot be reached (gRPC Unavailable, a closed
// socket), with no step of the build to blame.
const BUILDER_GONE = /code = Unavailable|error reading from server|failed to dial|transport is closing|connection (refused|reset)|\bEOF\b/i;

/** How the message of a push that failed on the network starts (infrastructure: retried). */
export const PUSH_UNREACHABLE = 'the registry could not be reached while pushing';

/**
 * A failed push shows up as buildx's final error, not as a failing step. The registry saying
 * no (401, 403, denied) is the inputs' fault: credentials or permissions. The registry not
 * answering (refused or reset connections, EOF, timeouts, unknown host) is the infrastructure's:
 * a registry that restarts mid-push looks exactly like this, so it is retried.
 */
export function pushFailure(p: Progress): { kind: 'refused' | 'unreachable'; line: string } | undefined {
  const line = errorLine(p.text) ?? '';
  if (!/failed to push|unexpected status|push access denied|failed to copy|failed to do request/i.test(line)) return undefined;
  if (/\b(401|403|denied|unauthorized|forbidden|insufficient_scope)\b/i.test(line)) return { kind: 'refused', line };
  if (/connection refused|connection reset|broken pipe|\bEOF\b|no such host|i\/o timeout|timeout|unavailable|50[234]\b/i.test(line))
    return { kind: 'unreachable', line };
  return undefined;
}

export function testErrorReport(testTarget: string, failed: TestCase): ErrorReport {
  const report: ErrorReport = {
    kind: 'test',
    target: testTarget,
    step: failed.name,
    message: failed.message ?? `test "${failed.name}" failed`,
    log: (failed.output ?? '')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-ERROR_LOG_LINES),
  };
  if (failed.exitCode !== undefined) report.exitCode = failed.exitCode;
  if (failed.source) report.source = { file: failed.source.file, line: failed.source.line, origin: failed.suite ?? '' };
  return report;
}

/** The one-paragraph message of the annotation and the failure. */
export function annotationMessage(r: ErrorReport): string {
  const where = r.dockerfile ? ` (${r.dockerfile.file}:${r.dockerfile.line})` : '';
  const exit = r.exitCode !== undefined ? `, exit code ${r.exitCode}` : '';
  const head = `${r.target}: ${r.kind === 'build' ? 'step' : 'test'} ${r.step} failed${exit}${where}`;
  const tail = r.log.slice(-10).join('\n');
  return tail ? `${head}\n${r.message}\n${tail}` : `${head}\n${r.message}`;
}
