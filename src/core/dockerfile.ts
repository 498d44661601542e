// A small Dockerfile lexer, the way BuildKit's parser reads a file: parser directives on top
// (`# syntax=`, `# escape=`), comment lines, line continuations (the escape character at the end
// of a line; comment and blank lines inside an instruction are dropped), and heredocs (`<<EOF`,
// `<<-EOF`, quoted delimiters) of RUN, COPY and ADD, whose bodies are not instructions.
// Every word keeps the line and column it was written at, so checks can point at it.

/** The instructions of the Dockerfile reference. */
export const INSTRUCTIONS = [
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
] as const;
const KNOWN = new Set<string>(INSTRUCTIONS);
const HEREDOC_INSTRUCTIONS = new Set(['RUN', 'COPY', 'ADD']);

/** A position in the lexed text: 1-based line and column. */
export interface DfPos {
  line: number;
  column: number;
}

export interface DfWord extends DfPos {
  value: string;
}

export interface DfHeredoc {
  delimiter: string;
  /** The first and last line of the body (the delimiter line excluded); first > last when empty. */
  firstLine: number;
  lastLine: number;
}

export interface DfInstruction extends DfPos {
  /** The keyword as written, and upper-cased. */
  keyword: string;
  upper: string;
  /** Whether the keyword is one of INSTRUCTIONS. */
  known: boolean;
  /** Physical lines holding the instruction's text (not the dropped comment/blank lines, not heredoc bodies). */
  lines: number[];
  /** The escape characters that continue a line onto the next. */
  continuations: DfPos[];
  /** Whether the last line ends with the escape character (the instruction ran into the end of the text). */
  openAtEnd: boolean;
  /** The arguments after the keyword, continuation lines joined. */
  args: string;
  /** Whitespace-separated words of `args` with their positions (shell form). */
  words: DfWord[];
  /** The JSON (exec) form's strings, when `args` is one; positions point inside the quotes. */
  json?: DfWord[];
  heredocs: DfHeredoc[];
}

export interface DfDirective extends DfPos {
  name: string;
  value: string;
}

export interface LexedDockerfile {
  directives: DfDirective[];
  escape: string;
  instructions: DfInstruction[];
}

const DIRECTIVE_RE = /^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$/;
const HEREDOC_RE = /^<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/;

export function lexDockerfile(text: string): LexedDockerfile {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const { directives, escape, next } = readDirectives(lines);
  const instructions: DfInstruction[] = [];
  let i = next;
  while (i < lines.length) {
    if (lines[i]!.trim() === '' || isComment(lines[i]!)) {
      i++;
      continue;
    }
    const logical = joinLogicalLine(lines, i, escape);
    i = logical.next;
    const ins = instructionOf(logical);
    // Only continuation characters and blanks: nothing BuildKit would run.
    if (!ins) continue;
    if (HEREDOC_INSTRUCTIONS.has(ins.upper) && !ins.json) i = readHeredocs(ins, lines, i);
    instructions.push(ins);
  }
  return { directives, escape, instructions };
}

function isComment(l: string): boolean {
  return /^\s*#/.test(l);
}

/** Parser directives: only before the first comment, blank line or instruction. `next`: the first line after them. */
function readDirectives(lines: readonly string[]): { directives: DfDirective[]; escape: string; next: number } {
  const directives: DfDirective[] = [];
  let escape = '\\';
  let i = 0;
  for (; i < lines.length; i++) {
    const m = DIRECTIVE_RE.exec(lines[i]!.trim());
    if (!m || directives.some((d) => d.name.toLowerCase() === m[1]!.toLowerCase())) break;
    directives.push({ name: m[1]!, value: m[2]!, line: i + 1, column: lines[i]!.indexOf('#') + 1 });
    if (m[1]!.toLowerCase() === 'escape' && (m[2] === '`' || m[2] === '\\')) escape = m[2];
  }
  return { directives, escape, next: i };
}

interface LogicalLine {
  text: string;
  /** where each piece (one per physical line) starts in `text`, and its line */
  pieces: { at: number; line: number }[];
  /** the physical lines it takes (1-based), comments and blanks inside it left out */
  used: number[];
  continuations: DfPos[];
  /** the file ended while the line was still continued */
  open: boolean;
  /** the index of the first line after it */
  next: number;
}

/** Index of the escape character continuing the line, or -1. */
function continuationAt(l: string, escape: string): number {
  let end = l.length;
  while (end > 0 && (l[end - 1] === ' ' || l[end - 1] === '\t')) end--;
  return end > 0 && l[end - 1] === escape ? end - 1 : -1;
}

/** One logical line from line `i` on: continued physical lines joined. */
function joinLogicalLine(lines: readonly string[], i: number, escape: string): LogicalLine {
  const line: LogicalLine = { text: '', pieces: [], used: [], continuations: [], open: false, next: i };
  for (;;) {
    const l = lines[i]!;
    const at = continuationAt(l, escape);
    line.pieces.push({ at: line.text.length, line: i + 1 });
    line.text += at >= 0 ? l.slice(0, at) : l;
    line.used.push(i + 1);
    i++;
    if (at < 0) break;
    line.continuations.push({ line: i, column: at + 1 });
    // Comment and blank lines inside an instruction are dropped.
    while (i < lines.length && (lines[i]!.trim() === '' || isComment(lines[i]!))) i++;
    if (i >= lines.length) {
      line.open = true;
      break;
    }
  }
  line.next = i;
  return line;
}

/** The instruction a logical line holds (keyword, arguments, words, JSON form); undefined when it holds no word. */
function instructionOf(logical: LogicalLine): DfInstruction | undefined {
  const km = /^\s*(\S+)/.exec(logical.text);
  if (!km) return undefined;
  const kStart = km[0].length - km[1]!.length;
  const keyword = km[1]!;
  const upper = keyword.toUpperCase();
  const argsStart = kStart + keyword.length;
  const rest = logical.text.slice(argsStart);
  const lead = rest.length - rest.trimStart().length;
  const args = rest.trim();
  const at = (o: number): DfPos => posOf(logical.pieces, argsStart + lead + o);
  const words: DfWord[] = [];
  for (const m of args.matchAll(/\S+/g)) words.push({ value: m[0], ...at(m.index) });
  const ins: DfInstruction = {
    keyword,
    upper,
    known: KNOWN.has(upper),
    ...posOf(logical.pieces, kStart),
    lines: logical.used,
    continuations: logical.continuations,
    openAtEnd: logical.open,
    args,
    words,
    heredocs: [],
  };
  const json = jsonForm(args, at);
  if (json) ins.json = json;
  return ins;
}

/** The exec form's strings with their positions, when `args` is a JSON array of strings. */
function jsonForm(args: string, at: (offset: number) => DfPos): DfWord[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const arr = JSON.parse(args) as unknown;
    if (!Array.isArray(arr) || !arr.every((x) => typeof x === 'string')) return undefined;
    let from = 0;
    return (arr as string[]).map((value) => {
      const o = args.indexOf(JSON.stringify(value), from);
      from = o < 0 ? from : o + JSON.stringify(value).length;
      return { value, ...at(o < 0 ? 0 : o + 1) };
    });
  } catch {
    return undefined; // Not JSON: the shell form.
  }
}

/** The bodies of the instruction's `<<EOF` heredocs, from line `i` on; returns the first line after them. */
function readHeredocs(ins: DfInstruction, lines: readonly string[], i: number): number {
  for (const w of ins.words) {
    const h = HEREDOC_RE.exec(w.value);
    if (!h) continue;
    const strip = h[1] === '-';
    const delimiter = h[3]!;
    const firstLine = i + 1;
    while (i < lines.length && (strip ? lines[i]!.replace(/^\t+/, '') : lines[i]!) !== delimiter) i++;
    ins.heredocs.push({ delimiter, firstLine, lastLine: i });
    i++;
  }
  return i;
}

/** The line and column of a logical-line offset. */
function posOf(pieces: readonly { at: number; line: number }[], offset: number): DfPos {
  let k = pieces.length - 1;
  while (k > 0 && pieces[k]!.at > offset) k--;
  const p = pieces[k]!;
  return { line: p.line, column: offset - p.at + 1 };
}

/** A `--name=value` flag of an instruction (`--mount`, `--from`, `--chmod`...), before its other arguments. */
export function flagsOf(ins: DfInstruction): DfWord[] {
  const out: DfWord[] = [];
  for (const w of ins.words) {
    if (!w.value.startsWith('--')) break;
    out.push(w);
  }
  return out;
}

/** The source arguments of a COPY or ADD (every argument but the destination), flags excluded. */
export function copySources(ins: DfInstruction): DfWord[] {
  if (ins.json) return ins.json.slice(0, -1);
  const args = ins.words.slice(flagsOf(ins).length);
  return args.slice(0, -1);
}

export interface BindMount {
  /** The --mount flag. */
  flag: DfWord;
  /** The source= (or src=) value and its position; undefined when it is not given (the whole context). */
  source?: DfWord;
  /** The from= value, when the mount reads another stage or image. */
  from?: string;
}

/** `RUN --mount=type=bind,...` mounts (type=bind is the default type). */
export function bindMounts(ins: DfInstruction): BindMount[] {
  const out: BindMount[] = [];
  for (const f of flagsOf(ins)) {
    const m = /^--mount=(.*)$/.exec(f.value);
    if (!m) continue;
    let type = 'bind';
    let source: DfWord | undefined;
    let from: string | undefined;
    let offset = '--mount='.length;
    for (const part of m[1]!.split(',')) {
      const eq = part.indexOf('=');
      const key = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
      const value = eq < 0 ? '' : part.slice(eq + 1);
      if (key === 'type') type = value;
      else if (key === 'source' || key === 'src') source = { value, line: f.line, column: f.column + offset + eq + 1 };
      else if (key === 'from') from = value;
      offset += part.length + 1;
    }
    if (type === 'bind') out.push({ flag: f, ...(source ? { source } : {}), ...(from !== undefined ? { from } : {}) });
  }
  return out;
}
