// Escaping for the two languages the factory writes values into: Dockerfile/shell words (the
// EJS `<%= %>` tag) and HCL strings (docker-bake.hcl). Both are total over their accepted input:
// a value either lands as exactly itself or is refused, it never changes the surrounding syntax.

/** Raised for a value that cannot be placed safely; render.ts turns it into a Diagnostic. */
export class EscapeError extends Error {
  override readonly name = 'EscapeError';
}

// Characters that mean nothing special to sh, to the Dockerfile parser (no `$`, quotes,
// backslash, `#`, whitespace) or to bash brace/tilde expansion (no `{}`, `~`, `*?[`).
const PLAIN_WORD = /^[A-Za-z0-9_./:@%+=,-]+$/;
// Line breaks would start a new Dockerfile instruction; NUL cannot live in argv; \u0001 is the
// source-map marker (render.ts) and must never be forgeable from a value. Other C0 controls and
// DEL are refused because they are invisible in logs and reviews.
const FORBIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f]/;

function describeChar(c: string): string {
  const names: Record<string, string> = { '\n': 'a newline', '\r': 'a carriage return', '\u0000': 'a NUL byte' };
  return names[c] ?? `the control character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Quotes one word for sh and Dockerfile instructions (ENV/LABEL/RUN accept shell-style single quotes). */
export function shellWord(value: string): string {
  const bad = FORBIDDEN.exec(value);
  if (bad) {
    throw new EscapeError(
      `value ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)} contains ${describeChar(bad[0])}, which cannot be placed in a Dockerfile line`,
    );
  }
  if (PLAIN_WORD.test(value)) return value;
  // Inside single quotes nothing is special to sh or to Dockerfile variable substitution; a
  // quote itself closes, is written escaped, and reopens.
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Quotes a string for a sh script file (not a Dockerfile line): newlines are fine inside single
 * quotes there; only NUL, which no sh string can hold, is refused.
 */
export function shQuote(value: string): string {
  if (value.includes('\u0000')) throw new EscapeError('value contains a NUL byte, which no shell string can hold');
  if (PLAIN_WORD.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The EJS `escape` function: what `<%= value %>` writes. Strings and numbers become one shell
 * word; arrays become space-separated words (`RUN apt-get install <%= packages %>`).
 * `undefined`/`null` and objects are refused: printing them silently is always a template bug.
 */
export function escapeDockerfile(value: unknown): string {
  if (typeof value === 'string') return shellWord(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return shellWord(String(value));
  if (Array.isArray(value)) return value.map((v) => escapeDockerfile(v)).join(' ');
  if (value === undefined || value === null) {
    throw new EscapeError(`<%= %> was given ${String(value)}; the value does not exist (check the name, e.g. args.NAME or matrix.key)`);
  }
  throw new EscapeError('<%= %> was given an object; print one of its fields instead (e.g. base.image)');
}

/**
 * An HCL quoted string literal (with the quotes) whose value is exactly `s`: `${` and `%{` would
 * start an interpolation or directive in HCL templates, so they are doubled (`$${`, `%%{`).
 */
const HCL_SPECIAL = /[\\"$%\u0000-\u001f\u007f]/;

export function hclString(s: string): string {
  // Almost every value is plain: skip the character loop (and its garbage) for those.
  if (!HCL_SPECIAL.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const code = s.charCodeAt(i);
    if (c === '\\') out += '\\\\';
    else if (c === '"') out += '\\"';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if ((c === '$' || c === '%') && s[i + 1] === '{') out += c + c;
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return `${out}"`;
}

/**
 * A piece of an HCL template string: literal text, a reference to a bake variable, or (for the
 * generator's own fixed expressions, never for user values) a raw HCL expression.
 */
export type HclPart = string | { ref: string } | { expr: string };

/** An HCL string literal mixing escaped literal text and `${VAR}` interpolations. */
export function hclTemplate(parts: readonly HclPart[]): string {
  // Only literals (most labels and annotations): one plain string, nothing to interpolate.
  if (parts.every(isLiteral)) return hclString(parts.length === 1 ? (parts[0] as string) : parts.join(''));
  // Adjacent literals are joined first so that a `$` and a `{` from two parts are seen together.
  const merged: HclPart[] = [];
  for (const p of parts) {
    const n = merged.length;
    if (typeof p === 'string' && n > 0 && typeof merged[n - 1] === 'string') merged[n - 1] = (merged[n - 1] as string) + p;
    else merged.push(p);
  }
  // Built as one array joined once: bake writes tens of thousands of these (tags, cache refs).
  const out: string[] = ['"'];
  for (let i = 0; i < merged.length; i++) {
    const p = merged[i]!;
    if (typeof p === 'string') {
      let body = HCL_SPECIAL.test(p) ? hclString(p).slice(1, -1) : p;
      // A literal `$` or `%` right before an interpolation would read as the `$${` / `%%{`
      // escape; write those characters as an interpolated string instead.
      // A trailing run is moved as a whole, or its previous `$` would pair with the new `${`.
      const lastChar = body.charCodeAt(body.length - 1);
      if (i + 1 < merged.length && (lastChar === 0x24 || lastChar === 0x25)) {
        const run = /[$%]+$/.exec(body)!;
        body = `${body.slice(0, run.index)}\${"${run[0]}"}`;
      }
      out.push(body);
    } else if ('expr' in p) {
      out.push(`\${${p.expr}}`);
    } else {
      if (!HCL_VARIABLE.test(p.ref)) throw new Error(`internal: bad HCL variable name ${p.ref}`);
      out.push(`\${${p.ref}}`);
    }
  }
  out.push('"');
  return out.join('');
}

function isLiteral(p: HclPart): p is string {
  return typeof p === 'string';
}

const HCL_VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

// ---------------------------------------------------------------- job log and job summary

// The runner reads a step's output line by line, a line ending at \n, \r\n or a lone \r, and
// obeys `::command::` at the start of a line (after whitespace) and, in the legacy syntax,
// `##[command]` anywhere in it. Text from a Dockerfile, a test or a tool's stderr must not
// reach the log as such a line, or a build could mask secrets, stop command processing, or fake
// errors. A zero-width space (not whitespace to the runner's Trim) is put between the two
// characters that open a command: the log reads the same, the runner sees no command.
const ZWSP = '\u200b';
const COMMAND_AT_START = /^(\s*):(?=:)/;
const LEGACY_COMMAND = /#(?=#\[)/g;

/** One or more log lines whose text is exactly `text` to a reader and no workflow command to the runner. */
export function logText(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => line.replace(COMMAND_AT_START, `$1:${ZWSP}`).replace(LEGACY_COMMAND, `#${ZWSP}`))
    .join('\n');
}

// Markdown (GitHub-flavoured, as the job summary and PR comments render it): a backslash makes
// any ASCII punctuation character literal. These are the ones that start markup in running
// text: HTML and entities (`<` `>` `&`), links and images (`[` `]` `!`), emphasis and
// strikethrough, code, table pipes, headings, math (`$`), and the backslash itself.
const MD_SPECIAL = /[\\`*_[\]<>&|!~#$]/g;

/** Plain text on one line of Markdown (a list item, a heading, a table cell): shown as is, never markup. */
export function markdownText(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').replace(MD_SPECIAL, '\\$&');
}

/**
 * An inline code span showing exactly `s` (on one line). Inside a code span nothing is markup,
 * HTML included; it ends only at a backtick run of its own length, so the fence is one longer
 * than the longest run in `s`. A table cell splits at `|` even inside code, so `inTable` escapes it.
 */
export function markdownCode(s: string, inTable = false): string {
  const text = s.replace(/[\r\n]+/g, ' ');
  const fence = '`'.repeat(longestRun(text, '`') + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || (text.startsWith(' ') && text.endsWith(' ') && text.trim() !== '') ? ' ' : '';
  const body = `${fence}${pad}${text}${pad}${fence}`;
  return inTable ? body.replace(/\|/g, '\\|') : body;
}

/** A fenced code block of `lines`, its fence longer than any backtick run inside. */
export function markdownBlock(lines: readonly string[], info = 'text'): string[] {
  const body = lines.map((l) => l.replace(/\r/g, ''));
  const fence = '`'.repeat(Math.max(3, ...body.map((l) => longestRun(l, '`') + 1)));
  return [`${fence}${info}`, ...body, fence];
}

function longestRun(s: string, c: string): number {
  let best = 0;
  let run = 0;
  for (const ch of s) {
    run = ch === c ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

/**
 * The message of a workflow command (`::error title=...::message`), escaped as @actions/core
 * does: the runner reads `%0A` as a line break, so a value cannot end the command and start
 * another one on a new line.
 */
export function workflowCommandMessage(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A property value of a workflow command (`title=`): `:` and `,` would end it. */
export function workflowCommandProperty(value: string): string {
  return workflowCommandMessage(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
