// Content digests of template and fragment versions. The lock records them; a version whose
// content changes without a new version number is refused.
import { createHash } from 'node:crypto';

export interface DigestEntry {
  /** Path relative to the version directory, forward slashes. */
  path: string;
  bytes: Uint8Array;
  /** Symlink target, when the entry is a link (its target is hashed, not followed). */
  link?: string;
}

const encoder = new TextEncoder();

function compareBytes(a: string, b: string): number {
  // Compare by UTF-8 code units, not locale: the same order on every machine.
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `sha256:<hex>` over the entries sorted by path. Each entry is framed with its kind and
 * lengths so that no two different file sets can produce the same byte stream.
 */
export function contentDigest(entries: readonly DigestEntry[]): string {
  const sorted = [...entries].sort((a, b) => compareBytes(a.path, b.path));
  const h = createHash('sha256');
  h.update('factory-content-v1\n');
  for (const e of sorted) {
    const path = encoder.encode(e.path);
    const kind = e.link !== undefined ? 'l' : 'f';
    const body = e.link !== undefined ? encoder.encode(e.link) : e.bytes;
    h.update(`${kind} ${path.length} `);
    h.update(path);
    h.update(` ${body.length}\n`);
    h.update(body);
    h.update('\n');
  }
  return `sha256:${h.digest('hex')}`;
}

/** sha256 of a text, `sha256:<hex>`. */
export function textDigest(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}
