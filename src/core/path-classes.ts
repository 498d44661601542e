// Which repository paths matter to change detection, and how. Shared by the plan (to classify
// the files of a git diff) and the workflow generator (the `paths:` filters of its triggers), so
// the workflow runs exactly when the plan could find something to build.
//
// Decisions (docs/change-detection.md explains them):
// - source: the factory's inputs. Their effect is computed precisely by comparing the parsed,
//   resolved factories of both revisions, document by document.
// - generated: docker-bake.hcl, build/**, the workflow, the JSON schemas. They are derived from
//   the sources; `factory generate --check` in CI fails when they disagree, so a change to them
//   is explained by a source change (mapped precisely) or by a generator change (factory-wide).
//   A rendered Dockerfile under build/<product>/<version>/<variant>/ still maps to that variant,
//   which keeps a hand edit from going unbuilt.
// - factory-wide: the code that turns sources into images (generators, core, the action and
//   its dependencies, the workflow itself). Any change may alter every target: all are affected,
//   and the build keys then skip the ones whose inputs did not actually change.

export type PathClass = 'source' | 'generated' | 'factory-wide' | 'other';

export const SOURCE_PATTERNS = ['manifests/**', 'templates/**', 'fragments/**', 'factory.lock.json'] as const;
export const GENERATED_PATTERNS = ['docker-bake.hcl', 'build/**'] as const;
export const FACTORY_WIDE_PATTERNS = [
  'generators/**',
  'src/core/**',
  'action.yml',
  'dist/**',
  'package.json',
  'package-lock.json',
  '.github/workflows/factory.yml',
  '.github/workflows/factory-pool.yml',
] as const;

/** The workflow's `on.<event>.paths`: every path the plan can map to a target. */
export const TRIGGER_PATHS: readonly string[] = [...SOURCE_PATTERNS, ...GENERATED_PATTERNS, ...FACTORY_WIDE_PATTERNS, '!**/*.test.ts'];

/** `dir/**` matches everything below dir; anything else matches itself only. */
export function matchesPattern(path: string, pattern: string): boolean {
  if (pattern.endsWith('/**')) return path.startsWith(pattern.slice(0, -2));
  return path === pattern;
}

export function classifyPath(path: string): PathClass {
  // Tests next to the code they test change no image.
  if (/\.test\.[cm]?[jt]s$/.test(path)) return 'other';
  if (FACTORY_WIDE_PATTERNS.some((p) => matchesPattern(path, p))) return 'factory-wide';
  if (SOURCE_PATTERNS.some((p) => matchesPattern(path, p))) return 'source';
  if (GENERATED_PATTERNS.some((p) => matchesPattern(path, p))) return 'generated';
  return 'other';
}
