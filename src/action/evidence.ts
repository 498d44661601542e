// Files the action reads from the workspace (bake inputs, lock, source maps) and writes into the
// evidence directory. Small, synchronous helpers: the action handles one target set per job.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSourceMap } from '../core/source-map-file.js';
import type { DockerfileInfo } from './error-report.js';

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function writeFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

export function writeJson(file: string, data: unknown): void {
  writeFile(file, JSON.stringify(data, null, 2) + '\n');
}

/** The rendered Dockerfile of a target and its source map (Dockerfile.map.json beside it). */
export function loadDockerfile(workdir: string, rel: string): DockerfileInfo | undefined {
  const abs = path.resolve(workdir, rel);
  if (!fs.existsSync(abs)) return undefined;
  const info: DockerfileInfo = { path: rel, text: fs.readFileSync(abs, 'utf8'), map: [] };
  const mapFile = `${abs}.map.json`;
  if (fs.existsSync(mapFile)) {
    try {
      info.map = readSourceMap(fs.readFileSync(mapFile, 'utf8')).entries;
    } catch {
      // A broken map only costs the source location; the report still names the Dockerfile line.
    }
  }
  return info;
}

export interface LockDigests {
  templates: Record<string, { digest?: string }>;
  fragments: Record<string, { digest?: string }>;
  /** Base pins by Base name; `seen` is when the base watch first saw the digest. */
  bases?: Record<string, { image?: string; digest?: string; seen?: string }>;
}

/**
 * Digests of the template and fragment versions (name@version -> sha256:...) from
 * factory.lock.json, the one file that pins them: the action never loads the factory itself, so
 * a job's cost does not grow with the factory. No lock (a bake file used on its own) leaves
 * the records without digests rather than failing the build.
 */
export function readDigests(workdir: string): LockDigests {
  const lock = readJson<Partial<LockDigests>>(path.join(workdir, 'factory.lock.json'));
  return { templates: { ...(lock?.templates ?? {}) }, fragments: { ...(lock?.fragments ?? {}) }, bases: { ...(lock?.bases ?? {}) } };
}

/** Finds results.json anywhere under a test target's export directory. */
export function findResults(dir: string): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const direct = path.join(dir, 'results.json');
  if (fs.existsSync(direct)) return direct;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory()) {
      const found = findResults(path.join(dir, e.name));
      if (found) return found;
    }
  }
  return undefined;
}
