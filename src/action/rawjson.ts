// Parser of `buildx --progress=rawjson`: one JSON-encoded BuildKit SolveStatus per line
// ({"vertexes":[...],"statuses":[...],"logs":[...],"warnings":[...]}; field names as in
// github.com/moby/buildkit/client/graph.go). Vertexes are repeated as they progress, so updates
// are merged by digest. Lines that are not JSON (buildx's closing error message and the
// Dockerfile excerpt it prints) are kept: the error report needs them.

export interface Vertex {
  digest: string;
  name: string;
  inputs: string[];
  started?: string;
  completed?: string;
  cached: boolean;
  error?: string;
  /** Log output of the vertex (stdout and stderr interleaved), split into lines. */
  log: string[];
}

export interface Progress {
  /** In order of first appearance. */
  vertexes: Vertex[];
  warnings: { vertex?: string; short: string; file?: string; line?: number }[];
  /** Non-JSON lines of the stream, in order. */
  text: string[];
}

export interface StepName {
  /** The bake target prefix buildx adds when a bake builds several targets. */
  target?: string;
  stage?: string;
  index: number;
  total: number;
  /** "RUN apt-get update", "COPY files/ /opt/app", "FROM docker.io/...". */
  instruction: string;
}

interface RawVertex {
  digest?: string;
  inputs?: string[];
  name?: string;
  started?: string;
  completed?: string;
  cached?: boolean;
  error?: string;
}
interface RawLog {
  vertex?: string;
  data?: string;
}
interface RawWarning {
  vertex?: string;
  short?: string;
  sourceInfo?: { filename?: string };
  range?: { start?: { line?: number } }[];
}

function decode(b64: string | undefined): string {
  return b64 ? Buffer.from(b64, 'base64').toString('utf8') : '';
}

export function parseRawJson(stream: string): Progress {
  const byDigest = new Map<string, Vertex>();
  const partial = new Map<string, string>();
  const warnings: Progress['warnings'] = [];
  const text: string[] = [];
  for (const line of stream.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    let status: { vertexes?: RawVertex[]; logs?: RawLog[]; warnings?: RawWarning[] } | undefined;
    if (line.startsWith('{')) {
      try {
        status = JSON.parse(line) as typeof status;
      } catch {
        status = undefined;
      }
    }
    if (!status || typeof status !== 'object') {
      text.push(line);
      continue;
    }
    for (const rv of status.vertexes ?? []) {
      if (!rv.digest) continue;
      let v = byDigest.get(rv.digest);
      if (!v) {
        v = { digest: rv.digest, name: rv.name ?? '', inputs: rv.inputs ?? [], cached: false, log: [] };
        byDigest.set(rv.digest, v);
      }
      if (rv.name) v.name = rv.name;
      if (rv.inputs) v.inputs = rv.inputs;
      if (rv.started) v.started ??= rv.started;
      if (rv.completed) v.completed = rv.completed;
      if (rv.cached) v.cached = true;
      if (rv.error) v.error = rv.error;
    }
    for (const l of status.logs ?? []) {
      if (!l.vertex) continue;
      // Log chunks split lines arbitrarily; keep the unfinished tail until its newline arrives.
      const chunk = (partial.get(l.vertex) ?? '') + decode(l.data);
      const parts = chunk.split(/\r?\n/);
      partial.set(l.vertex, parts.pop() ?? '');
      const v = byDigest.get(l.vertex);
      if (v) v.log.push(...parts);
      else byDigest.set(l.vertex, { digest: l.vertex, name: '', inputs: [], cached: false, log: parts });
    }
    for (const w of status.warnings ?? []) {
      const entry: Progress['warnings'][number] = { short: decode(w.short) };
      if (w.vertex) entry.vertex = w.vertex;
      if (w.sourceInfo?.filename) entry.file = w.sourceInfo.filename;
      const line = w.range?.[0]?.start?.line;
      if (line) entry.line = line;
      warnings.push(entry);
    }
  }
  for (const [digest, tail] of partial) {
    if (tail !== '') byDigest.get(digest)?.log.push(tail);
  }
  return { vertexes: [...byDigest.values()], warnings, text };
}

const STEP_RE = /^\[(?:([^\s\]]+) )?(?:([^\s\]]+) )?(\d+)\/(\d+)\] (.+)$/s;

/**
 * Splits a Dockerfile step vertex name such as "[llm-amd64 core-python 2/3] RUN pip install x".
 * With one word before the counter it is the stage, unless it names one of `targets` (buildx
 * prefixes the target when a bake runs several). Returns undefined for internal vertexes.
 */
export function parseStepName(name: string, targets: readonly string[] = []): StepName | undefined {
  const m = STEP_RE.exec(name);
  if (!m) return undefined;
  const [, a, b, index, total, instruction] = m;
  const step: StepName = { index: Number(index), total: Number(total), instruction: instruction!.trim() };
  if (a !== undefined && b !== undefined) {
    step.target = a;
    step.stage = b;
  } else if (a !== undefined) {
    if (targets.includes(a)) step.target = a;
    else step.stage = a;
  }
  return step;
}

/**
 * A Dockerfile step that BuildKit runs or takes from cache. FROM is left out: it resolves a base
 * image (a source, never "executed" in the cache sense), and BuildKit reports it as cached or not
 * depending on whether the image was already unpacked, which says nothing about the build cache.
 */
export function isStep(v: Vertex): boolean {
  const step = parseStepName(v.name);
  return step !== undefined && !/^FROM\s/i.test(step.instruction);
}

export interface StepCounts {
  total: number;
  cached: number;
  executed: number;
  failed: number;
  /** cached / total; undefined when the build had no Dockerfile steps. */
  cacheHitRatio?: number;
}

/**
 * Counts Dockerfile steps (not BuildKit's internal vertexes such as exporters or metadata loads).
 * With `target` (a bake of several targets, whose vertex names buildx prefixes with the target)
 * only that target's steps count; a step two targets share is one vertex and counts for the
 * target whose name BuildKit reported on it.
 */
export function countSteps(p: Progress, target?: string, targets: readonly string[] = []): StepCounts {
  const steps = p.vertexes.filter(isStep).filter((v) => target === undefined || parseStepName(v.name, targets)?.target === target);
  const cached = steps.filter((v) => v.cached).length;
  const failed = steps.filter((v) => v.error && !isCancellation(v.error)).length;
  const executed = steps.filter((v) => !v.cached && v.completed && !v.error).length;
  const counts: StepCounts = { total: steps.length, cached, executed, failed };
  if (steps.length > 0) counts.cacheHitRatio = Math.round((cached / steps.length) * 10_000) / 10_000;
  return counts;
}

function isCancellation(error: string): boolean {
  return /context canceled|canceled$/i.test(error);
}

/**
 * The vertex that made the build fail: the first (by completion) with an error that is not a
 * cancellation caused by another failure.
 */
export function failedVertex(p: Progress): Vertex | undefined {
  // A missing cache ref is an error on its vertex but never why a build fails.
  const failed = p.vertexes.filter((v) => v.error && !/^(\[[^\]]*\] )?importing cache manifest/.test(v.name));
  const real = failed.filter((v) => !isCancellation(v.error!));
  const steps = real.filter((v) => parseStepName(v.name) !== undefined);
  const pick = steps.length > 0 ? steps : real.length > 0 ? real : failed;
  return [...pick].sort((x, y) => (x.completed ?? '').localeCompare(y.completed ?? ''))[0];
}

export function exitCodeOf(error: string | undefined): number | undefined {
  const m = /exit code: (\d+)/.exec(error ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * The location buildx prints after a failed solve ("build/x/Dockerfile:12" followed by a
 * "----" ruler and the excerpt). Returns the file as buildx names it and the 1-based line.
 */
export function errorLocation(text: readonly string[]): { file: string; line: number } | undefined {
  for (let i = 0; i + 1 < text.length; i++) {
    const m = /^(\S+):(\d+)$/.exec(text[i]!.trim());
    if (m && /^-{10,}$/.test(text[i + 1]!.trim())) return { file: m[1]!, line: Number(m[2]) };
  }
  return undefined;
}

/** buildx's one-line error ("ERROR: failed to build: ..."), if the stream has one. */
export function errorLine(text: readonly string[]): string | undefined {
  const line = [...text].reverse().find((l) => /^ERROR:? /.test(l.trim()));
  return line?.trim().replace(/^ERROR:? /, '');
}

/** With several targets buildx names the failed one: "ERROR: target hello-amd64: failed to solve: ...". */
export function errorTarget(text: readonly string[]): string | undefined {
  return /^target ([A-Za-z0-9_-]+): /.exec(errorLine(text) ?? '')?.[1];
}
