// YAML parsing that keeps positions, so every diagnostic about a document can point at the
// exact node (file:line:column) the user has to edit.
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments, parseDocument, visit } from 'yaml';
import type { Document as YDocument, Node as YNode, Pair } from 'yaml';
import { error } from './diagnostics.js';
import type { Diagnostic, SourceLocation } from './types.js';

export type FieldPath = readonly (string | number)[];

export interface YamlDoc {
  /** Plain JS value of the document. */
  value: unknown;
  /** 0-based index of the document in its file. */
  index: number;
  file: string;
  /** Where the document's content starts. */
  location: SourceLocation;
  /** The node at `path`, or the nearest existing parent when the path does not exist. */
  locate(path: FieldPath): SourceLocation;
  /** The key of the last path element (for unknown or misplaced keys); falls back to `locate`. */
  locateKey(path: FieldPath): SourceLocation;
  /** Whether a node exists at `path`. */
  has(path: FieldPath): boolean;
}

export interface ParsedYaml {
  docs: YamlDoc[];
  diagnostics: Diagnostic[];
}

// Guards against alias bombs ("billion laughs"): a factory document never needs more.
const MAX_ALIAS_COUNT = 100;

export function positionOf(file: string, lineCounter: LineCounter, offset: number): SourceLocation {
  const { line, col } = lineCounter.linePos(Math.max(0, offset));
  return { file, line, column: col };
}

/** 1-based line and column of `offset` in `text` (for texts not parsed as YAML). */
export function positionInText(file: string, text: string, offset: number): SourceLocation {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { file, line, column: offset - lineStart + 1 };
}

/** Parses a (possibly multi-document) YAML text. Documents with syntax errors are dropped, their errors reported. */
export function parseYaml(file: string, text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const diagnostics: Diagnostic[] = [];
  const docs: YamlDoc[] = [];
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  parsed.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) diagnostics.push(yamlError(file, lineCounter, e.pos[0], e.message, e.code, text));
      return;
    }
    // A document that is only comments (or a trailing `---`) carries nothing.
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return;
    diagnostics.push(...numberSpellingDiagnostics(file, lineCounter, doc));
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      diagnostics.push(
        error('yaml', `cannot read the document: ${(e as Error).message}`, {
          location: positionOf(file, lineCounter, unresolvedAlias(doc, (e as Error).message) ?? doc.contents.range?.[0] ?? 0),
          hint: /^Unresolved alias/.test((e as Error).message)
            ? 'set the anchor (&name) before this alias, in the same document: anchors do not carry across ---'
            : 'avoid deeply nested aliases; write the values out',
        }),
      );
      return;
    }
    docs.push(makeDoc(file, lineCounter, doc, index, value));
  });
  return { docs, diagnostics };
}

/** Where the alias an "Unresolved alias ...: <name>" error names stands, rather than the document start. */
function unresolvedAlias(doc: YDocument.Parsed, message: string): number | undefined {
  const name = /^Unresolved alias.*: (\S+)$/.exec(message)?.[1];
  if (name === undefined) return undefined;
  let at: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (isAlias(node) && node.source === name && at === undefined) at = node.range?.[0];
    },
  });
  return at;
}

/** Parses a single JSON/YAML document (e.g. factory.lock.json) with positions. */
export function parseSingle(file: string, text: string): { doc?: YamlDoc; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return { diagnostics: doc.errors.map((e) => yamlError(file, lineCounter, e.pos[0], e.message, e.code, text)) };
  }
  const value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  return { doc: makeDoc(file, lineCounter, doc, 0, value), diagnostics: [] };
}

/**
 * Parses a JSON file strictly (JSON.parse decides validity: YAML would accept `{"a": }`), and
 * keeps positions by reading the same text as YAML, of which JSON is a subset.
 */
export function parseJson(file: string, text: string): { doc?: YamlDoc; diagnostics: Diagnostic[] } {
  const bad = jsonSyntaxError(text);
  if (bad) {
    return {
      diagnostics: [
        error('json', `malformed JSON: ${bad.message}`, {
          location: positionInText(file, text, bad.offset),
          hint: 'fix the JSON syntax, or delete the file and regenerate it',
        }),
      ],
    };
  }
  return parseSingle(file, text);
}

/**
 * The first JSON syntax error and its offset (JSON.parse's messages carry no position on every
 * Node version). A small recursive-descent recogniser of RFC 8259.
 */
export function jsonSyntaxError(text: string): { offset: number; message: string } | undefined {
  const r = new JsonRecogniser(text);
  try {
    r.document();
    return undefined;
  } catch (e) {
    if (e instanceof JsonBad) return { offset: e.offset, message: e.message };
    throw e;
  }
}

class JsonBad {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

/** Reads one JSON text from the start; throws a JsonBad at the first character that does not fit. */
class JsonRecogniser {
  private i = 0;
  constructor(private readonly text: string) {}

  document(): void {
    this.value();
    this.ws();
    if (this.i < this.text.length) this.fail('the end of the document');
  }

  private ws(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i]!)) this.i++;
  }

  private fail(what: string): never {
    const { text, i } = this;
    throw new JsonBad(i, i >= text.length ? `unexpected end of input, expected ${what}` : `unexpected ${JSON.stringify(text[i])}, expected ${what}`);
  }

  private value(): void {
    this.ws();
    const c = this.text[this.i];
    if (c === '{') this.object();
    else if (c === '[') this.array();
    else if (c === '"') this.str();
    else {
      const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(this.text.slice(this.i));
      if (!m) this.fail('a value');
      this.i += m![0].length;
    }
  }

  private str(): void {
    const text = this.text;
    if (text[this.i] !== '"') this.fail('a string');
    this.i++;
    while (this.i < text.length && text[this.i] !== '"') {
      const c = text.charCodeAt(this.i);
      if (c < 0x20) this.fail('no control characters in strings');
      if (text[this.i] !== '\\') {
        this.i++;
        continue;
      }
      this.i++;
      if (text[this.i] === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(this.i + 1, this.i + 5))) this.fail('four hex digits');
        this.i += 5;
      } else if (text[this.i] !== undefined && '"\\/bfnrt'.includes(text[this.i]!)) this.i++;
      else this.fail('an escape sequence');
    }
    if (text[this.i] !== '"') this.fail('a closing quote');
    this.i++;
  }

  private object(): void {
    this.i++;
    this.ws();
    if (this.text[this.i] === '}') {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      this.str();
      this.ws();
      if (this.text[this.i] !== ':') this.fail('":"');
      this.i++;
      this.value();
      if (this.separator('}')) return;
    }
  }

  private array(): void {
    this.i++;
    this.ws();
    if (this.text[this.i] === ']') {
      this.i++;
      return;
    }
    for (;;) {
      this.value();
      if (this.separator(']')) return;
    }
  }

  /** After a member: `,` (false: another follows) or the closing bracket (true). */
  private separator(close: '}' | ']'): boolean {
    this.ws();
    const c = this.text[this.i];
    if (c === ',' || c === close) {
      this.i++;
      return c === close;
    }
    return this.fail(`"," or "${close}"`);
  }
}

/**
 * The `[` or `{` left open before `offset`, for an error the parser reports where it noticed
 * (often the next line or the next document): the author's mistake is at the opener.
 */
function unclosedOpener(text: string, offset: number, open: '[' | '{'): number | undefined {
  const close = open === '[' ? ']' : '}';
  let depth = 0;
  for (let i = Math.min(offset, text.length) - 1; i >= 0; i--) {
    const c = text[i];
    if (c === close) depth++;
    else if (c === open) {
      if (depth === 0) return i;
      depth--;
    }
  }
  return undefined;
}

function yamlError(file: string, lc: LineCounter, offset: number, message: string, code: string, text: string): Diagnostic {
  const unclosed = /must be sufficiently indented and end with a ([\]}])/.exec(message);
  if (unclosed) {
    const open = unclosed[1] === ']' ? '[' : '{';
    const at = unclosedOpener(text, offset, open);
    if (at !== undefined) {
      return error('yaml', `malformed YAML: the flow ${open === '[' ? 'list' : 'map'} opened here is never closed with ${unclosed[1]}`, {
        location: positionOf(file, lc, at),
        hint: `add the closing ${unclosed[1]} on the same line (or indent its continuation lines)`,
      });
    }
  }
  // The parser recurses per nesting level: thousands of levels end in the engine's stack error,
  // which says nothing to the author of the file.
  if (/Maximum call stack size exceeded/.test(message)) {
    // The column where the stack ran out depends on the engine, not on the text: name the line.
    return error('yaml', 'malformed YAML: nested too deeply to read (thousands of levels of brackets or indentation)', {
      location: { ...positionOf(file, lc, offset), column: 1 },
      hint: 'no factory document nests more than a few levels: look for a runaway bracket or pasted generated text',
    });
  }
  if (code === 'BLOCK_AS_IMPLICIT_KEY') {
    const quoted = quotedLine(text, offset);
    return error('yaml', 'malformed YAML: an unquoted value contains ": ", which YAML reads as the start of another key', {
      location: positionOf(file, lc, offset),
      hint: quoted ? `quote the value: ${quoted}` : 'quote the value (single quotes keep it as written)',
    });
  }
  const hint =
    code === 'DUPLICATE_KEY'
      ? 'remove or rename one of the two keys'
      : code === 'TAB_AS_INDENT'
        ? 'indent with spaces, not tabs'
        : 'fix the YAML syntax (check indentation, quotes and brackets)';
  return error('yaml', `malformed YAML: ${message.replace(/\s+/g, ' ').trim()}`, {
    location: positionOf(file, lc, offset),
    hint,
  });
}

/** The line holding `offset` with its value in single quotes ("key: 'a: b'"), when it reads as `key: value`. */
function quotedLine(text: string, offset: number): string | undefined {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const end = text.indexOf('\n', offset);
  const line = text.slice(start, end < 0 ? text.length : end);
  const m = /^\s*((?:- )?[A-Za-z0-9_.-]+:\s+)(\S.*?)\s*$/.exec(line);
  return m ? `${m[1]}'${m[2]!.replace(/'/g, "''")}'` : undefined;
}

/**
 * YAML 1.2 reads `3.10` as the number 3.1 and `010` as 10: a matrix value or build arg would
 * silently change. Plain scalars whose number does not print back as written are errors.
 */
function numberSpellingDiagnostics(file: string, lc: LineCounter, doc: YDocument.Parsed): Diagnostic[] {
  const out: Diagnostic[] = [];
  // The walk yaml's visit() does (keys before values, items in order, aliases not followed),
  // without its per-node path bookkeeping: a 10,000-target products file has 100,000 nodes.
  const walk = (node: unknown): void => {
    if (isScalar(node)) {
      if (typeof node.value !== 'number' || node.type !== 'PLAIN' || node.source === undefined) return;
      if (String(node.value) === node.source) return;
      out.push(
        error('yaml-number', `${node.source} is read as the number ${String(node.value)}`, {
          location: positionOf(file, lc, node.range?.[0] ?? 0),
          hint: `quote it ("${node.source}") to keep it as written, or write ${String(node.value)}`,
        }),
      );
    } else if (isMap(node) || isSeq(node)) {
      for (const item of node.items) walk(item);
    } else if (isPair(node)) {
      walk(node.key);
      walk(node.value);
    }
  };
  walk(doc.contents);
  return out;
}

function makeDoc(file: string, lc: LineCounter, doc: YDocument.Parsed, index: number, value: unknown): YamlDoc {
  const root = doc.contents as YNode | null;
  const startOffset = root?.range?.[0] ?? doc.range[0];
  const at = (offset: number): SourceLocation => positionOf(file, lc, offset);

  // Walks the path; returns the deepest node reached, the pair holding it, and whether the whole path exists.
  const walk = (path: FieldPath): { node: YNode | null; pair?: Pair; complete: boolean } => {
    let node: YNode | null = root;
    let pair: Pair | undefined;
    for (const seg of path) {
      if (isMap(node)) {
        const found = node.items.find((p) => isPair(p) && keyString(p.key) === String(seg));
        if (!found) return { node, pair, complete: false };
        pair = found as Pair;
        // `key:` with no value: point at the key.
        node = (found.value as YNode | null) ?? (found.key as YNode);
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as YNode | undefined;
        if (!item) return { node, pair, complete: false };
        pair = undefined;
        node = item;
      } else {
        return { node, pair, complete: false };
      }
    }
    return { node, pair, complete: true };
  };

  const offsetOf = (n: YNode | null | undefined): number => n?.range?.[0] ?? startOffset;

  return {
    value,
    index,
    file,
    location: at(startOffset),
    locate(path) {
      return at(offsetOf(walk(path).node));
    },
    locateKey(path) {
      const r = walk(path);
      if (r.complete && r.pair && path.length > 0) return at(offsetOf(r.pair.key as YNode));
      return at(offsetOf(r.node));
    },
    has(path) {
      return walk(path).complete;
    },
  };
}

function keyString(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/** Location of the first occurrence of a character code in `text`, or undefined. */
export function findChar(file: string, text: string, ch: string): SourceLocation | undefined {
  const i = text.indexOf(ch);
  return i < 0 ? undefined : positionInText(file, text, i);
}
