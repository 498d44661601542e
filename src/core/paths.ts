// Relative path arithmetic shared by the loader (links) and the Dockerfile source checks.

/** Normalizes a relative path; undefined when it climbs above its start. */
export function normalize(path: string): string | undefined {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(seg);
  }
  return out.join('/');
}
