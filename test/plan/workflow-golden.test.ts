// Golden copy of the workflow generated from the plan fixture factory: any change to the
// generated YAML shows up as a diff of test/plan/golden/ in review. Regenerate with
// UPDATE_GOLDEN=1 npx vitest run test/plan/workflow-golden.test.ts
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateWorkflows } from '../../generators/workflow.js';
import { FACTORY_TREES, loadFactory } from './workflow-factories.js';

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden/plan-fixture');

describe('golden workflow of the plan fixture', () => {
  it('matches test/plan/golden/plan-fixture byte for byte', async () => {
    const files = generateWorkflows(await loadFactory(FACTORY_TREES['plan-fixture']!));
    for (const f of files) {
      const golden = path.join(GOLDEN, f.path);
      if (process.env.UPDATE_GOLDEN) {
        fs.mkdirSync(path.dirname(golden), { recursive: true });
        fs.writeFileSync(golden, f.text);
      }
      expect(f.text, `${f.path} differs from ${golden}; if intended, run with UPDATE_GOLDEN=1`).toBe(fs.readFileSync(golden, 'utf8'));
    }
  });
});
