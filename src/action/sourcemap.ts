// Look-ups in a rendered Dockerfile's source map (read with src/core/source-map-file.ts): the
// entry of a line, and the line of a step buildx named without a location.
import type { SourceMapEntry } from '../core/types.js';

export function lookup(map: readonly SourceMapEntry[], line: number): SourceMapEntry | undefined {
  return map.find((e) => e.line === line);
}

function norm(s: string): string {
  return s
    .replace(/\\\s*$/gm, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Finds the rendered Dockerfile line of a step named "[stage i/n] INSTRUCTION" when buildx did
 * not print a location (it only does for some errors): the first line after `FROM ... AS stage`
 * whose instruction (continuation lines joined) equals the step's, or starts with it when
 * BuildKit shortened the name.
 */
export function findStepLine(dockerfile: string, stage: string | undefined, instruction: string): number | undefined {
  const lines = dockerfile.split('\n');
  let start = 0;
  if (stage) {
    const re = new RegExp(`^\\s*FROM\\s+.*\\s+AS\\s+${stage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'i');
    const at = lines.findIndex((l) => re.test(l));
    if (at < 0) return undefined;
    // The FROM line itself is step 1/n of the stage.
    if (/^FROM\s/i.test(instruction)) return at + 1;
    start = at + 1;
  }
  const want = norm(instruction);
  for (let i = start; i < lines.length; i++) {
    if (stage && i > start && /^\s*FROM\s/i.test(lines[i]!)) break;
    let joined = lines[i]!;
    let j = i;
    while (/\\\s*$/.test(lines[j]!) && j + 1 < lines.length) joined += '\n' + lines[++j]!;
    const have = norm(joined);
    if (have === want || (want.length >= 20 && have.startsWith(want))) return i + 1;
  }
  return undefined;
}
