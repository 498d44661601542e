// The core's front door: SourceFile[] in, ResolvedFactory (or every problem found) out.
import { dedupeDiagnostics, hasErrors, sortDiagnostics } from './diagnostics.js';
import { loadDetailed } from './load.js';
import { resolve } from './resolve.js';
import type { Diagnostic, ResolvedFactory, SourceFile } from './types.js';

/**
 * Loads and resolves a tree. Resolution runs even when loading found errors, over the
 * documents that did load, so one run reports as much as it can; the factory is only
 * returned when there is no error at all.
 */
export function buildFactory(files: SourceFile[]): { factory?: ResolvedFactory; diagnostics: Diagnostic[] } {
  const loaded = loadDetailed(files);
  const resolved = resolve(loaded.factory, { failed: loaded.failed });
  const diagnostics = sortDiagnostics(dedupeDiagnostics([...loaded.diagnostics, ...resolved.diagnostics]));
  if (hasErrors(diagnostics) || !resolved.factory) return { diagnostics };
  return { factory: resolved.factory, diagnostics };
}

export * from './diagnostics.js';
export * from './digest.js';
export * from './ids.js';
export { load, loadDetailed, normalize, LOCK_PATH, MARKER_CHAR, SNIPPET, TEMPLATE_META, FRAGMENT_META } from './load.js';
export { checkLock, computeLock, lockDigestErrors, serializeLock } from './lock.js';
export { resolve, sortVersions } from './resolve.js';
export { parseYaml, parseSingle, type YamlDoc } from './yaml.js';
export type * from './types.js';
export { FactoryError } from './types.js';
