import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ActionError } from '../../src/action/errors.js';
import { dockerfileOf, expand, selectTargets, targetFacts, trim, type BakePrinter } from '../../src/action/select.js';
import type { BakeDefinition } from '../../src/action/types.js';

const def = JSON.parse(fs.readFileSync(new URL('./fixtures/select-definition.json', import.meta.url), 'utf8')) as BakeDefinition;

/** A printer that answers like `bake --print` of the fixture: the named targets and groups, and counts calls. */
function printer(d: BakeDefinition = def): BakePrinter & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    async print(_files, names) {
      calls.push([...names]);
      for (const n of names)
        if (!d.target[n] && !d.group?.[n]) throw new ActionError(`input \`target\`: unknown bake target or group "${n}" in docker-bake.hcl`);
      return d;
    },
  };
}

const inputs = (target: string, tests: 'auto' | 'none' | string[] = 'auto') => ({ target, tests, files: ['docker-bake.hcl'], workdir: '/w' });

describe('selectTargets', () => {
  it.each<[string, string, 'auto' | 'none' | string[], string[], string[]]>([
    [
      'one image, auto tests',
      'llm-runtime-python3_11-amd64',
      'auto',
      ['llm-runtime-python3_11-amd64'],
      ['test-llm-runtime-python3_11-amd64', 'test-fragment-python-1_0_0-amd64'],
    ],
    [
      'a group: each arch its own isolated tests',
      'llm',
      'auto',
      ['llm-runtime-python3_11-amd64', 'llm-runtime-python3_11-arm64', 'tools-amd64'],
      ['test-llm-runtime-python3_11-amd64', 'test-fragment-python-1_0_0-amd64', 'test-fragment-python-1_0_0-arm64'],
    ],
    ['tests none', 'llm-runtime-python3_11-amd64', 'none', ['llm-runtime-python3_11-amd64'], []],
    ['named tests', 'tools-amd64', ['test-fragment-python-1_0_0-amd64'], ['tools-amd64'], ['test-fragment-python-1_0_0-amd64']],
  ])('%s', async (_name, target, tests, images, wantTests) => {
    const p = printer();
    const sel = await selectTargets(inputs(target, tests), {}, p);
    expect(sel.images).toEqual(images);
    expect(sel.tests).toEqual(wantTests);
    // One parse of the bake file per job: images and tests in one --print.
    expect(p.calls).toHaveLength(1);
  });

  it('gives each test to the images it belongs to, through the image-under-test context or the fragment', async () => {
    const sel = await selectTargets(inputs('llm'), {}, printer());
    expect(sel.owners.get('test-llm-runtime-python3_11-amd64')).toEqual(['llm-runtime-python3_11-amd64']);
    expect(sel.owners.get('test-fragment-python-1_0_0-arm64')).toEqual(['llm-runtime-python3_11-arm64']);
  });

  it('bakes from a definition of exactly the selected targets and the stages they pull in', async () => {
    const sel = await selectTargets(inputs('llm-runtime-python3_11-amd64'), {}, printer());
    expect(Object.keys(sel.def.target)).toEqual([
      'llm-runtime-python3_11-amd64',
      'stage-core-amd64-0123456789',
      'test-fragment-python-1_0_0-amd64',
      'test-llm-runtime-python3_11-amd64',
    ]);
    expect(sel.def.group).toBeUndefined();
  });

  it('falls back to no auto tests when a hand-written bake file has no tests group', async () => {
    const { tests: _t, ...groups } = def.group!;
    const p = printer({ ...def, group: groups });
    const sel = await selectTargets(inputs('tools-amd64'), {}, p);
    expect(sel.tests).toEqual([]);
    expect(p.calls).toEqual([['tools-amd64', 'tests'], ['tools-amd64']]);
  });

  it('refuses a target that names only tests', async () => {
    await expect(selectTargets(inputs('test-fragment-python-1_0_0-amd64'), {}, printer())).rejects.toThrow(/names only test targets/);
  });
});

describe('definition helpers', () => {
  it('expands nested groups once, in order', () => {
    expect(expand(def, 'all')).toEqual(['llm-runtime-python3_11-amd64', 'llm-runtime-python3_11-arm64', 'tools-amd64']);
    expect(expand(def, 'tools-amd64')).toEqual(['tools-amd64']);
    expect(expand(def, 'loop')).toEqual([]);
  });

  it('reads the record facts from the labels the generator writes', () => {
    expect(targetFacts('llm-runtime-python3_11-amd64', def.target['llm-runtime-python3_11-amd64']!)).toEqual({
      target: 'llm-runtime-python3_11-amd64',
      productName: 'llm-runtime',
      productVersion: '1.4.0',
      variant: 'python3.11',
      platform: 'linux/amd64',
      templateRef: 'debian@1.0.0',
      fragmentRefs: ['hardening@1.0.0', 'python@1.0.0'],
      baseImage: 'r/base/debian:bookworm@sha256:ab',
      tags: ['r/llm-runtime:1.4.0-python3.11-amd64'],
    });
    expect(targetFacts('tools-amd64', def.target['tools-amd64']!)).toMatchObject({
      productName: 'tools',
      productVersion: '2.0.0',
      variant: 'default',
      fragmentRefs: [],
    });
  });

  it('trims to roots and their target: contexts', () => {
    expect(Object.keys(trim(def, ['test-llm-runtime-python3_11-amd64']).target)).toEqual([
      'llm-runtime-python3_11-amd64',
      'stage-core-amd64-0123456789',
      'test-llm-runtime-python3_11-amd64',
    ]);
  });

  it('resolves the Dockerfile against the context', () => {
    expect(dockerfileOf(def.target['llm-runtime-python3_11-amd64']!)).toBe('build/llm-runtime/1.4.0/python3.11/Dockerfile');
    expect(dockerfileOf(def.target['tools-amd64']!)).toBe('sub/Dockerfile');
    expect(dockerfileOf({})).toBeUndefined();
  });
});
