// The factories the workflow tests generate from: the repository's sample factory and the
// test fixtures (one without a GPU pool, one with a self-hosted GPU pool).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFactory, formatDiagnostics } from '../../src/core/index.js';
import type { ResolvedFactory } from '../../src/core/types.js';
import { readTree } from '../../src/io/tree.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '../..');

export const FACTORY_TREES: Record<string, string> = {
  sample: REPO_ROOT,
  'plan-fixture': path.join(here, 'fixtures/factory'),
  minimal: path.join(REPO_ROOT, 'test/fixtures/good/minimal'),
};

export async function loadFactory(root: string): Promise<ResolvedFactory> {
  const { factory, diagnostics } = buildFactory(await readTree(root));
  if (!factory) throw new Error(`${root} does not resolve:\n${formatDiagnostics(diagnostics)}`);
  return factory;
}
