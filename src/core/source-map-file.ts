// Dockerfile.map.json, written beside every rendered Dockerfile by the generator and read by the
// action's error report to name the fragment file and line behind a failing Dockerfile line:
//   {
//     "version": 1,
//     "dockerfile": "build/py-app/1.0.0/python3.11/Dockerfile",
//     "files":   ["templates/debian/1.0.0/Dockerfile.ejs", ...],   source files, by first use
//     "origins": ["debian@1.0.0", "hardening@1.0.0", ...],          template/fragment refs
//     "lines":   [[renderedLine, fileIndex, sourceLine, originIndex], ...]  one per rendered line
//   }
// One writer (sourceMapJson) and one reader (readSourceMap) for the generator, the action and the tests.
import type { RenderedDockerfile, SourceMapEntry } from './types.js';

/** The compact, diff-friendly JSON of a Dockerfile's source map (format above). */
export function sourceMapJson(d: Pick<RenderedDockerfile, 'path' | 'sourceMap'>): string {
  const files: string[] = [];
  const origins: string[] = [];
  const indexOf = (arr: string[], s: string): number => {
    let i = arr.indexOf(s);
    if (i < 0) i = arr.push(s) - 1;
    return i;
  };
  const lines = d.sourceMap.map((e) => `    [${e.line}, ${indexOf(files, e.file)}, ${e.sourceLine}, ${indexOf(origins, e.origin)}]`);
  return (
    '{\n' +
    '  "version": 1,\n' +
    `  "dockerfile": ${JSON.stringify(d.path)},\n` +
    `  "files": ${JSON.stringify(files)},\n` +
    `  "origins": ${JSON.stringify(origins)},\n` +
    `  "lines": [\n${lines.join(',\n')}\n  ]\n` +
    '}\n'
  );
}

const isIndex = (v: unknown, list: readonly unknown[]): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < list.length;

/** Parses a Dockerfile.map.json; throws an Error saying what is wrong with anything that is not one. */
export function readSourceMap(text: string): { dockerfile: string; entries: SourceMapEntry[] } {
  const j = JSON.parse(text) as { version?: unknown; dockerfile?: unknown; files?: unknown; origins?: unknown; lines?: unknown };
  if (
    !j ||
    typeof j !== 'object' ||
    j.version !== 1 ||
    typeof j.dockerfile !== 'string' ||
    !Array.isArray(j.files) ||
    !Array.isArray(j.origins) ||
    !Array.isArray(j.lines)
  ) {
    throw new Error('not a version 1 Dockerfile.map.json');
  }
  const files = j.files as unknown[];
  const origins = j.origins as unknown[];
  const entries = (j.lines as unknown[]).map((tuple, i): SourceMapEntry => {
    const [line, f, sourceLine, o] = Array.isArray(tuple) ? (tuple as unknown[]) : [];
    if (!Number.isInteger(line) || !Number.isInteger(sourceLine) || !isIndex(f, files) || !isIndex(o, origins)) {
      throw new Error(`Dockerfile.map.json: lines[${i}] is not [renderedLine, fileIndex, sourceLine, originIndex]`);
    }
    return { line: line as number, file: String(files[f]), sourceLine: sourceLine as number, origin: String(origins[o]) };
  });
  return { dockerfile: j.dockerfile, entries };
}
