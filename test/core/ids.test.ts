import { beforeAll, describe, expect, it } from 'vitest';
import { readGood } from './helpers.js';
import { archOf, formatId, parseId, resolveId, targetName, variantName } from '../../src/core/ids.js';
import { buildFactory } from '../../src/core/index.js';
import type { ResolvedFactory } from '../../src/core/types.js';

describe('parseId / formatId', () => {
  it.each([
    ['llm-runtime', { name: 'llm-runtime' }],
    ['llm-runtime@1.4.0', { name: 'llm-runtime', version: '1.4.0' }],
    ['llm-runtime@1.4.0:python3.11', { name: 'llm-runtime', version: '1.4.0', variant: 'python3.11' }],
    ['llm-runtime@1.4.0-rc.1:cuda12.4-python3.12', { name: 'llm-runtime', version: '1.4.0-rc.1', variant: 'cuda12.4-python3.12' }],
    ['a.b_c@0.0.1:default', { name: 'a.b_c', version: '0.0.1', variant: 'default' }],
  ])('parses %s', (id, parsed) => {
    expect(parseId(id)).toEqual(parsed);
    if ('version' in parsed) expect(formatId(parsed as { name: string; version: string })).toBe(id);
  });

  it.each(['', 'LLM@1.0.0', 'x@1.0', 'x@v1.0.0', 'x@1.0.0:', 'x@1.0.0+build', 'x@1.0.0:a b', '@1.0.0'])('rejects %j', (id) => {
    expect(parseId(id)).toBeUndefined();
  });
});

describe('names', () => {
  it.each([
    [{}, 'default'],
    [{ python: '3.11' }, 'python3.11'],
    [{ python: '3.12', cuda: '12.4' }, 'cuda12.4-python3.12'],
  ])('variantName(%j) = %s', (matrix, name) => {
    expect(variantName(matrix)).toBe(name);
  });

  it.each([
    ['llm-runtime', 'python3.11', 'amd64', 'llm-runtime-python3_11-amd64'],
    ['tools', 'default', 'arm64', 'tools-default-arm64'],
    ['a.b', 'x/y:z', 'amd64', 'a_b-x_y_z-amd64'],
  ])('targetName(%s, %s, %s) = %s', (p, v, a, name) => {
    expect(targetName(p, v, a)).toBe(name);
    expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ['linux/amd64', 'amd64'],
    ['linux/arm64', 'arm64'],
  ])('archOf(%s) = %s', (platform, arch) => {
    expect(archOf(platform)).toBe(arch);
  });
});

describe('resolveId', () => {
  let factory: ResolvedFactory;
  beforeAll(async () => {
    const r = buildFactory(await readGood());
    if (!r.factory) throw new Error(JSON.stringify(r.diagnostics));
    factory = r.factory;
  });

  it.each([
    ['py-app', 'py-app@1.0.0', undefined, 4],
    ['py-app@1.0.0', 'py-app@1.0.0', undefined, 4],
    ['py-app@1.0.0:python3.12', 'py-app@1.0.0', 'python3.12', 2],
    ['tools@2.1.0:default', 'tools@2.1.0', 'default', 2],
    ['py-app-python3_11-arm64', 'py-app@1.0.0', 'python3.11', 1],
  ])('%s designates %s (variant %s), %i targets', (id, product, variant, count) => {
    const r = resolveId(factory, id);
    if (!r.ok) throw new Error(r.diagnostic.message);
    expect(r.value.product.id).toBe(product);
    expect(r.value.variant?.name).toBe(variant);
    expect(r.value.targets).toHaveLength(count);
    for (const t of r.value.targets) expect(t.product.id).toBe(product);
  });

  it.each([
    ['py-ap@1.0.0', 'no product named "py-ap"', 'did you mean "py-app@1.0.0"'],
    ['py-app@9.9.9', 'no version 9.9.9 of product "py-app"', 'versions that exist: 1.0.0'],
    ['py-app@1.0.0:python3.13', 'has no variant "python3.13"', 'did you mean "py-app@1.0.0:python3.11" or "py-app@1.0.0:python3.12"'],
    ['Py App', 'is not an id', 'known ids: py-app@1.0.0, tools@2.1.0'],
  ])('%s is refused with close matches', (id, message, hint) => {
    const r = resolveId(factory, id);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostic.code).toBe('unknown-id');
    expect(r.diagnostic.message).toContain(message);
    expect(r.diagnostic.hint).toContain(hint);
  });
});
