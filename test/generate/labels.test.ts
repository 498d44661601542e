// Product label values are free text (issue 14): a maintainer's "Name <mail>" with spaces,
// quotes, $ and %{ must reach the image labels verbatim through the generated bake file, which
// the real buildx reads; line breaks are refused at the label with a located error.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../../generators/index.js';
import { buildFactory } from '../../src/core/index.js';
import { productBakeFile } from '../../src/core/ids.js';
import { BUILDX } from '../golden/buildx.js';
import { patch, readGood, textOf } from '../core/helpers.js';

const MAINTAINER = 'Jupyter Project <jupyter@googlegroups.com>';
const TRICKY = 'say "hi" to ${USER} at 100% %{ok} \\ done';

async function withLabels(labelsYaml: string) {
  const files = await readGood();
  const text = textOf(files, 'manifests/py-app.yaml').replace('  org.example.team: platform\n', `  org.example.team: platform\n${labelsYaml}`);
  return buildFactory(patch(files, { 'manifests/py-app.yaml': text }));
}

describe('product label values', () => {
  it('with spaces, quotes, $ and %{ reach the bake targets verbatim (real buildx bake --print)', async () => {
    if (!BUILDX) throw new Error('buildx not found: run `bash scripts/sandbox.sh up` (installs it) or set BUILDX_BIN');
    const { factory, diagnostics } = await withLabels(`  maintainer: ${MAINTAINER}\n  org.example.note: '${TRICKY.replace(/'/g, "''")}'\n`);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-labels-'));
    try {
      const outputs = generate(factory!);
      for (const o of outputs) {
        fs.mkdirSync(path.join(dir, path.dirname(o.path)), { recursive: true });
        fs.writeFileSync(path.join(dir, o.path), o.text);
      }
      const target = factory!.targets.find((t) => t.product.product.doc.name === 'py-app')!;
      for (const file of ['docker-bake.hcl', productBakeFile({ name: 'py-app', version: '1.0.0' })]) {
        const printed = JSON.parse(
          execFileSync(BUILDX, ['bake', '-f', file, '--print', target.name], {
            cwd: dir,
            encoding: 'utf8',
            env: { ...process.env, BUILDX_BUILDER: '', REGISTRY: 'registry.test:5000/acme' },
            stdio: ['ignore', 'pipe', 'pipe'],
          }),
        ) as { target: Record<string, { labels: Record<string, string> }> };
        // --print writes a bake file itself (JSON bake files interpolate too), so it keeps bake's
        // own escapes of a literal "${" and "%{"; undo exactly those to compare with the source.
        const labels = Object.fromEntries(
          Object.entries(printed.target[target.name]!.labels).map(([k, v]) => [k, v.replaceAll('$${', '${').replaceAll('%%{', '%{')]),
        );
        expect(labels).toMatchObject({ maintainer: MAINTAINER, 'org.example.note': TRICKY, 'org.example.team': 'platform' });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['a line break', '  maintainer: "Jupyter\\nProject"\n', 'must be one line of text'],
    ['a tab', '  maintainer: "a\\tb"\n', 'must be one line of text'],
    ['over 4096 characters', `  maintainer: ${'x'.repeat(4097)}\n`, 'at most 4096 characters'],
  ])('with %s are refused at the label, located', async (_, yaml, message) => {
    const { diagnostics } = await withLabels(yaml);
    const errors = diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain(message);
    expect(errors[0]!.location).toMatchObject({ file: 'manifests/py-app.yaml', line: 11 });
    expect(errors[0]!.field).toBe('labels.maintainer');
  });
});
