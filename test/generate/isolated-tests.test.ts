// Isolated fragment tests run on a base that fits the fragment (issue 14): a fragment that
// cannot run on CPU (cuda-env) is tested on its host product's CUDA base, not on the Debian base
// its template names; CPU fragments keep the template's base whichever product hosts them.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planFragmentTests } from '../../generators/testrunner.js';
import { buildFactory } from '../../src/core/index.js';
import { fragmentTestTargetName } from '../../src/core/ids.js';
import { readTree } from '../../src/io/tree.js';
import { BUILDX } from '../golden/buildx.js';

const ROOT = path.resolve(__dirname, '../..');

describe('isolated fragment tests of the sample factory', async () => {
  const { factory } = buildFactory(await readTree(ROOT));
  const plans = new Map(planFragmentTests(factory!).map((p) => [p.ref, p]));

  it.each([
    { ref: 'cuda-env@1.0.0', base: 'cuda', accelerator: 'cuda', variable: 'BASE_CUDA' },
    { ref: 'python@1.0.0', base: 'debian', accelerator: 'cpu', variable: 'BASE_DEBIAN' },
    { ref: 'tini@1.0.0', base: 'debian', accelerator: 'cpu', variable: 'BASE_DEBIAN' },
  ])('$ref runs on $base ($accelerator), as the real buildx reads the bake file', ({ ref, base, accelerator, variable }) => {
    const plan = plans.get(ref)!;
    expect(plan, ref).toBeDefined();
    expect(plan.base.name).toBe(base);
    expect(plan.accelerator).toBe(accelerator);
    if (!BUILDX) throw new Error('buildx not found: run `bash scripts/sandbox.sh up` (installs it) or set BUILDX_BIN');
    const target = fragmentTestTargetName(plan.fragment.meta.doc, plan.platforms[0]!.arch);
    const env = {
      ...process.env,
      BUILDX_BUILDER: '',
      REGISTRY: 'registry.test:5000/acme',
      [variable]: `registry.test:5000/base/${base}@sha256:${'a'.repeat(64)}`,
    };
    const printed = JSON.parse(
      execFileSync(BUILDX, ['bake', '-f', 'docker-bake.hcl', '--print', target], { cwd: ROOT, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] }),
    ) as { target: Record<string, { args: Record<string, string> }> };
    expect(printed.target[target]!.args.BASE_IMAGE).toBe(env[variable]);
  });
});
