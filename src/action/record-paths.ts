// Where a record goes: records/<product>/<version>/<target>.json, each part a plain file name
// taken from the bake labels (src/core/record.ts is the record's format).
import { ActionError } from './errors.js';

/** What the bake definition says about a target (from its dev.factory.* and OCI labels). */
export interface TargetFacts {
  target: string;
  productName: string;
  productVersion: string;
  variant: string;
  platform: string;
  templateRef?: string;
  fragmentRefs: string[];
  baseImage?: string;
  tags: string[];
}

// A record path is made of bake labels (a hand-edited bake file can say anything) and is
// written and committed: each part must be one plain file name, so that the file lands under
// the records directory and nowhere else. No separators (`/`, `\`), no `.`/`..`, no NUL,
// whitespace or other characters a file system or a reviewer would read differently.
const PATH_SEGMENT = /^[A-Za-z0-9_.+-]{1,200}$/;

function plainSegment(s: string): boolean {
  return PATH_SEGMENT.test(s) && s !== '.' && s !== '..';
}

const SEGMENT_HINT = 'letters, digits and . _ + - only, at most 200, not "." or ".."';

/** The records directory as record paths start with it: no leading `./`, no trailing `/`. */
export function normalRecordsDir(recordsDir: string): string {
  return recordsDir.replace(/^(?:\.\/+)+/, '').replace(/\/+$/, '');
}

/** Why `rel` (a repository-relative record path) is not one under `recordsDir`, or undefined when it is. */
export function recordPathProblem(rel: string, recordsDir: string): string | undefined {
  const dir = normalRecordsDir(recordsDir);
  if (!rel.startsWith(`${dir}/`)) return `it is not under ${dir}/`;
  const parts = rel.split('/');
  const bad = parts.find((p) => !plainSegment(p));
  if (bad !== undefined) return `its part ${JSON.stringify(bad)} is not a plain file name (${SEGMENT_HINT})`;
  if (!rel.endsWith('.json')) return 'it does not end in .json';
  return undefined;
}

/**
 * records/<product>/<version>/<target>.json, relative to the repository root. Refuses (with
 * the label to fix) a part that is not a plain file name: `../..`, an absolute path, a NUL.
 */
export function recordPath(recordsDir: string, facts: Pick<TargetFacts, 'productName' | 'productVersion' | 'target'>): string {
  const dir = normalRecordsDir(recordsDir);
  const dirBad = dir.split('/').find((p) => !plainSegment(p));
  if (dir === '' || dirBad !== undefined) {
    throw new ActionError(`input \`records-dir\`: ${JSON.stringify(recordsDir)} is not a relative path of plain names (${SEGMENT_HINT})`);
  }
  const parts: [string, string, string][] = [
    ['product name', facts.productName, 'label dev.factory.product (name@version) or org.opencontainers.image.title'],
    ['product version', facts.productVersion, 'label dev.factory.product (name@version) or org.opencontainers.image.version'],
    ['target name', facts.target, "the target's name"],
  ];
  for (const [what, value, from] of parts) {
    if (!plainSegment(value)) {
      throw new ActionError(
        `target ${JSON.stringify(facts.target)}: its record would be written outside ${dir}/: the ${what} ${JSON.stringify(value)} (from ${from} in the bake file) ` +
          `is not a plain file name (${SEGMENT_HINT}); fix the bake file or regenerate it with \`factory generate\``,
      );
    }
  }
  return [dir, facts.productName, facts.productVersion, `${facts.target}.json`].join('/');
}
