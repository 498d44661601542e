// Per-variant tags (issue 14): a `{ pattern, variants }` entry gives the plain {version} and
// latest to one variant only, which a pattern for all variants cannot (they would collide).
// Checked on the targets the resolver makes and on the tags the real buildx reads back.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../../generators/index.js';
import { buildFactory } from '../../src/core/index.js';
import { BUILDX } from '../golden/buildx.js';
import { patch, readGood, textOf } from '../core/helpers.js';

async function withTags(tags: string) {
  const files = await readGood();
  const text = textOf(files, 'manifests/py-app.yaml').replace(/^tags: .*$/m, `tags: ${tags}`);
  return buildFactory(patch(files, { 'manifests/py-app.yaml': text }));
}

describe('per-variant tags', () => {
  it('tag only the variants they name, per arch and as the published list (real buildx bake --print)', async () => {
    const { factory, diagnostics } = await withTags(
      "['{version}-{variant}', { pattern: '{version}', variants: [python3.12] }, { pattern: latest, variants: [python3.12] }]",
    );
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const merged = (name: string) => factory!.targets.find((t) => t.name === name)!.mergedTags;
    expect(merged('py-app-python3_11-amd64')).toEqual(['factory/py-app:1.0.0-python3.11']);
    expect(merged('py-app-python3_12-arm64')).toEqual(['factory/py-app:1.0.0-python3.12', 'factory/py-app:1.0.0', 'factory/py-app:latest']);

    if (!BUILDX) throw new Error('buildx not found: run `bash scripts/sandbox.sh up` (installs it) or set BUILDX_BIN');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-variant-tags-'));
    try {
      for (const o of generate(factory!)) {
        fs.mkdirSync(path.join(dir, path.dirname(o.path)), { recursive: true });
        fs.writeFileSync(path.join(dir, o.path), o.text);
      }
      const printed = JSON.parse(
        execFileSync(BUILDX, ['bake', '-f', 'docker-bake.hcl', '--print', 'py-app'], {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, BUILDX_BUILDER: '', REGISTRY: 'r.test' },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      ) as { target: Record<string, { tags: string[] }> };
      expect(printed.target['py-app-python3_11-amd64']!.tags).toEqual(['r.test/factory/py-app:1.0.0-python3.11-amd64']);
      expect(printed.target['py-app-python3_12-amd64']!.tags).toEqual([
        'r.test/factory/py-app:1.0.0-python3.12-amd64',
        'r.test/factory/py-app:1.0.0-amd64',
        'r.test/factory/py-app:latest-amd64',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    {
      what: 'an unknown variant',
      tags: "['{version}-{variant}', { pattern: latest, variants: [python3.13] }]",
      message: 'tag entry names variant "python3.13", which py-app@1.0.0 does not have',
      field: 'tags[1].variants[0]',
      hint: 'did you mean "python3.11" or "python3.12"?',
    },
    {
      what: 'a variant left without a tag',
      tags: '[{ pattern: latest, variants: [python3.12] }]',
      message: 'variant python3.11 of py-app@1.0.0 gets no tag',
      field: 'tags',
      hint: 'add a pattern for every variant',
    },
    {
      what: 'a plain pattern on every variant',
      tags: "['{version}-{variant}', '{version}']",
      message: 'tag "1.0.0" is produced by variants python3.11 and python3.12',
      field: 'tags[1]',
      hint: "give the tag to one variant: { pattern: '{version}', variants: [python3.11] }",
    },
  ])('$what is refused, located', async ({ tags, message, field, hint }) => {
    const { diagnostics } = await withTags(tags);
    const errors = diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ field, location: { file: 'manifests/py-app.yaml', line: 7 } });
    expect(errors[0]!.message).toContain(message);
    expect(errors[0]!.hint).toContain(hint);
  });
});
