// A tiny HCL writer for docker-bake.hcl. Deterministic by construction: blocks and attributes
// are written in the order given (callers pass a fixed order), map entries in the order given,
// no alignment padding (so one changed key never re-indents its neighbours in a diff).
import { hclString } from '../src/core/escape.js';

/** An already-escaped HCL expression, e.g. from hclString()/hclTemplate() or a literal number. */
export interface HclExpr {
  readonly hcl: string;
}
export type HclValue = HclExpr | readonly HclExpr[] | HclMap;
/** Ordered map entries: `{ "key" = value }`. Keys are written as quoted strings. */
export interface HclMap {
  readonly entries: readonly (readonly [string, HclExpr])[];
}

export interface HclBlock {
  type: string;
  label: string;
  /** Attributes in output order; undefined values are left out. */
  attrs: readonly (readonly [string, HclValue | undefined])[];
  /** A comment written above the block, one `#` line per line. */
  comment?: string;
}

export const expr = (hcl: string): HclExpr => ({ hcl });
export const str = (s: string): HclExpr => ({ hcl: hclString(s) });
export const list = (items: readonly HclExpr[]): readonly HclExpr[] => items;
export const map = (entries: readonly (readonly [string, HclExpr])[]): HclMap => ({ entries });

function isMap(v: HclValue): v is HclMap {
  return (v as HclMap).entries !== undefined;
}
function isList(v: HclValue): v is readonly HclExpr[] {
  return Array.isArray(v);
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function writeValue(v: HclValue, indent: string): string {
  if (isList(v)) {
    if (v.length === 0) return '[]';
    // One item stays on the attribute's line; more go one per line with a trailing comma.
    if (v.length === 1) return `[${v[0]!.hcl}]`;
    return `[\n${v.map((e) => `${indent}  ${e.hcl},\n`).join('')}${indent}]`;
  }
  if (isMap(v)) {
    if (v.entries.length === 0) return '{}';
    return `{\n${v.entries.map(([k, e]) => `${indent}  ${hclString(k)} = ${e.hcl}\n`).join('')}${indent}}`;
  }
  return v.hcl;
}

export function writeBlock(b: HclBlock): string {
  if (!IDENT.test(b.type)) throw new Error(`internal: bad HCL block type ${b.type}`);
  let out = '';
  if (b.comment) out += b.comment.split('\n').map((l) => (l === '' ? '#\n' : `# ${l}\n`)).join('');
  out += `${b.type} ${hclString(b.label)} {\n`;
  for (const [name, value] of b.attrs) {
    if (value === undefined) continue;
    if (!IDENT.test(name)) throw new Error(`internal: bad HCL attribute name ${name}`);
    out += `  ${name} = ${writeValue(value, '  ')}\n`;
  }
  return `${out}}\n`;
}

/** A whole file: an optional header comment, then the blocks separated by blank lines. */
export function writeHcl(blocks: readonly HclBlock[], header?: string): string {
  const head = header ? `${header.split('\n').map((l) => (l === '' ? '#' : `# ${l}`)).join('\n')}\n\n` : '';
  return head + blocks.map(writeBlock).join('\n');
}
