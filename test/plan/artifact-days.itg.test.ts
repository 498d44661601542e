// Artifact retention per product and per pool (issue 13): each leg's matrix entry carries the
// retention-days of its uploads, resolved from the Policy: productArtifactDays, else
// poolArtifactDays, else artifactDays; names that match no Product or Pool are refused.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planChanges } from '../../src/plan/index.js';
import { FactoryError } from '../../src/core/types.js';
import { repoFromFixture } from './repo.js';

const FIXTURE = path.resolve(__dirname, 'fixtures/factory');
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

function repoWithPolicy(policy: string): string {
  const { root } = repoFromFixture(FIXTURE, { write: { 'manifests/policy.yaml': `kind: Policy\nretention:\n${policy}` } });
  roots.push(root);
  return root;
}

describe('artifact-days of the build matrix', () => {
  it('is the product setting, else the pool setting, else artifactDays', async () => {
    const root = repoWithPolicy('  artifactDays: 5\n  poolArtifactDays:\n    arm64: 2\n  productArtifactDays:\n    tools: 30\n');
    const plan = await planChanges({ repoRoot: root, all: true });
    const days = Object.values(plan.matrices)
      .flatMap((m) => m.include)
      .map((e) => [e.target, e['artifact-days']] as const);
    expect(days.length).toBeGreaterThan(3);
    for (const [target, d] of days) {
      const expected = target.startsWith('tools-') ? 30 : target.endsWith('-arm64') ? 2 : 5;
      expect([target, d]).toEqual([target, expected]);
    }
  });

  it('refuses a product name no Product document defines, located', async () => {
    const root = repoWithPolicy('  productArtifactDays:\n    toolz: 30\n');
    const err = await planChanges({ repoRoot: root, all: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FactoryError);
    const d = (err as FactoryError).diagnostics.find((x) => x.code === 'unknown-product')!;
    expect(d).toMatchObject({ field: 'retention.productArtifactDays.toolz', location: { file: 'manifests/policy.yaml', line: 4 } });
    expect(d.message).toBe('retention.productArtifactDays names product "toolz", which no Product document defines');
    expect(d.hint).toContain('tools');
  });
});
