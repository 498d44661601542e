// Reader of the generator's Dockerfile.map.json (rendered Dockerfile line -> template or
// fragment file:line). Accepts the map as a bare array of entries or wrapped in an object, so the
// action does not break when the generator adds fields around the entries.
import type { SourceMapEntry } from '../core/types.js';

export function parseSourceMap(text: string): SourceMapEntry[] {
  const data: unknown = JSON.parse(text);
  const list = Array.isArray(data)
    ? data
    : data && typeof data === 'object'
      ? ((['lines', 'entries', 'sourceMap', 'map'] as const).map((k) => (data as Record<string, unknown>)[k]).find(Array.isArray) ?? [])
      : [];
  const entries: SourceMapEntry[] = [];
  // The generator's compact form (generators/build-files.ts): [line, fileIndex, sourceLine,
  // originIndex] tuples indexing the top-level "files" and "origins" lists.
  const table = (k: string): unknown[] => {
    const v = data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>)[k] : undefined;
    return Array.isArray(v) ? v : [];
  };
  const files = table('files');
  const origins = table('origins');
  for (const item of list as unknown[]) {
    if (Array.isArray(item)) {
      const [line, f, sourceLine, o] = item as unknown[];
      const file = files[Number(f)];
      if (!Number.isInteger(line) || !Number.isInteger(sourceLine) || typeof file !== 'string') continue;
      const origin = origins[Number(o)];
      entries.push({ line: line as number, file, sourceLine: sourceLine as number, origin: typeof origin === 'string' ? origin : '' });
      continue;
    }
    if (!item || typeof item !== 'object') continue;
    const e = item as Record<string, unknown>;
    const line = Number(e.line);
    const sourceLine = Number(e.sourceLine ?? e.source_line);
    if (!Number.isInteger(line) || !Number.isInteger(sourceLine) || typeof e.file !== 'string') continue;
    entries.push({ line, file: e.file, sourceLine, origin: typeof e.origin === 'string' ? e.origin : '' });
  }
  return entries;
}

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
