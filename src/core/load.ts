// Step 1 of the pipeline: SourceFile[] -> LoadedFactory. Parses every YAML document with
// positions, validates it with the zod schemas and collects *all* problems; never throws on
// user input.
import type { z } from 'zod';
import { contentDigest } from './digest.js';
import { didYouMean, error, formatFieldPath, sortDiagnostics } from './diagnostics.js';
import { FailedDocuments } from './failed-documents.js';
import { Base, DOCUMENT_KINDS, Fragment, LockFile, Manifest, Policy, Pool, Product, Template } from './schema.js';
import type { Diagnostic, FragmentSource, LoadedFactory, Located, SourceFile, SourceLocation, TemplateSource } from './types.js';
import { INCLUDE_HINT } from './render.js';
import { normalize } from './paths.js';

export { normalize };
import { parseJson, parseYaml, positionInText, type FieldPath, type YamlDoc } from './yaml.js';

export const LOCK_PATH = 'factory.lock.json';
export const TEMPLATE_META = 'template.yaml';
export const FRAGMENT_META = 'fragment.yaml';
export const SNIPPET = 'Dockerfile.ejs';
/** Reserved by the renderer for source-map markers; a source containing it would corrupt the map. */
export const MARKER_CHAR = '\u0001';

const KIND_SCHEMAS = { Product, Manifest, Pool, Base, Policy } as const;

export function load(files: SourceFile[]): { factory: LoadedFactory; diagnostics: Diagnostic[] } {
  const { factory, diagnostics } = loadDetailed(files);
  return { factory, diagnostics };
}

/**
 * `load`, plus the documents that exist but failed to load, so the resolver does not report
 * references to them as unknown.
 */
export function loadDetailed(files: SourceFile[]): { factory: LoadedFactory; diagnostics: Diagnostic[]; failed: FailedDocuments } {
  const diagnostics: Diagnostic[] = [];
  const failed = new FailedDocuments();
  // Whatever order the files came in, the result is the same.
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const factory: LoadedFactory = { products: [], manifests: [], pools: [], bases: [], policies: [], templates: [], fragments: [] };

  const templateDirs = new Map<string, SourceFile[]>();
  const fragmentDirs = new Map<string, SourceFile[]>();

  for (const file of sorted) {
    const parts = file.path.split('/');
    const top = parts[0];
    if ((top === 'templates' || top === 'fragments') && parts.length >= 4) {
      const dir = parts.slice(0, 3).join('/');
      const groups = top === 'templates' ? templateDirs : fragmentDirs;
      const list = groups.get(dir) ?? [];
      list.push(file);
      groups.set(dir, list);
      continue;
    }
    if (file.link !== undefined) {
      diagnostics.push(
        error('symlink', `symbolic link (to "${file.link}") is not followed here`, {
          location: { file: file.path, line: 1, column: 1 },
          hint: 'replace the link with a regular file; links are only allowed inside a template or fragment version directory',
        }),
      );
      continue;
    }
    if (top === 'manifests') {
      if (!/\.ya?ml$/.test(file.path)) continue; // READMEs and the like next to the manifests
      const text = decode(file, diagnostics);
      if (text === undefined) continue;
      loadManifestFile(file.path, text, factory, diagnostics, failed);
    } else if (file.path === LOCK_PATH) {
      const text = decode(file, diagnostics);
      if (text === undefined) continue;
      const parsed = parseJson(file.path, text);
      diagnostics.push(...parsed.diagnostics);
      if (parsed.doc) {
        const lock = validate(LockFile, parsed.doc, diagnostics, 'factory.lock.json');
        if (lock) factory.lock = located(lock, parsed.doc);
      }
    } else if (top === 'templates' || top === 'fragments') {
      diagnostics.push(
        error('stray-file', `${file.path} is not inside a ${top}/<name>/<version>/ directory`, {
          location: { file: file.path, line: 1, column: 1 },
          hint: `move it to ${top}/<name>/<version>/ or delete it`,
        }),
      );
    }
  }

  for (const [dir, list] of templateDirs) {
    const t = loadTemplate(dir, list, diagnostics);
    if (t) factory.templates.push(t);
    else failVersionDir('template', dir, list, failed);
  }
  for (const [dir, list] of fragmentDirs) {
    const f = loadFragment(dir, list, diagnostics);
    if (f) factory.fragments.push(f);
    else failVersionDir('fragment', dir, list, failed);
  }
  return { factory, diagnostics: sortDiagnostics(diagnostics), failed };
}

/** Records both the directory's id and the one its metadata claims (when readable). */
function failVersionDir(kind: 'template' | 'fragment', dir: string, list: SourceFile[], failed: FailedDocuments): void {
  const [, name = '*', version = '*'] = dir.split('/');
  failed.addVersioned(kind, name, version);
  const meta = list.find((f) => f.path === `${dir}/${kind}.yaml`);
  if (!meta) return;
  const text = new TextDecoder().decode(meta.bytes);
  const n = /^name:\s*['"]?([^'"\s#]+)/m.exec(text)?.[1];
  const v = /^version:\s*['"]?([^'"\s#]+)/m.exec(text)?.[1];
  if (n !== undefined) failed.addVersioned(kind, n, v ?? '*');
}

function decode(file: SourceFile, diagnostics: Diagnostic[]): string | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file.bytes);
  } catch {
    // Point at the first byte that does not decode (U+FFFD in a lenient decode).
    const lenient = new TextDecoder('utf-8').decode(file.bytes);
    const at = Math.max(0, lenient.indexOf('\ufffd'));
    diagnostics.push(
      error('encoding', 'file is not valid UTF-8', {
        location: positionInText(file.path, lenient, at),
        hint: 'save the file as UTF-8',
      }),
    );
    return undefined;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const at = text.search(RESERVED_CHARS);
  if (at >= 0) {
    diagnostics.push(
      error('control-char', `${describeReserved(text[at]!)} is not allowed (${RESERVED_WHY[text[at]!]})`, {
        location: positionInText(file.path, text, at),
        hint: 'remove the invisible character at this position',
      }),
    );
    return undefined;
  }
  return text;
}

// U+0001 is the renderer's source-map marker; NUL cannot live in argv, a shell string or a
// label, and would be silently turned into "\u0000" on its way there.
const RESERVED_CHARS = /[\u0000\u0001]/;
const RESERVED_WHY: Record<string, string> = {
  '\u0000': 'no command, environment value or label can hold it',
  '\u0001': 'it is reserved for source maps',
};

function describeReserved(c: string): string {
  return c === '\u0000' ? 'the NUL character U+0000' : 'the control character U+0001';
}

/**
 * The same characters written as YAML escapes ("\0", "\x01", "\u0000") only appear once the
 * document is parsed: reports each string (or key) holding one, at its node.
 */
function reservedInValues(y: YamlDoc, diagnostics: Diagnostic[]): void {
  const walk = (v: unknown, path: FieldPath): void => {
    if (typeof v === 'string') {
      const at = v.search(RESERVED_CHARS);
      if (at >= 0) {
        diagnostics.push(
          error('control-char', `${describeReserved(v[at]!)} is not allowed (${RESERVED_WHY[v[at]!]})`, {
            field: formatFieldPath(path),
            location: y.locate(path),
            hint: 'remove the escape ("\\0", "\\x00", "\\u0000", "\\x01", ...) from the string',
          }),
        );
      }
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (isPlainObject(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (RESERVED_CHARS.test(k)) walk(k, [...path, k]);
        walk(x, [...path, k]);
      }
    }
  };
  walk(y.value, []);
}

/**
 * EJS include() inside a tag of a template or snippet: it would inline any file on the machine.
 * Checked here, not only when rendering, so `validate` reports it too.
 */
function refuseIncludes(path: string, text: string, diagnostics: Diagnostic[]): boolean {
  let ok = true;
  // `<%%` is a literal "<%" and `<%#` a comment: neither runs.
  for (const tag of text.matchAll(/<%(?![%#])[\s\S]*?(?:%>|$)/g)) {
    for (const call of tag[0].matchAll(/(?<![\w$.])include\s*\(/g)) {
      ok = false;
      diagnostics.push(
        error('render-include', 'include() is not allowed in a template or snippet', {
          location: positionInText(path, text, tag.index + call.index),
          hint: INCLUDE_HINT,
        }),
      );
    }
  }
  return ok;
}

function located<T>(doc: T, y: YamlDoc): Located<T> {
  return { doc, file: y.file, location: y.location, locate: (p) => y.locate(p) };
}

function loadManifestFile(path: string, text: string, factory: LoadedFactory, diagnostics: Diagnostic[], failed: FailedDocuments): void {
  const parsed = parseYaml(path, text);
  diagnostics.push(...parsed.diagnostics);
  // A file with a syntax error may have held any document: references can't be judged.
  if (parsed.diagnostics.some((d) => d.code === 'yaml')) failed.addAnything();
  for (const y of parsed.docs) {
    const v = y.value;
    if (!isPlainObject(v)) {
      diagnostics.push(
        error('not-a-document', `document ${y.index + 1} is not a mapping`, {
          location: y.location,
          hint: `write a mapping with a "kind:" (${DOCUMENT_KINDS.join(', ')})`,
        }),
      );
      continue;
    }
    reservedInValues(y, diagnostics);
    const kind = v['kind'];
    if (kind === undefined) {
      diagnostics.push(
        error('unknown-kind', 'document has no "kind"', {
          field: 'kind',
          location: y.location,
          hint: `add "kind:" with one of ${DOCUMENT_KINDS.join(', ')}`,
        }),
      );
      continue;
    }
    if (typeof kind !== 'string' || !(DOCUMENT_KINDS as readonly string[]).includes(kind)) {
      const where =
        kind === 'Template' || kind === 'Fragment'
          ? `${kind} documents live in ${kind.toLowerCase()}s/<name>/<version>/${kind.toLowerCase()}.yaml, not under manifests/`
          : [didYouMean(String(kind), [...DOCUMENT_KINDS]), `kind must be one of ${DOCUMENT_KINDS.join(', ')}`].filter(Boolean).join(' ');
      diagnostics.push(error('unknown-kind', `unknown kind "${String(kind)}"`, { field: 'kind', location: y.locate(['kind']), hint: where }));
      continue;
    }
    const k = kind as keyof typeof KIND_SCHEMAS;
    const doc = validate(KIND_SCHEMAS[k] as z.ZodType, y, diagnostics, k);
    if (doc === undefined) {
      const name = typeof v['name'] === 'string' ? v['name'] : '*';
      const version = typeof v['version'] === 'string' ? v['version'] : '*';
      if (k === 'Pool') failed.addKind('pool');
      else if (k === 'Policy') failed.addKind('policy');
      else if (k === 'Base') failed.addBase(name);
      else failed.addVersioned(k === 'Product' ? 'product' : 'manifest', name, version);
      continue;
    }
    switch (k) {
      case 'Product':
        factory.products.push(located(doc as Product, y));
        break;
      case 'Manifest':
        factory.manifests.push(located(doc as Manifest, y));
        break;
      case 'Pool':
        factory.pools.push(located(doc as Pool, y));
        break;
      case 'Base':
        factory.bases.push(located(doc as Base, y));
        break;
      case 'Policy':
        factory.policies.push(located(doc as Policy, y));
        break;
    }
  }
}

/** Reads one metadata file (template.yaml / fragment.yaml): exactly one document. */
function loadMeta<T>(
  file: SourceFile,
  schema: z.ZodType<T>,
  kind: 'Template' | 'Fragment',
  dirName: string,
  dirVersion: string,
  diagnostics: Diagnostic[],
): Located<T> | undefined {
  const text = decode(file, diagnostics);
  if (text === undefined) return undefined;
  const parsed = parseYaml(file.path, text);
  diagnostics.push(...parsed.diagnostics);
  if (parsed.diagnostics.some((d) => d.severity === 'error' && d.code === 'yaml')) return undefined;
  const first = parsed.docs[0];
  if (!first) {
    diagnostics.push(
      error('empty', `${file.path} is empty`, {
        location: { file: file.path, line: 1, column: 1 },
        hint: `write the ${kind} metadata (kind, name, version, ...)`,
      }),
    );
    return undefined;
  }
  for (const extra of parsed.docs.slice(1)) {
    diagnostics.push(
      error('extra-document', `${file.path} must hold a single document`, {
        location: extra.location,
        hint: 'remove the extra "---" document',
      }),
    );
  }
  if (isPlainObject(first.value) && first.value['kind'] !== kind) {
    diagnostics.push(
      error('unknown-kind', `expected kind "${kind}" in ${file.path.split('/').pop()}`, {
        field: 'kind',
        location: first.locate(['kind']),
        hint: `set "kind: ${kind}"`,
      }),
    );
    return undefined;
  }
  reservedInValues(first, diagnostics);
  const doc = validate(schema, first, diagnostics, kind);
  if (doc === undefined) return undefined;
  const meta = located(doc, first);
  const d = doc as unknown as { name: string; version: string };
  let ok = true;
  if (d.name !== dirName) {
    ok = false;
    diagnostics.push(
      error('dir-mismatch', `name "${d.name}" does not match its directory "${dirName}"`, {
        field: 'name',
        location: first.locate(['name']),
        hint: `rename the directory to ${kind.toLowerCase()}s/${d.name}/${d.version}/ or set name: ${dirName}`,
      }),
    );
  }
  if (d.version !== dirVersion) {
    ok = false;
    diagnostics.push(
      error('dir-mismatch', `version "${d.version}" does not match its directory "${dirVersion}"`, {
        field: 'version',
        location: first.locate(['version']),
        hint: `a new version lives in a new directory: ${kind.toLowerCase()}s/${dirName}/${d.version}/`,
      }),
    );
  }
  // A mismatched document is not registered under either id: references to it would resolve
  // differently from what its path says.
  return ok ? meta : undefined;
}

interface VersionDir {
  dir: string;
  name: string;
  version: string;
  meta?: SourceFile;
  snippet?: SourceFile;
  all: SourceFile[];
}

function splitVersionDir(dir: string, list: SourceFile[], metaName: string, diagnostics: Diagnostic[]): VersionDir {
  const [, name = '', version = ''] = dir.split('/');
  const out: VersionDir = { dir, name, version, all: list };
  for (const f of list) {
    const rel = f.path.slice(dir.length + 1);
    if (f.link !== undefined) {
      checkLink(dir, f, diagnostics);
      continue;
    }
    if (rel === metaName) out.meta = f;
    else if (rel === SNIPPET) out.snippet = f;
  }
  return out;
}

/** A link inside a version directory must resolve inside that directory. */
function checkLink(dir: string, f: SourceFile, diagnostics: Diagnostic[]): void {
  const target = f.link ?? '';
  const linkDir = f.path.split('/').slice(0, -1).join('/');
  const resolved = target.startsWith('/') ? undefined : normalize(`${linkDir}/${target}`);
  if (resolved === undefined || !(resolved === dir || resolved.startsWith(`${dir}/`))) {
    diagnostics.push(
      error('path-escape', `symbolic link to "${target}" leaves ${dir}/`, {
        location: { file: f.path, line: 1, column: 1 },
        hint: 'copy the file into the directory instead of linking outside it',
      }),
    );
  }
}

function missing(dir: string, what: string, anchor: SourceFile | undefined, diagnostics: Diagnostic[]): void {
  diagnostics.push(
    error('missing-file', `${dir}/ has no ${what}`, {
      location: { file: anchor?.path ?? dir, line: 1, column: 1 },
      hint: `add ${dir}/${what}`,
    }),
  );
}

function digestOf(dir: string, files: SourceFile[]): string {
  return contentDigest(
    files.map((f) => ({
      path: f.path.slice(dir.length + 1),
      bytes: f.bytes,
      ...(f.link !== undefined ? { link: f.link } : {}),
    })),
  );
}

function loadTemplate(dir: string, list: SourceFile[], diagnostics: Diagnostic[]): TemplateSource | undefined {
  const v = splitVersionDir(dir, list, TEMPLATE_META, diagnostics);
  if (!v.meta) {
    missing(dir, TEMPLATE_META, list[0], diagnostics);
    return undefined;
  }
  const meta = loadMeta(v.meta, Template, 'Template', v.name, v.version, diagnostics);
  if (!v.snippet) {
    missing(dir, SNIPPET, v.meta, diagnostics);
    return undefined;
  }
  const text = decode(v.snippet, diagnostics);
  if (text !== undefined && !refuseIncludes(v.snippet.path, text, diagnostics)) return undefined;
  if (!meta || text === undefined) return undefined;
  return { meta, dir, dockerfile: { path: v.snippet.path, text }, files: list, digest: digestOf(dir, list) };
}

function loadFragment(dir: string, list: SourceFile[], diagnostics: Diagnostic[]): FragmentSource | undefined {
  const v = splitVersionDir(dir, list, FRAGMENT_META, diagnostics);
  if (!v.meta) {
    missing(dir, FRAGMENT_META, list[0], diagnostics);
    return undefined;
  }
  const meta = loadMeta(v.meta, Fragment, 'Fragment', v.name, v.version, diagnostics);
  if (!v.snippet) {
    missing(dir, SNIPPET, v.meta, diagnostics);
    return undefined;
  }
  const text = decode(v.snippet, diagnostics);
  if (text !== undefined && !refuseIncludes(v.snippet.path, text, diagnostics)) return undefined;
  if (!meta || text === undefined) return undefined;
  const filesPrefix = `${dir}/files/`;
  return {
    meta,
    dir,
    snippet: { path: v.snippet.path, text },
    files: list.filter((f) => f.path.startsWith(filesPrefix)),
    allFiles: list,
    digest: digestOf(dir, list),
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// zod issues -> diagnostics located on the YAML node

type Issue = z.core.$ZodIssue;

/** Validates a YAML document; pushes one diagnostic per problem; undefined when invalid. */
export function validate<T>(schema: z.ZodType<T>, y: YamlDoc, diagnostics: Diagnostic[], what: string): T | undefined {
  const r = schema.safeParse(y.value);
  if (r.success) return r.data;
  for (const issue of r.error.issues) diagnostics.push(...issueDiagnostics(issue, [], schema, y, what));
  return undefined;
}

function issueDiagnostics(issue: Issue, prefix: FieldPath, schema: z.ZodType, y: YamlDoc, what: string): Diagnostic[] {
  const path: (string | number)[] = [...prefix, ...(issue.path as (string | number)[])];
  const field = formatFieldPath(path);
  const loc = (): SourceLocation => y.locate(path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = shapeKeysAt(schema, path, y.value);
      return issue.keys.map((key) => {
        // Build args are set by a product's manifest (and declared by fragments), not by the product.
        const moved =
          what === 'Product' && path.length === 0 && key === 'args'
            ? 'build args belong to the manifest: move them under args: of the Manifest this product names (a fragment declares each one with its default);'
            : '';
        const hint = [moved || didYouMean(key, allowed), allowed.length > 0 ? `allowed fields: ${allowed.join(', ')}` : ''].filter(Boolean).join(' ');
        return error('unknown-field', `unknown field "${key}" in ${what}`, {
          field: formatFieldPath([...path, key]),
          location: y.locateKey([...path, key]),
          ...(hint ? { hint } : {}),
        });
      });
    }
    case 'invalid_union': {
      if (path.length > 0 && valueAt(y.value, path) === undefined && !y.has(path)) {
        const key = String(path[path.length - 1]);
        return [error('schema', `missing required field "${key}" in ${what}`, { field, location: y.locate(path), hint: `add "${key}:"` })];
      }
      // Report the branch that came closest (fewest problems) instead of "Invalid input".
      const branches = issue.errors.filter((b) => b.length > 0);
      if (branches.length === 0) break;
      const missingOnly = branches.every((b) => b.some((i) => isMissing(i, path, y)));
      const best = [...branches].sort((a, b) => a.length - b.length)[0]!;
      const tie = branches.filter((b) => b.length === best.length).length > 1;
      if (missingOnly && tie) {
        const needed = branches
          .map((b) => b.find((i) => isMissing(i, path, y)))
          .map((i) => (i ? String(i.path[i.path.length - 1]) : ''))
          .filter(Boolean);
        return [
          error('schema', 'this entry matches none of the allowed shapes', {
            field,
            location: loc(),
            hint: `give it exactly one of: ${[...new Set(needed)].join(', ')}`,
          }),
        ];
      }
      return best.flatMap((i) => issueDiagnostics(i, path, schema, y, what));
    }
    case 'invalid_key': {
      const inner = issue.issues[0];
      const key = String(path[path.length - 1]);
      return [
        error('schema', `key "${key}" ${inner ? friendly(inner) : 'is not allowed'}`, {
          field,
          location: y.locateKey(path),
          hint: 'rename the key',
        }),
      ];
    }
    default:
      break;
  }
  if (isMissing(issue, [], y, path)) {
    return [
      error('schema', `missing required field "${String(path[path.length - 1])}" in ${what}`, {
        field,
        location: y.locate(path),
        hint: `add "${String(path[path.length - 1])}:"`,
      }),
    ];
  }
  return [error('schema', friendly(issue, valueAt(y.value, path)), { field, location: loc(), hint: hintFor(issue, valueAt(y.value, path)) })];
}

function isMissing(issue: Issue, prefix: FieldPath, y: YamlDoc, full?: (string | number)[]): boolean {
  if (issue.code !== 'invalid_type') return false;
  const path = full ?? [...prefix, ...(issue.path as (string | number)[])];
  return path.length > 0 && valueAt(y.value, path) === undefined && !y.has(path);
}

const TYPE_WORDS: Record<string, string> = {
  array: 'a list',
  object: 'a mapping',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  int: 'an integer',
};

function typeWord(t: string): string {
  return TYPE_WORDS[t] ?? t;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeWord(typeof v);
}

function friendly(issue: Issue, actual?: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${typeWord(issue.expected)}, got ${kindOf(actual)}`;
    case 'invalid_value':
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
    case 'invalid_format':
      // Our regexes carry readable messages; zod's default ones only print the pattern.
      return issue.message.startsWith('Invalid string: must match pattern') ? `has the wrong format (${issue.message})` : issue.message;
    case 'too_small':
      // Keep the schema's own wording when it has one ("every fragment needs at least one test").
      if (!issue.message.startsWith('Too small')) return issue.message;
      return issue.origin === 'array'
        ? `needs at least ${String(issue.minimum)} item(s)`
        : issue.origin === 'string'
          ? 'must not be empty'
          : `must be >= ${String(issue.minimum)}`;
    case 'too_big':
      if (!issue.message.startsWith('Too big')) return issue.message;
      return issue.origin === 'array'
        ? `allows at most ${String(issue.maximum)} item(s)`
        : issue.origin === 'string'
          ? `must be at most ${String(issue.maximum)} characters`
          : `must be <= ${String(issue.maximum)}`;
    default:
      return issue.message;
  }
}

function hintFor(issue: Issue, actual: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'string') return 'write a string (quote it if it looks like a number)';
      if (issue.expected === 'array') return typeof actual === 'string' ? `write a list: [${actual}]` : 'write a list: [a, b]';
      return `write ${typeWord(issue.expected)}`;
    case 'invalid_format':
      return `the value read was ${JSON.stringify(actual)?.slice(0, 80) ?? 'empty'}`;
    case 'invalid_value':
      return `use one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      // Keep the schema's own wording when it has one ("every fragment needs at least one test").
      if (!issue.message.startsWith('Too small')) return issue.message;
      return issue.origin === 'array' ? 'add an entry' : 'use a larger value';
    case 'too_big':
      return issue.origin === 'array'
        ? 'remove entries'
        : issue.origin === 'string'
          ? `shorten it to at most ${String(issue.maximum)} characters`
          : 'use a smaller value';
    case 'custom':
      return typeof issue.params?.['hint'] === 'string' ? issue.params['hint'] : 'see the file formats in docs/architecture.md';
    default:
      return 'see the file formats in docs/architecture.md';
  }
}

function valueAt(v: unknown, path: FieldPath): unknown {
  let cur: unknown = v;
  for (const seg of path) {
    if (Array.isArray(cur) && typeof seg === 'number') cur = cur[seg];
    else if (isPlainObject(cur)) cur = cur[String(seg)];
    else return undefined;
  }
  return cur;
}

interface ZodDefLike {
  type: string;
  shape?: Record<string, unknown>;
  element?: unknown;
  innerType?: unknown;
  in?: unknown;
  valueType?: unknown;
  options?: unknown[];
}

function defOf(s: unknown): ZodDefLike | undefined {
  return (s as { _zod?: { def?: ZodDefLike } })?._zod?.def;
}

/** Field names the schema allows at `path` (for "did you mean" on unknown fields). */
function shapeKeysAt(schema: unknown, path: FieldPath, root: unknown): string[] {
  let cur: unknown = schema;
  const unwrap = (): void => {
    for (;;) {
      const d = defOf(cur);
      if (!d) return;
      if (d.type === 'optional' || d.type === 'default' || d.type === 'nullable' || d.type === 'prefault') cur = d.innerType;
      else if (d.type === 'pipe') cur = d.in;
      else return;
    }
  };
  const pickUnion = (value: unknown): void => {
    const d = defOf(cur);
    if (d?.type !== 'union' || !d.options) return;
    const keys = isPlainObject(value) ? Object.keys(value) : [];
    let best: unknown = d.options[0];
    let bestScore = -1;
    for (const o of d.options) {
      const od = defOf(o);
      const shape = od?.type === 'object' ? (od.shape ?? {}) : {};
      const score = keys.filter((k) => k in shape).length;
      if (score > bestScore) {
        best = o;
        bestScore = score;
      }
    }
    cur = best;
  };
  for (let i = 0; i <= path.length; i++) {
    unwrap();
    pickUnion(valueAt(root, path.slice(0, i)));
    unwrap();
    if (i === path.length) break;
    const d = defOf(cur);
    if (!d) return [];
    if (d.type === 'object') cur = d.shape?.[String(path[i])];
    else if (d.type === 'array') cur = d.element;
    else if (d.type === 'record') cur = d.valueType;
    else return [];
  }
  const d = defOf(cur);
  return d?.type === 'object' ? Object.keys(d.shape ?? {}) : [];
}
