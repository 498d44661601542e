// Building, formatting and ordering diagnostics. Every user-facing problem goes through here so
// the CLI, the action and the tests all print the same `file:line:col: error[code] field: message`.
import type { Diagnostic, SourceLocation } from './types.js';

export interface DiagnosticInit {
  field?: string;
  hint?: string;
  location?: SourceLocation;
}

export function error(code: string, message: string, init: DiagnosticInit = {}): Diagnostic {
  return make('error', code, message, init);
}

export function warning(code: string, message: string, init: DiagnosticInit = {}): Diagnostic {
  return make('warning', code, message, init);
}

function make(severity: Diagnostic['severity'], code: string, message: string, init: DiagnosticInit): Diagnostic {
  const d: Diagnostic = { severity, code, message };
  // Only set keys that carry a value so JSON output and deep-equality stay stable.
  if (init.field !== undefined && init.field !== '') d.field = init.field;
  if (init.hint !== undefined) d.hint = init.hint;
  if (init.location !== undefined) d.location = init.location;
  return d;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  return `${loc.file}:${loc.line}:${loc.column}`;
}

const ANSI = {
  red: '\u001b[31m',
  yellow: '\u001b[33m',
  bold: '\u001b[1m',
  dim: '\u001b[2m',
  cyan: '\u001b[36m',
  reset: '\u001b[0m',
};

/**
 * `file:line:col: error[code] field: message` and, when there is a hint, a second line
 * `  hint: ...`. No trailing newline.
 */
export function formatDiagnostic(d: Diagnostic, opts: { color: boolean } = { color: false }): string {
  const c = (style: keyof typeof ANSI, s: string): string => (opts.color ? `${ANSI[style]}${s}${ANSI.reset}` : s);
  const parts: string[] = [];
  const loc = formatLocation(d.location);
  if (loc) parts.push(c('bold', `${loc}:`));
  parts.push(c(d.severity === 'error' ? 'red' : 'yellow', `${d.severity}[${d.code}]`));
  let head = parts.join(' ');
  if (d.field) head += ` ${c('cyan', d.field)}:`;
  // Messages are one line by construction; keep it that way even if a value slipped a newline in.
  head += ` ${oneLine(d.message)}`;
  if (d.hint) head += `\n  ${c('dim', 'hint:')} ${oneLine(d.hint)}`;
  return head;
}

export function formatDiagnostics(ds: readonly Diagnostic[], opts: { color: boolean } = { color: false }): string {
  return sortDiagnostics(ds)
    .map((d) => formatDiagnostic(d, opts))
    .join('\n');
}

function oneLine(s: string): string {
  return s.replace(/\r?\n/g, '\\n');
}

function cmp(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Stable order: by file, line, column, then errors before warnings, code, message. Unlocated last. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => {
    const la = a.location;
    const lb = b.location;
    if (la && !lb) return -1;
    if (!la && lb) return 1;
    if (la && lb) {
      const r = cmp(la.file, lb.file) || cmp(la.line, lb.line) || cmp(la.column, lb.column);
      if (r) return r;
    }
    return (
      cmp(a.severity === 'error' ? 0 : 1, b.severity === 'error' ? 0 : 1) ||
      cmp(a.code, b.code) ||
      cmp(a.field ?? '', b.field ?? '') ||
      cmp(a.message, b.message)
    );
  });
}

/** Removes exact duplicates (same location, code, field and message). */
export function dedupeDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of ds) {
    const key = JSON.stringify([formatLocation(d.location), d.severity, d.code, d.field ?? '', d.message]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

/** Field path as users read it: ["fragments", 2, "name"] -> "fragments[2].name". */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else {
      const key = String(p);
      s += /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? (s ? `.${key}` : key) : `[${JSON.stringify(key)}]`;
    }
  }
  return s;
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** Candidates close to `word`, closest first (at most `max`). */
export function closeMatches(word: string, candidates: readonly string[], max = 3): string[] {
  const limit = Math.max(2, Math.floor(word.length / 3));
  return [...new Set(candidates)]
    .map((c) => ({ c, d: editDistance(word.toLowerCase(), c.toLowerCase()) }))
    .filter((x) => x.d <= limit || x.c.startsWith(word) || word.startsWith(x.c))
    .sort((x, y) => x.d - y.d || cmp(x.c, y.c))
    .slice(0, max)
    .map((x) => x.c);
}

/** "did you mean ...?" or the empty string. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const m = closeMatches(word, candidates);
  if (m.length === 0) return '';
  return `did you mean ${m.map((x) => `"${x}"`).join(' or ')}?`;
}

/**
 * Every diagnostic code the loader, resolver and lock checks emit, with what it means. Codes
 * are stable: tools match on them (`--json`), the docs list them from here.
 */
export const DIAGNOSTIC_CODES: Readonly<Record<string, string>> = {
  yaml: 'malformed YAML (syntax, indentation, duplicate keys)',
  'yaml-number': 'an unquoted number that YAML reads differently from how it is written (3.10 -> 3.1)',
  json: 'malformed JSON in factory.lock.json',
  encoding: 'a file that is not UTF-8',
  'control-char': 'a NUL (U+0000) or the U+0001 source-map marker, raw or as a YAML escape',
  'not-a-document': 'a YAML document that is not a mapping',
  'unknown-kind': 'a missing, unknown or misplaced `kind:`',
  'unknown-field': 'a field the schema does not have',
  schema: 'a value of the wrong type or format, or a missing required field',
  empty: 'an empty template.yaml or fragment.yaml',
  'extra-document': 'more than one document in template.yaml or fragment.yaml',
  'dir-mismatch': 'name or version differs from the templates/ or fragments/ directory',
  'missing-file': 'a template or fragment without its metadata or Dockerfile.ejs, or a COPY of a file that does not exist',
  'stray-file': 'a file under templates/ or fragments/ outside a <name>/<version>/ directory',
  symlink: 'a symbolic link where none is allowed',
  'not-a-file': 'factory.lock.json, or a path generate writes, that is a directory (or a file where a directory must be)',
  'path-escape': 'a COPY/ADD or RUN --mount=type=bind source, or a link, that leaves the fragment directory or its files/',
  'stage-not-required': 'a COPY/ADD --from or RUN --mount from= that reads the stage of a fragment the snippet does not require',
  'remote-source': 'an ADD/COPY of a URL (not reproducible)',
  'duplicate-id': 'two documents with the same id',
  'duplicate-slot': 'a template slot listed twice',
  'duplicate-fragment': 'two versions of one fragment in a manifest',
  'unknown-template': 'a template name or version that does not exist',
  'unknown-fragment': 'a fragment name or version that does not exist',
  'unknown-manifest': 'a manifest name or version that does not exist',
  'unknown-base': 'a Base that no document defines',
  'unknown-pool': 'a Policy retention setting for a Pool that no document defines',
  'unknown-product': 'a Policy retention setting for a Product that no document defines',
  'unknown-slot': 'a fragment for a slot its template does not have',
  'slot-order': "fragments out of the template's slot order",
  'unmet-requirement': 'a required fragment missing from the manifest or listed after the fragment needing it',
  cycle: 'fragments that require each other',
  'unsupported-platform': 'a platform the template, base or a fragment does not support',
  'unsupported-accelerator': 'an accelerator the template or a fragment does not support',
  'no-pool': 'no Pool runs a target platform and accelerator',
  'ambiguous-pool': 'two Pools serve the same platform and accelerator',
  'bad-matrix-ref': 'a {matrix.KEY} reference to a key the matrix lacks',
  'unknown-arg': 'a manifest build arg that no fragment of the manifest declares (a typo, or a missing declaration)',
  'unsafe-value': 'a build arg that is not a plain word after substitution',
  'variant-too-long': 'a matrix point whose variant name is longer than a build/ directory or a tag allows',
  'variant-collision': 'two matrix points with the same variant name',
  'matrix-too-large': 'a matrix with too many points',
  'bad-tag': 'a tag pattern with an unknown placeholder or that yields an invalid tag',
  'bad-user': 'a template user: {args.NAME} whose arg no fragment declares, or whose value is not a user name',
  'tag-collision': 'two variants or products publishing the same tag',
  'target-collision': 'two products or variants producing the same bake target name',
  'lock-mismatch': 'a template or fragment whose content changed without a new version',
  'lock-missing': 'no factory.lock.json, or a version not recorded in it',
  'lock-stale': 'a lock entry for something that no longer exists or changed image',
  'unknown-id': 'an id (name@version[:variant]) that designates nothing',
  // Rendering (src/core/render.ts) and build files (generators/).
  'render-syntax': 'an EJS tag that is not closed, or JavaScript in a tag that does not parse',
  'render-undefined': 'a name, matrix key or arg that a template or snippet uses but does not exist',
  'render-value': 'a value <%= %> cannot write: a line break or control character, undefined, an object',
  'render-include': 'an EJS include() in a template or snippet (it would inline a file from outside the factory)',
  'render-slot': 'slot() of an undeclared slot, a slot placed twice, a slot never placed, or slot() in a snippet',
  'dockerfile-instruction': 'a rendered template or snippet line that is no Dockerfile instruction (RUNN x)',
  'dockerfile-from': 'a FROM in a template or snippet (the factory writes the stages)',
  'dockerfile-continuation': "a line continuation (trailing \\) that swallows a line another file writes, e.g. the next stage's FROM",
  'render-error': 'any other error thrown by the JavaScript in a template or snippet',
  'reserved-arg': 'a build arg named BASE_IMAGE or SOURCE_DATE_EPOCH, which the factory sets',
  'base-variable-clash': 'two Base names that map to the same BASE_<NAME> bake variable',
  'bake-name-clash': 'a product or pool group name equal to a bake target name',
  'variant-path-clash': 'two variants whose names map to the same build/ directory',
};
