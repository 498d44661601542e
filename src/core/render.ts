// Rendering: a template's Dockerfile.ejs plus the manifest's fragment snippets -> one Dockerfile
// per variant, each fragment in its own named stage, with a source map from every rendered line
// back to the file and line that wrote it (docs/architecture.md "Rendering and source maps").
//
// Layout of a rendered Dockerfile:
//   <parser directives of the template, if any>     (must stay first: BuildKit reads them there)
//   ARG BASE_IMAGE=<base image>
//   FROM ${BASE_IMAGE} AS base                       mapped to template.yaml `base`
//   <template body; each slot(name) call expands to>
//     FROM <previous stage> AS <slot>-<fragment>     mapped to the template line calling slot()
//     <fragment snippet>                             mapped to the fragment's Dockerfile.ejs
//   FROM <last stage> AS final                       mapped to template.yaml `user` (or the doc)
//   USER <template user>
// Template text belongs to the stage open at that point: before the first slot it is in `base`,
// after the last one it is in the last fragment stage (and so inherited by `final`).
import vm from 'node:vm';
import ejs from 'ejs';
import { didYouMean, error } from './diagnostics.js';
import { checkRendered, type SourceOwner } from './dockerfile-check.js';
import { EscapeError, escapeDockerfile } from './escape.js';
import { FactoryError } from './types.js';
import { pinnedImage, refOf } from './ids.js';
import { USER_ARG_RE } from './schema.js';
import type { Diagnostic, FragmentSource, RenderedDockerfile, ResolvedProduct, SourceLocation, SourceMapEntry, TemplateSource, Variant } from './types.js';

/** `build/<product>/<version>/<variant>/Dockerfile`; the variant is made file-name safe. */
export function dockerfilePath(product: ResolvedProduct, variant: Variant): string {
  return `build/${product.product.doc.name}/${product.product.doc.version}/${safeSegment(variant.name)}/Dockerfile`;
}

/** `build/fragments/<name>/<version>/Dockerfile` for the isolated fragment test. */
export function fragmentDockerfilePath(fragment: FragmentSource): string {
  return `build/fragments/${fragment.meta.doc.name}/${fragment.meta.doc.version}/Dockerfile`;
}

/** A path segment from a variant name: matrix values may carry `/` or `:`. */
export function safeSegment(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Stage name of a fragment: `<slot>-<fragment>`, valid as a Dockerfile stage name. */
export function stageName(slot: string, fragment: string): string {
  const name = `${slot}-${fragment}`.toLowerCase();
  // BuildKit stage names must start with a letter; schema names may start with a digit.
  return /^[a-z]/.test(name) ? name : `s${name}`;
}

/**
 * What the renders of one run share: thousands of variants render the same few files, so each
 * (path, text) is compiled once per memo. One run (a generate, a plan) creates one and passes it
 * to each render; nothing outlives the run.
 */
export interface RenderMemo {
  readonly compiled: Map<string, Map<string, Compiled>>;
  /** The `fragment` local of each fragment (frozen, so one object serves every variant). */
  readonly fragmentLocals: Map<FragmentSource, Readonly<Record<string, string>>>;
}

export function renderMemo(): RenderMemo {
  return { compiled: new Map(), fragmentLocals: new Map() };
}

/** A RenderedDockerfile of the product's variant (every fragment of its manifest). */
export function renderDockerfile(product: ResolvedProduct, variant: Variant, memo: RenderMemo = renderMemo()): RenderedDockerfile {
  return renderChain(memo, product, product.fragments, variant, product.base, dockerfilePath(product, variant));
}

export interface FragmentTestRenderOptions {
  /** Locals of this variant of the host product; its first variant by default. */
  variant?: Variant;
  /** The base the isolated test builds on; the host product's base by default. */
  base?: ResolvedProduct['base'];
}

/**
 * The isolated test Dockerfile of one fragment: the host product's template with only the
 * fragment and the transitive closure of its `requires` (the versions the host manifest pins),
 * in the host's build order. The test stages are appended by generators/testrunner.ts.
 */
export function renderFragmentTestDockerfile(
  host: ResolvedProduct,
  fragment: FragmentSource,
  opts: FragmentTestRenderOptions = {},
  memo: RenderMemo = renderMemo(),
): RenderedDockerfile {
  const variant = opts.variant ?? host.variants[0];
  if (!variant) throw new Error(`internal: product ${host.id} has no variants`);
  const closure = requiresClosure(host.fragments, fragment);
  // No USER in `final`: the template's user is usually created by a fragment outside the closure.
  return renderChain(memo, host, closure, variant, opts.base ?? host.base, fragmentDockerfilePath(fragment), false);
}

/** `fragment` and every fragment it requires, transitively, in `ordered`'s order. */
export function requiresClosure(ordered: readonly FragmentSource[], fragment: FragmentSource): FragmentSource[] {
  const byName = new Map(ordered.map((f) => [f.meta.doc.name, f]));
  const keep = new Set<FragmentSource>();
  const visit = (f: FragmentSource): void => {
    if (keep.has(f)) return;
    keep.add(f);
    for (const r of f.meta.doc.requires ?? []) {
      const dep = byName.get(r);
      // An unmet requirement is the resolver's diagnostic; here it just is not there to add.
      if (dep) visit(dep);
    }
  };
  visit(fragment);
  const inOrder = ordered.filter((f) => keep.has(f));
  return inOrder.includes(fragment) ? inOrder : [...inOrder, fragment];
}

// ---------------------------------------------------------------------------------------------

interface MapFile {
  path: string;
  origin: string;
  /** Lines of the source, to tell a line that was blank from one whose EJS printed nothing. */
  lines: string[];
}

const MARK = '\u0001';
// File-local markers are `\u0001<line>\u0001`; once a file's output is known they become
// `\u0001<fileIndex>:<line>\u0001`. A value cannot forge either: escape.ts refuses \u0001.
const LOCAL_MARK_RE = /\u0001(\d+)\u0001/g;
const ANY_MARK_RE = /\u0001(\d+):(\d+)\u0001/g;

function renderChain(
  memo: RenderMemo,
  product: ResolvedProduct,
  fragments: readonly FragmentSource[],
  variant: Variant,
  base: ResolvedProduct['base'],
  path: string,
  withUser = true,
): RenderedDockerfile {
  const template = product.template;
  const templateRef = refOf(template.meta.doc);
  const files: MapFile[] = [];
  const tIndex = addMapFile(files, template.dockerfile.path, templateRef, template.dockerfile.text);
  const metaIndex = addMapFile(files, template.meta.file, templateRef, '');
  const common = commonLocals(product, variant, base);
  const slots = slotFiller(memo, template, fragments, common, files);
  const body = runEjs(memo, template.dockerfile.path, template.dockerfile.text, tIndex, ejsLocals(common, slots.slot));
  checkSlotsPlaced(template, fragments, slots.placed);
  const framed = frameStages(body, template, metaIndex, base, slots.current(), withUser ? finalUser(template, variant) : undefined);
  const finished = finish(framed, files);
  const text = checkChain(finished, files, template, fragments);
  return { path, text, sourceMap: finished.sourceMap, stages: [...slots.stages, 'final'] };
}

/** Adds a file to the source map's list; returns its index (what its markers carry). */
function addMapFile(files: MapFile[], path: string, origin: string, text: string): number {
  files.push({ path, origin, lines: text.split('\n') });
  return files.length - 1;
}

/** The EJS locals the template and every snippet see (`slot` and `fragment` aside). */
function commonLocals(product: ResolvedProduct, variant: Variant, base: ResolvedProduct['base']): Record<string, unknown> {
  return {
    product: product.product.doc.name,
    version: product.product.doc.version,
    variant: variant.name,
    matrix: strictRecord('matrix', variant.matrix),
    args: strictRecord('args', variant.args),
    base: Object.freeze({ name: base.name, image: base.image, ...(base.digest ? { digest: base.digest } : {}) }),
  };
}

interface SlotFiller {
  /** the template's `slot(name)`: the stages of that slot's fragments, rendered */
  slot: (name: unknown) => string;
  /** slots placed so far */
  placed: ReadonlySet<string>;
  /** stage names so far, `base` first */
  stages: readonly string[];
  /** the stage open now (the last one placed) */
  current: () => string;
}

/** The `slot()` local: each call renders that slot's fragments, each in its own stage on top of the previous one. */
function slotFiller(
  memo: RenderMemo,
  template: TemplateSource,
  fragments: readonly FragmentSource[],
  common: Record<string, unknown>,
  files: MapFile[],
): SlotFiller {
  const tdoc = template.meta.doc;
  const templateRef = refOf(tdoc);
  const stages: string[] = ['base'];
  let current = 'base';
  const placed = new Set<string>();
  const slotsDeclared = new Set(tdoc.slots);
  const slot = (name: unknown): string => {
    if (typeof name !== 'string' || !slotsDeclared.has(name)) {
      throw new RenderError(
        'render-slot',
        `slot(${JSON.stringify(name)}) is not a slot of template ${templateRef}`,
        `declared slots: ${tdoc.slots.join(', ')}; add it to "slots" in ${template.meta.file} or fix the name`,
      );
    }
    if (placed.has(name)) {
      throw new RenderError('render-slot', `slot("${name}") is placed twice`, 'place each slot exactly once');
    }
    placed.add(name);
    let out = '';
    for (const f of fragments) {
      if (f.meta.doc.slot !== name) continue;
      const fdoc = f.meta.doc;
      const stage = uniqueStage(stages, stageName(name, fdoc.name));
      const fref = refOf(fdoc);
      const metaAt = addMapFile(files, f.meta.file, fref, '');
      const index = addMapFile(files, f.snippet.path, fref, f.snippet.text);
      const body = runEjs(memo, f.snippet.path, f.snippet.text, index, ejsLocals(common, snippetSlot, fragmentLocal(memo, f)));
      // The stage exists because the fragment declares this slot: map its FROM line (and the
      // blank line before it) there.
      const m = `${MARK}${metaAt}:${f.meta.locate(['slot']).line}${MARK}`;
      out += `${m}\n${m}FROM ${current} AS ${stage}\n${body}${body.endsWith('\n') || body === '' ? '' : '\n'}`;
      stages.push(stage);
      current = stage;
    }
    return out.endsWith('\n') ? out.slice(0, -1) : out;
  };
  return { slot, placed, stages, current: () => current };
}

/** Every slot the fragments fill was placed by the template, or they would be left out. */
function checkSlotsPlaced(template: TemplateSource, fragments: readonly FragmentSource[], placed: ReadonlySet<string>): void {
  const lost = [...new Set(fragments.map((f) => f.meta.doc.slot))].filter((s) => !placed.has(s));
  if (lost.length === 0) return;
  throw new FactoryError(
    lost.map((s) =>
      error('render-slot', `template ${refOf(template.meta.doc)} never places slot "${s}", so its fragments would be left out`, {
        hint: `add a line <%- slot('${s}') %> to ${template.dockerfile.path}`,
        location: { file: template.dockerfile.path, line: 1, column: 1 },
      }),
    ),
  );
}

/**
 * The template's `user:` for a variant: a name as written, or `{args.NAME}`, the variant's
 * value of that build arg (a fragment declares it, a manifest may set it per variant); the
 * resolver checked that the arg exists and its value is a user name.
 */
export function finalUser(template: TemplateSource, variant: Variant): string | undefined {
  const user = template.meta.doc.user;
  const arg = user === undefined ? undefined : USER_ARG_RE.exec(user)?.[1];
  return arg === undefined ? user : variant.args[arg];
}

/** The template's output framed: its parser directives on top, the `base` stage header, the body, the `final` stage. */
function frameStages(body: string, template: TemplateSource, metaIndex: number, base: ResolvedProduct['base'], last: string, user: string | undefined): string {
  const tdoc = template.meta.doc;
  const baseLoc = template.meta.locate(['base']);
  const userLoc = tdoc.user !== undefined ? template.meta.locate(['user']) : template.meta.location;
  const mark = (loc: SourceLocation): string => `${MARK}${metaIndex}:${loc.line}${MARK}`;
  // Directives (`# syntax=...`) are only honoured before any other line: keep them on top.
  const bodyLines = body.split('\n');
  let d = 0;
  while (d < bodyLines.length && /^#\s*[A-Za-z_]+\s*=/.test(stripMarks(bodyLines[d]!))) d++;
  const head = bodyLines
    .slice(0, d)
    .map((l) => `${l}\n`)
    .join('');
  const rest = bodyLines.slice(d).join('\n');
  // The default keeps the Dockerfile buildable on its own (and BuildKit's InvalidDefaultArgInFrom
  // check quiet); bake always passes BASE_IMAGE from the BASE_<NAME> variable.
  const baseRef = pinnedImage(base.image, base.digest);
  const stageHeader = `${mark(baseLoc)}ARG BASE_IMAGE=${escapeDockerfile(baseRef)}\n${mark(baseLoc)}FROM \${BASE_IMAGE} AS base\n`;
  // The separator line is marked too, or it would inherit (and be dropped with) the last body line.
  let tail = `\n${mark(userLoc)}\n${mark(userLoc)}FROM ${last} AS final\n`;
  if (user !== undefined) tail += `${mark(userLoc)}USER ${escapeDockerfile(user)}\n`;
  return `${head}${stageHeader}${rest}${tail}`;
}

/**
 * Reads the result back as BuildKit will: every line a template or snippet wrote is checked
 * (instructions, stages, continuations, COPY/ADD and bind mount sources) at its file and line.
 * Returns the text to write.
 */
function checkChain(
  finished: { text: string; sourceMap: RenderedDockerfile['sourceMap'] },
  files: MapFile[],
  template: TemplateSource,
  fragments: readonly FragmentSource[],
): string {
  const owners = new Map<string, SourceOwner>([[template.dockerfile.path, { kind: 'template', dir: template.dir, present: [] }]]);
  for (const f of fragments) owners.set(f.snippet.path, { kind: 'fragment', dir: f.dir, present: presentFiles(f), foreignStages: foreignStages(fragments, f) });
  const byPath = new Map(files.map((f) => [f.path, f.lines]));
  const { text, diagnostics } = checkRendered(finished.text, finished.sourceMap, owners, (p) => byPath.get(p) ?? []);
  if (diagnostics.length > 0) throw new FactoryError(diagnostics);
  return text;
}

/** Stage name -> fragment name of the chain's fragments that `f` neither is nor requires. */
function foreignStages(fragments: readonly FragmentSource[], f: FragmentSource): Map<string, string> {
  const required = new Set(requiresClosure(fragments, f));
  const out = new Map<string, string>();
  for (const g of fragments) if (!required.has(g)) out.set(stageName(g.meta.doc.slot, g.meta.doc.name), g.meta.doc.name);
  return out;
}

const snippetSlot = (): never => {
  throw new RenderError(
    'render-slot',
    'slot() can only be called from a template, not from a fragment snippet',
    'fragments fill slots; move the slot() call to the template Dockerfile.ejs',
  );
};

function fragmentLocal(memo: RenderMemo, f: FragmentSource): Readonly<Record<string, string>> {
  let l = memo.fragmentLocals.get(f);
  if (!l) {
    const fdoc = f.meta.doc;
    memo.fragmentLocals.set(f, (l = Object.freeze({ name: fdoc.name, version: fdoc.version, slot: fdoc.slot, files: `${f.dir}/files` })));
  }
  return l;
}

/**
 * The locals object of one EJS call, built without a prototype (so `constructor` or `toString`
 * are not names a template can reach) and handed to EJS as is: EJS would otherwise copy every
 * locals object into a fresh prototype-less one, once per snippet per variant.
 */
function ejsLocals(common: Record<string, unknown>, slot: (name: unknown) => string, fragment?: unknown): Record<string, unknown> {
  const l = Object.create(null) as Record<string, unknown>;
  for (const k in common) l[k] = common[k];
  l.slot = slot;
  if (fragment !== undefined) l.fragment = fragment;
  return l;
}

// A fragment's files relative to its directory (files/motd...), once per fragment.
const presentCache = new WeakMap<FragmentSource, string[]>();
function presentFiles(f: FragmentSource): string[] {
  let p = presentCache.get(f);
  if (!p) presentCache.set(f, (p = f.files.map((x) => x.path.slice(f.dir.length + 1))));
  return p;
}

function uniqueStage(taken: readonly string[], name: string): string {
  if (!taken.includes(name) && name !== 'final') return name;
  let i = 2;
  while (taken.includes(`${name}-${i}`)) i++;
  return `${name}-${i}`;
}

/** Splits the marked output into lines, maps each, strips markers and tidies blank lines. */
function finish(marked: string, files: readonly MapFile[]): { text: string; sourceMap: SourceMapEntry[] } {
  const out: string[] = [];
  const map: SourceMapEntry[] = [];
  let fileIndex = 0;
  let sourceLine = 1;
  for (const raw of marked.split('\n')) {
    // What ANY_MARK_RE's matchAll and replace did, in one pass without a match object per mark
    // (every line of every Dockerfile carries one): the last mark names the line's source,
    // and all are cut out. Lines without a marker continue the last one seen (e.g. a
    // multi-line value printed by a tag).
    let stripped = raw;
    let at = raw.indexOf(MARK);
    if (at >= 0) {
      stripped = '';
      let from = 0;
      while (at >= 0) {
        let j = at + 1;
        while (isDigit(raw.charCodeAt(j))) j++;
        if (j > at + 1 && raw.charCodeAt(j) === 0x3a) {
          const colon = j++;
          while (isDigit(raw.charCodeAt(j))) j++;
          if (j > colon + 1 && raw.charCodeAt(j) === 0x01) {
            fileIndex = Number(raw.slice(at + 1, colon));
            sourceLine = Number(raw.slice(colon + 1, j));
            stripped += raw.slice(from, at);
            from = j + 1;
            at = raw.indexOf(MARK, from);
            continue;
          }
        }
        at = raw.indexOf(MARK, at + 1);
      }
      stripped += raw.slice(from);
      if (stripped.includes(MARK)) stripped = stripped.replace(LOCAL_MARK_RE, '');
    }
    let end = stripped.length;
    for (let c = stripped.charCodeAt(end - 1); c === 0x20 || c === 0x09 || c === 0x0d; c = stripped.charCodeAt(end - 1)) end--;
    const line = end === stripped.length ? stripped : stripped.slice(0, end);
    const file = files[fileIndex]!;
    if (line === '') {
      const src = file.lines[sourceLine - 1];
      // The source line had content but its EJS printed nothing (`<% } %>`, an empty slot): drop it.
      if (src !== undefined && src.trim() !== '') continue;
      // Keep one blank line between blocks, none at the start.
      if (out.length === 0 || out[out.length - 1] === '') continue;
    }
    out.push(line);
    map.push({ line: out.length, file: file.path, sourceLine, origin: file.origin });
  }
  while (out.length > 0 && out[out.length - 1] === '') {
    out.pop();
    map.pop();
  }
  return { text: `${out.join('\n')}\n`, sourceMap: map };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function stripMarks(s: string): string {
  return s.includes(MARK) ? s.replace(ANY_MARK_RE, '').replace(LOCAL_MARK_RE, '') : s;
}

// ---------------------------------------------------------------------------------------------
// EJS with markers, compiled once per (path, text) and with errors mapped to file:line.

type Compiled = (locals: Record<string, unknown>) => string;

class RenderError extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
    readonly hint?: string,
  ) {
    super(detail);
  }
}

function runEjs(memo: RenderMemo, path: string, text: string, fileIndex: number, locals: Record<string, unknown>): string {
  const fn = compileMarked(memo, path, text);
  let out: string;
  try {
    out = fn(locals);
  } catch (e) {
    throw toFactoryError(e, path, text, locals);
  }
  return out.replace(LOCAL_MARK_RE, (_m, line: string) => `${MARK}${fileIndex}:${line}${MARK}`);
}

function compileMarked(memo: RenderMemo, path: string, text: string): Compiled {
  let byText = memo.compiled.get(path);
  if (!byText) memo.compiled.set(path, (byText = new Map()));
  const hit = byText.get(text);
  if (hit) return hit;
  const marked = insertMarkers(text);
  const opts = {
    filename: ejsFilename(path),
    escape: escapeDockerfile,
    compileDebug: true,
    _with: true,
    localsName: 'locals',
    unsafePrototypeLocals: true,
    includer: refuseInclude,
  };
  let fn: Compiled;
  try {
    fn = ejs.compile(marked, opts) as Compiled;
  } catch (e) {
    throw compileError(e, path, text, marked, opts);
  }
  byText.set(text, fn);
  return fn;
}

// include() would read any file on the machine into a Dockerfile, outside the content digests
// and the lock. The loader refuses it in the source already; this catches what a scan cannot
// see (an alias of include, a name built at run time).
function refuseInclude(target: string): never {
  throw new RenderError('render-include', `include(${JSON.stringify(target)}) is not allowed`, INCLUDE_HINT);
}

export const INCLUDE_HINT = "templates and snippets cannot include files: move the shared lines into a fragment, or a fragment's files/ and COPY them";

// EJS writes the file name into its error messages through the escape function; give it a name
// that function accepts unchanged.
function ejsFilename(path: string): string {
  return path.replace(/[^A-Za-z0-9_./:@%+=,-]/g, '_');
}

/** Prepends `\u0001<line>\u0001` to every line that does not start inside an EJS tag. */
export function insertMarkers(text: string): string {
  const lines = text.split('\n');
  let inTag = false;
  const out: string[] = [];
  for (const [i, line] of lines.entries()) {
    // The empty remainder after a final newline is not a line of the file.
    const last = i === lines.length - 1 && line === '';
    out.push(inTag || last ? line : `${MARK}${i + 1}${MARK}${line}`);
    inTag = scanTagState(line, inTag).inTag;
  }
  return out.join('\n');
}

/** Whether the end of `line` is inside an EJS tag, given the state at its start. */
function scanTagState(line: string, inTag: boolean): { inTag: boolean; lastOpen: number } {
  let lastOpen = -1;
  let i = 0;
  while (i < line.length) {
    if (!inTag) {
      const at = line.indexOf('<%', i);
      if (at < 0) break;
      if (line[at + 2] === '%') {
        i = at + 3; // `<%%` is a literal `<%`
        continue;
      }
      inTag = true;
      lastOpen = at;
      i = at + 2;
    } else {
      const at = line.indexOf('%>', i);
      if (at < 0) break;
      inTag = false;
      i = at + 2;
    }
  }
  return { inTag, lastOpen };
}

function compileError(e: unknown, path: string, text: string, marked: string, opts: object): FactoryError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/Could not find matching close tag/.test(msg)) {
    const loc = unclosedTag(path, text);
    return new FactoryError([error('render-syntax', 'an EJS tag is opened here but never closed', { hint: 'close it with %>', location: loc })]);
  }
  if (e instanceof SyntaxError) {
    const line = syntaxErrorLine(marked, opts);
    const first = msg.split(' in ')[0]!.split('\n')[0]!;
    return new FactoryError([
      error('render-syntax', `JavaScript syntax error in an EJS tag: ${first}`, {
        hint: 'check the brackets and braces of the <% %> tags on this line and the lines before',
        location: { file: path, line, column: tagColumn(text, line) },
      }),
    ]);
  }
  return new FactoryError([error('render-error', `cannot compile the template: ${msg}`, { location: { file: path, line: 1, column: 1 } })]);
}

function unclosedTag(path: string, text: string): SourceLocation {
  let inTag = false;
  let open: SourceLocation = { file: path, line: 1, column: 1 };
  for (const [i, line] of text.split('\n').entries()) {
    const wasIn = inTag;
    const s = scanTagState(line, inTag);
    if (s.lastOpen >= 0) open = { file: path, line: i + 1, column: s.lastOpen + 1 };
    else if (!wasIn && s.inTag) open = { file: path, line: i + 1, column: 1 };
    inTag = s.inTag;
  }
  return open;
}

// EJS reports a syntax error in the generated function without a line; V8 reports the line of
// the generated source, which EJS interleaves with `__line = <template line>` statements.
function syntaxErrorLine(marked: string, opts: object): number {
  const t = new (ejs as unknown as { Template: new (text: string, opts: object) => { generateSource(): void; source: string } }).Template(marked, opts);
  t.generateSource();
  try {
    new vm.Script(`(function (locals, escapeFn, include, rethrow) {\n${t.source}\n})`, { filename: 'ejs-source' });
  } catch (err) {
    const m = /^ejs-source:(\d+)/.exec(err instanceof Error ? (err.stack ?? '') : '');
    if (m) {
      const genLines = t.source.split('\n').slice(0, Number(m[1]) - 1);
      let line = 1;
      for (const g of genLines) {
        const lm = /__line = (\d+)/.exec(g);
        if (lm) line = Number(lm[1]);
      }
      return line;
    }
  }
  return 1;
}

function tagColumn(text: string, line: number): number {
  const l = text.split('\n')[line - 1] ?? '';
  const at = l.indexOf('<%');
  return at < 0 ? 1 : at + 1;
}

function toFactoryError(e: unknown, path: string, text: string, locals: Record<string, unknown>): FactoryError {
  if (e instanceof FactoryError) return e; // from a fragment rendered inside slot(): already located
  const raw = e instanceof Error ? e.message : String(e);
  // EJS rethrow(): "<file>:<line>\n<context lines>\n\n<original message>"
  const m = /^[^\n]*:(\d+)\n[\s\S]*?\n\n([\s\S]*)$/.exec(raw);
  const line = m ? Number(m[1]) : 1;
  const original = m ? m[2]! : raw;
  const location: SourceLocation = { file: path, line, column: tagColumn(text, line) };
  const localsList = Object.keys(locals)
    .map((k) => (k === 'slot' ? 'slot(name)' : k))
    .join(', ');
  let d: Diagnostic;
  if (e instanceof RenderError) {
    d = error(e.code, e.detail, { ...(e.hint !== undefined ? { hint: e.hint } : {}), location });
  } else if (e instanceof EscapeError) {
    d = error('render-value', original, { hint: 'pass a plain value, or print it raw with <%- %> if you have escaped it yourself', location });
  } else if (e instanceof ReferenceError) {
    const name = /^(\S+) is not defined/.exec(original)?.[1];
    const near = name ? didYouMean(name, Object.keys(locals)) : '';
    d = error('render-undefined', name ? `"${name}" is not defined` : original, { hint: `${near ? `${near} ` : ''}the locals are: ${localsList}`, location });
  } else {
    d = error('render-error', `the template failed: ${original}`, { hint: `the locals are: ${localsList}`, location });
  }
  return new FactoryError([d]);
}

// `matrix.cuda` on a variant without that key would print nothing or `undefined`; refusing it
// turns a silent wrong Dockerfile into a located error. `'cuda' in matrix` still tests for it.
function strictRecord(what: string, rec: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const copy = Object.freeze({ ...rec });
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === 'string' && !(key in target) && !PASSTHROUGH.has(key)) {
        const keys = Object.keys(target);
        const near = didYouMean(key, keys);
        throw new RenderError(
          'render-undefined',
          `${what}.${key} is not defined for this variant`,
          `${near ? `${near} ` : ''}${what} has ${keys.length ? keys.join(', ') : 'no keys'}; test with '${key}' in ${what} when it is optional`,
        );
      }
      return Reflect.get(target, key, receiver);
    },
  });
}
const PASSTHROUGH = new Set(['toJSON', 'then', 'constructor', 'valueOf', 'toString', 'hasOwnProperty']);
