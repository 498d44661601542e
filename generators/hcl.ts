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

// Each block is built as a short array of lines joined once: flat strings, no deep rope of
// `+=` pieces for the final join to flatten (which dominated 10,000-target files).
function writeValue(v: HclValue, lines: string[], head: string): void {
  if (isList(v)) {
    // One item stays on the attribute's line; more go one per line with a trailing comma.
    if (v.length <= 1) lines.push(`${head}[${v.length ? v[0]!.hcl : ''}]`);
    else {
      lines.push(`${head}[`);
      for (const e of v) lines.push(`    ${e.hcl},`);
      lines.push('  ]');
    }
  } else if (isMap(v)) {
    if (v.entries.length === 0) lines.push(`${head}{}`);
    else {
      lines.push(`${head}{`);
      for (const [k, e] of v.entries) lines.push(`    ${hclString(k)} = ${e.hcl}`);
      lines.push('  }');
    }
  } else lines.push(head + v.hcl);
}

function checkIdent(what: string, name: string): void {
  if (!IDENT.test(name)) throw new Error(`internal: bad HCL ${what} ${name}`);
}

function blockLines(b: HclBlock, lines: string[]): void {
  checkIdent('block type', b.type);
  if (b.comment) for (const l of b.comment.split('\n')) lines.push(l === '' ? '#' : `# ${l}`);
  lines.push(`${b.type} ${hclString(b.label)} {`);
  for (const [name, value] of b.attrs) {
    if (value === undefined) continue;
    checkIdent('attribute name', name);
    writeValue(value, lines, `  ${name} = `);
  }
  lines.push('}');
}

export function writeBlock(b: HclBlock): string {
  const lines: string[] = [];
  blockLines(b, lines);
  return `${lines.join('\n')}\n`;
}

/** A whole file: an optional header comment, then the blocks separated by blank lines. */
export function writeHcl(blocks: readonly HclBlock[], header?: string): string {
  // One array of lines for the whole file, joined once: per-block strings joined again at the
  // end copied every byte of a 10,000-target file twice.
  const lines: string[] = [];
  if (header) {
    for (const l of header.split('\n')) lines.push(l === '' ? '#' : `# ${l}`);
    lines.push('');
  }
  for (let i = 0; i < blocks.length; i++) {
    if (i > 0) lines.push('');
    blockLines(blocks[i]!, lines);
  }
  return blocks.length === 0 ? (header ? `${lines.join('\n')}\n` : '') : `${lines.join('\n')}\n`;
}
