// Every generated file of the factory, from one resolved factory. Pure: the CLI writes them.
import type { OutputFile, ResolvedFactory } from '../src/core/types.js';
import { generateBuildFiles } from './build-files.js';
import { generateSchemas } from './schema.js';
import { generateWorkflows } from './workflow.js';

/** Directories whose every file is generated: files there that we no longer produce are stale. */
export const GENERATED_DIRS = ['build/'] as const;

export function generate(factory: ResolvedFactory): OutputFile[] {
  const files = [...generateBuildFiles(factory), ...generateWorkflows(factory), ...generateSchemas()];
  const seen = new Set<string>();
  for (const f of files) {
    // Two generators claiming one path is a bug in the generators, not a user error.
    if (seen.has(f.path)) throw new Error(`internal: two generators produced ${f.path}`);
    seen.add(f.path);
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
