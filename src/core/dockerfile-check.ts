// Checks of Dockerfile text read with the lexer (dockerfile.ts): what a COPY/ADD source or a
// `RUN --mount=type=bind` source may name, and, on a rendered Dockerfile, that every line a
// template or snippet wrote is an instruction, that none of them starts a stage (FROM), and that
// no line continuation runs into text another file wrote. Also the rewriting of a fragment's
// `files/...` sources to its directory in the build context.
import { didYouMean, error } from './diagnostics.js';
import { bindMounts, copySources, flagsOf, INSTRUCTIONS, lexDockerfile, type DfInstruction, type DfWord, type LexedDockerfile } from './dockerfile.js';
import { normalize } from './paths.js';
import type { Diagnostic, SourceLocation, SourceMapEntry } from './types.js';

/** The template or fragment version that wrote a Dockerfile line. */
export interface SourceOwner {
  kind: 'template' | 'fragment';
  /** Its version directory, e.g. fragments/app/1.0.0. */
  dir: string;
  /** Its files, relative to `dir` (files/motd...). */
  present: readonly string[];
  /**
   * The stages of the Dockerfile's other fragments that this fragment does not require, by
   * stage name -> fragment name: `COPY --from=<slot>-<fragment>` may read only a required
   * fragment's stage, or the isolated test (which builds only what `requires` lists) would take
   * the name for an image to pull.
   */
  foreignStages?: ReadonlyMap<string, string>;
}

/**
 * Problems with the sources of one COPY/ADD or RUN --mount=type=bind instruction. Sources are
 * read as their author wrote them: relative to the version directory (`authorValue` undoes what
 * rendering added, e.g. the fragment directory of `<%= fragment.files %>`).
 */
export function sourceProblems(
  ins: DfInstruction,
  owner: SourceOwner,
  locate: (w: DfWord) => SourceLocation,
  authorValue: (v: string) => string = (v) => v,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const filesPrefix = `${owner.dir}/files/`;
  const check = (op: string, w: DfWord, remoteAllowed: boolean): void => {
    const d = pathProblem(op, authorValue(w.value), locate(w), owner, remoteAllowed);
    if (d) out.push(d);
  };
  const checkStage = (op: string, stage: string, w: DfWord): void => {
    const d = stageProblem(op, stage, owner, locate(w));
    if (d) out.push(d);
  };
  if (ins.upper === 'COPY' || ins.upper === 'ADD') {
    // --from copies out of another stage or image, and heredocs carry their content inline.
    const from = flagsOf(ins).find((f) => /^--from(=|$)/i.test(f.value));
    if (from) {
      checkStage(ins.upper, from.value.replace(/^--from=?/i, ''), from);
      return out;
    }
    for (const w of copySources(ins)) if (!w.value.startsWith('<<')) check(ins.upper, w, false);
  } else if (ins.upper === 'RUN') {
    for (const m of bindMounts(ins)) {
      if (m.from !== undefined) {
        checkStage('RUN --mount', m.from, m.flag);
        continue;
      }
      if (m.source === undefined) {
        out.push(
          error('path-escape', 'RUN --mount=type=bind without source= mounts the whole build context', {
            location: locate(m.flag),
            hint: `mount the fragment's own files: --mount=type=bind,source=files/<path>,target=<dir> (they are under ${filesPrefix})`,
          }),
        );
        continue;
      }
      check('RUN --mount', m.source, true);
    }
  }
  return out;
}

/** What is wrong with one source as its author wrote it (`v`), if anything. */
function pathProblem(op: string, v: string, loc: SourceLocation, owner: SourceOwner, remoteAllowed: boolean): Diagnostic | undefined {
  const filesPrefix = `${owner.dir}/files/`;
  if (!remoteAllowed && (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || v.startsWith('git@'))) {
    return error('remote-source', `${op} of a remote source "${v}" is not reproducible`, {
      location: loc,
      hint: 'put the file under files/ (and its checksum in a test) instead of downloading it at build time',
    });
  }
  const norm = normalize(v);
  if (norm === undefined) {
    return error('path-escape', `${op} source "${v}" leaves the ${owner.kind} directory`, {
      location: loc,
      hint:
        owner.kind === 'fragment'
          ? `put the file under ${filesPrefix} and ${op === 'RUN --mount' ? 'mount' : 'copy'} it from files/...`
          : 'copy files in a fragment (fragments/<name>/<version>/files/), not in the template',
    });
  }
  // Templates have no files/ of their own; what they may copy is up to the renderer.
  if (owner.kind === 'template') return undefined;
  if (!(norm === 'files' || norm.startsWith('files/'))) {
    return error('path-escape', `${op} source "${v}" is outside the fragment's files/ directory`, {
      location: loc,
      hint: `move it to ${filesPrefix} and write files/${norm}`,
    });
  }
  if (/[*?[]/.test(norm)) return undefined;
  if (!owner.present.some((p) => p === norm || p.startsWith(`${norm}/`))) {
    return error('missing-file', `${op} source "${v}" does not exist in ${owner.dir}/`, { location: loc, hint: `add ${owner.dir}/${norm} or fix the path` });
  }
  return undefined;
}

/** A `--from` naming the stage of a fragment the owner does not require. */
function stageProblem(op: string, stage: string, owner: SourceOwner, location: SourceLocation): Diagnostic | undefined {
  const name = owner.foreignStages?.get(stage.toLowerCase());
  if (name === undefined) return undefined;
  return error('stage-not-required', `${op} --from=${stage} reads the stage of fragment ${name}, which this fragment does not require`, {
    location,
    hint: `add ${name} to requires: in its fragment.yaml (its isolated test builds only what requires lists), or copy the file from this fragment's own files/`,
  });
}

/** Source problems of the instructions of a template or snippet as written (lines with EJS tags are left to the rendered check). */
export function snippetSourceProblems(path: string, text: string, owner: SourceOwner): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const ins of lexDockerfile(text).instructions) {
    if (ins.args.includes('<%') || ins.keyword.includes('<%')) continue;
    out.push(...sourceProblems(ins, owner, (w) => ({ file: path, line: w.line, column: w.column })));
  }
  return out;
}

const FILES_RE = /^(?:\.\/)?files(?=\/|$)/;

/**
 * Checks a rendered Dockerfile against the files that wrote it and rewrites each fragment's
 * `files/...` sources (COPY/ADD without --from, RUN --mount=type=bind without from=) to
 * `<fragment dir>/files/...`: every stage shares the repository root as build context.
 * `owners` maps a template or snippet path to its version; lines from other files (the stage
 * lines rendering writes) are the renderer's own. Line numbers do not change.
 */
export function checkRendered(
  text: string,
  sourceMap: readonly SourceMapEntry[],
  owners: ReadonlyMap<string, SourceOwner>,
  sourceLines: (file: string) => readonly string[],
): { text: string; diagnostics: Diagnostic[] } {
  const r = renderedText(text, sourceMap, sourceLines);
  const diagnostics: Diagnostic[] = [];
  const edits: Edit[] = [];
  for (const ins of r.lexed.instructions) {
    const swallowed = swallowedLine(r, ins, owners);
    // Its words now include the swallowed line's: checking them would only add noise.
    if (swallowed) {
      diagnostics.push(swallowed);
      continue;
    }
    const first = r.entry(ins.line);
    const owner = first ? owners.get(first.file) : undefined;
    if (!first || !owner) continue;
    diagnostics.push(...keywordProblems(r, ins, owner));
    const dirPrefix = `${owner.dir}/`;
    const author = (v: string): string => (owner.kind === 'fragment' && v.startsWith(dirPrefix) ? v.slice(dirPrefix.length) : v);
    diagnostics.push(...sourceProblems(ins, owner, (w) => r.locate(w.line, w.column, w.value, author(w.value)), author));
    if (owner.kind === 'fragment') edits.push(...filesEdits(ins, owner));
  }
  if (edits.length === 0) return { text, diagnostics };
  return { text: applyEdits(r.lines, edits), diagnostics };
}

interface RenderedText {
  lexed: LexedDockerfile;
  lines: string[];
  /** the source map entry of a rendered line (1-based) */
  entry: (line: number) => SourceMapEntry | undefined;
  /** the source location of something found at (line, column) of the rendered text, looked up by the strings given */
  locate: (line: number, column: number, ...find: string[]) => SourceLocation;
  sourceLines: (file: string) => readonly string[];
}

function renderedText(text: string, sourceMap: readonly SourceMapEntry[], sourceLines: (file: string) => readonly string[]): RenderedText {
  const lines = text.split('\n');
  const entry = (line: number): SourceMapEntry | undefined => sourceMap[line - 1];
  // The column in the source line of something found at (line, column) of the rendered text.
  const locate = (line: number, column: number, ...find: string[]): SourceLocation => {
    const e = entry(line)!;
    const src = sourceLines(e.file)[e.sourceLine - 1] ?? '';
    if (src.trimEnd() === lines[line - 1]) return { file: e.file, line: e.sourceLine, column };
    for (const f of find) {
      const at = f === '' ? -1 : src.indexOf(f);
      if (at >= 0) return { file: e.file, line: e.sourceLine, column: at + 1 };
    }
    const tag = src.indexOf('<%');
    return { file: e.file, line: e.sourceLine, column: tag >= 0 ? tag + 1 : src.length - src.trimStart().length + 1 };
  };
  return { lexed: lexDockerfile(text), lines, entry, locate, sourceLines };
}

/** A continuation that runs into a line another file wrote (the next stage's FROM, a template line). */
function swallowedLine(r: RenderedText, ins: DfInstruction, owners: ReadonlyMap<string, SourceOwner>): Diagnostic | undefined {
  const start = r.entry(ins.lines[0]!);
  if (!start || !owners.has(start.file)) return undefined;
  const escape = r.lexed.escape;
  for (let k = 1; k < ins.lines.length; k++) {
    const next = r.entry(ins.lines[k]!);
    if (!next || next.file === start.file) continue;
    const cont = [...ins.continuations].reverse().find((c) => c.line < ins.lines[k]!)!;
    const prev = r.entry(cont.line)!;
    const src = r.sourceLines(prev.file)[prev.sourceLine - 1] ?? '';
    const esc = src.lastIndexOf(escape);
    return error(
      'dockerfile-continuation',
      `this line ends with ${escape}, so its instruction swallows the next line of the rendered Dockerfile, which ${prev.file} does not write`,
      {
        location: { file: prev.file, line: prev.sourceLine, column: esc >= 0 ? esc + 1 : 1 },
        hint: `remove the ${escape} at the end of the instruction's last line`,
      },
    );
  }
  return undefined;
}

/** An unknown keyword, or a FROM: the factory writes the stages. */
function keywordProblems(r: RenderedText, ins: DfInstruction, owner: SourceOwner): Diagnostic[] {
  const where = owner.kind === 'fragment' ? 'a fragment snippet' : 'a template';
  if (!ins.known) {
    const near = didYouMean(ins.upper, INSTRUCTIONS);
    return [
      error('dockerfile-instruction', `"${ins.keyword}" is not a Dockerfile instruction`, {
        location: r.locate(ins.line, ins.column, ins.keyword),
        hint: `${near ? `${near}; ` : ''}each line of ${where} starts an instruction (RUN, COPY, ENV...) or continues the one before it, whose line then ends with ${r.lexed.escape}`,
      }),
    ];
  }
  if (ins.upper === 'FROM') {
    return [
      error('dockerfile-from', `FROM in ${where} starts a stage the factory does not know about`, {
        location: r.locate(ins.line, ins.column, ins.keyword),
        hint: 'the factory writes the stages (one per fragment) itself: remove this line; to take files from an image use COPY --from=<image> ...',
      }),
    ];
  }
  return [];
}

interface Edit {
  line: number;
  column: number;
  length: number;
  text: string;
}

/** A fragment's `files/...` sources (COPY/ADD without --from, bind mounts without from=) rewritten to its directory. */
function filesEdits(ins: DfInstruction, owner: SourceOwner): Edit[] {
  const edits: Edit[] = [];
  const rebase = (w: DfWord): void => {
    const m = FILES_RE.exec(w.value);
    if (m) edits.push({ line: w.line, column: w.column, length: m[0].length, text: `${owner.dir}/files` });
  };
  if (ins.upper === 'COPY' || ins.upper === 'ADD') {
    if (!flagsOf(ins).some((f) => /^--from(=|$)/i.test(f.value))) copySources(ins).forEach(rebase);
  } else if (ins.upper === 'RUN') {
    for (const m of bindMounts(ins)) if (m.from === undefined && m.source) rebase(m.source);
  }
  return edits;
}

/** The lines with the edits made, right to left within a line so earlier columns stay valid. */
function applyEdits(lines: string[], edits: Edit[]): string {
  edits.sort((a, b) => a.line - b.line || b.column - a.column);
  for (const e of edits) {
    const l = lines[e.line - 1]!;
    lines[e.line - 1] = l.slice(0, e.column - 1) + e.text + l.slice(e.column - 1 + e.length);
  }
  return lines.join('\n');
}
