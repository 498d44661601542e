import { describe, expect, it } from 'vitest';
import { patch, readGood, shuffled, textOf } from './helpers.js';
import { buildFactory } from '../../src/core/index.js';
import { load } from '../../src/core/load.js';
import { resolve, sortVersions } from '../../src/core/resolve.js';
import type { SourceFile } from '../../src/core/types.js';

async function good(): Promise<SourceFile[]> {
  return readGood();
}

function errorsOf(files: SourceFile[]) {
  const r = buildFactory(files);
  return r.diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => ({
      code: d.code,
      at: d.location && `${d.location.file}:${d.location.line}:${d.location.column}`,
      field: d.field,
      message: d.message,
      hint: d.hint,
    }));
}

/** The good tree with one manifest file replaced by `text` (the lock is left as is). */
async function withFile(p: string, text: string | ((old: string) => string)): Promise<SourceFile[]> {
  const files = await good();
  return patch(files, { [p]: typeof text === 'string' ? text : text(textOf(files, p)) });
}

describe('resolve: the good fixture', () => {
  it('expands products x variants x platforms into sorted, named targets', async () => {
    const r = buildFactory(await good());
    expect(r.diagnostics).toEqual([]);
    const f = r.factory!;
    expect(f.targets.map((t) => [t.name, t.id, t.platform, t.arch, t.accelerator, t.pool.doc.name])).toEqual([
      ['py-app-python3_11-amd64', 'py-app@1.0.0:python3.11', 'linux/amd64', 'amd64', 'cpu', 'amd64'],
      ['py-app-python3_11-arm64', 'py-app@1.0.0:python3.11', 'linux/arm64', 'arm64', 'cpu', 'arm64'],
      ['py-app-python3_12-amd64', 'py-app@1.0.0:python3.12', 'linux/amd64', 'amd64', 'cpu', 'amd64'],
      ['py-app-python3_12-arm64', 'py-app@1.0.0:python3.12', 'linux/arm64', 'arm64', 'cpu', 'arm64'],
      ['tools-default-amd64', 'tools@2.1.0:default', 'linux/amd64', 'amd64', 'cpu', 'amd64'],
      ['tools-default-arm64', 'tools@2.1.0:default', 'linux/arm64', 'arm64', 'cpu', 'arm64'],
    ]);
    expect(f.products.map((p) => p.id)).toEqual(['py-app@1.0.0', 'tools@2.1.0']);
    expect(f.pools.map((p) => p.doc.name)).toEqual(['amd64', 'arm64']);
  });

  it('computes per-arch and merged tags from the patterns', async () => {
    const f = buildFactory(await good()).factory!;
    const t = f.targets.find((x) => x.name === 'py-app-python3_12-arm64')!;
    expect(t.tags).toEqual(['factory/py-app:1.0.0-python3.12-arm64', 'factory/py-app:1.0-python3.12-arm64']);
    expect(t.mergedTags).toEqual(['factory/py-app:1.0.0-python3.12', 'factory/py-app:1.0-python3.12']);
    expect(f.targets.find((x) => x.name === 'tools-default-amd64')!.tags).toEqual(['factory/tools:2.1.0-amd64']);
  });

  it('resolves variants with args: fragment defaults < manifest args with {matrix.KEY}', async () => {
    const f = buildFactory(await good()).factory!;
    const py = f.products.find((p) => p.id === 'py-app@1.0.0')!;
    expect(py.variants).toEqual([
      { name: 'python3.11', matrix: { python: '3.11' }, args: { PYTHON_VERSION: '3.11' } },
      { name: 'python3.12', matrix: { python: '3.12' }, args: { PYTHON_VERSION: '3.12' } },
    ]);
    expect(py.fragments.map((x) => x.meta.doc.name)).toEqual(['hardening', 'python', 'app']);
    expect(py.template.meta.doc.name).toBe('debian');
    expect(py.base).toEqual({ name: 'debian', image: 'docker.io/library/debian:bookworm-slim' });
    // Without a manifest arg the fragment default applies.
    const files = await withFile('manifests/py-app.yaml', (t) => t.replace("args:\n  PYTHON_VERSION: '{matrix.python}'\n", ''));
    expect(
      buildFactory(files)
        .factory!.products.find((p) => p.id === 'py-app@1.0.0')!
        .variants.map((v) => v.args),
    ).toEqual([{ PYTHON_VERSION: '3.11' }, { PYTHON_VERSION: '3.11' }]);
  });

  it('applies a base pin from the lock only when it is for the same image', async () => {
    const pin = `sha256:${'cd'.repeat(32)}`;
    const files = await withFile('factory.lock.json', (t) =>
      t.replace('"bases": {}', `"bases": { "debian": { "image": "docker.io/library/debian:bookworm-slim", "digest": "${pin}" } }`),
    );
    expect(buildFactory(files).factory!.products[0]!.base.digest).toBe(pin);
    const stale = await withFile('factory.lock.json', (t) => t.replace('"bases": {}', `"bases": { "debian": { "image": "debian:old", "digest": "${pin}" } }`));
    expect(buildFactory(stale).factory!.products[0]!.base.digest).toBeUndefined();
  });

  it('is deterministic whatever the order of the files', async () => {
    const files = await good();
    const summary = (fs: SourceFile[]) => JSON.stringify(buildFactory(fs).factory!.targets.map((t) => [t.name, t.tags, t.variant, t.pool.doc.name]));
    const ref = summary(files);
    for (const seed of [7, 8, 9]) expect(summary(shuffled(files, seed))).toBe(ref);
  });

  it('resolves what loaded even without the load step succeeding everywhere', async () => {
    const { factory } = load(await good());
    const r = resolve(factory);
    expect(r.diagnostics).toEqual([]);
    expect(r.factory!.targets).toHaveLength(6);
  });
});

describe('resolve: problems', () => {
  it('refuses matrix points that collapse to one variant name', async () => {
    const files = await withFile('manifests/py-app.yaml', (t) =>
      t
        .replace("matrix:\n  python: ['3.11', '3.12']", "matrix:\n  a: ['1-b2', '1']\n  b: ['3', '2-b3']")
        .replace("PYTHON_VERSION: '{matrix.python}'", "PYTHON_VERSION: '{matrix.a}'"),
    );
    expect(errorsOf(files).map((e) => e.code)).toContain('variant-collision');
  });

  it('refuses a matrix that would explode', async () => {
    const values = `[${Array.from({ length: 17 }, (_, i) => `v${i}`).join(', ')}]`;
    const files = await withFile('manifests/py-app.yaml', (t) =>
      t.replace("  python: ['3.11', '3.12']", `  python: ['3.11']\n  a: ${values}\n  b: ${values}\n  c: ${values}`),
    );
    expect(errorsOf(files)).toEqual([expect.objectContaining({ code: 'matrix-too-large', at: 'manifests/py-app.yaml:24:3' })]);
  });

  it('reports a cycle of three once, at a requires entry', async () => {
    const f = (name: string, slot: string, req: string) =>
      `kind: Fragment\nname: ${name}\nversion: 1.0.0\nslot: ${slot}\nrequires: [${req}]\ntests:\n  - name: t\n    file: /x\n`;
    const files = patch(await good(), {
      'fragments/x/1.0.0/fragment.yaml': f('x', 'core', 'y'),
      'fragments/x/1.0.0/Dockerfile.ejs': 'RUN true\n',
      'fragments/y/1.0.0/fragment.yaml': f('y', 'core', 'z'),
      'fragments/y/1.0.0/Dockerfile.ejs': 'RUN true\n',
      'fragments/z/1.0.0/fragment.yaml': f('z', 'core', 'x'),
      'fragments/z/1.0.0/Dockerfile.ejs': 'RUN true\n',
    });
    expect(errorsOf(files)).toEqual([
      expect.objectContaining({ code: 'cycle', at: 'fragments/z/1.0.0/fragment.yaml:5:12', message: 'requirement cycle: x -> y -> z -> x' }),
    ]);
  });

  it.each([
    ['COPY files/hello /a', []],
    ['COPY files/ /opt/app/', []],
    ['COPY files/*.sh /opt/', []],
    ['COPY --from=builder /usr/bin/x /x', []],
    ['COPY --from=docker.io/library/busybox /bin/busybox /bin/', []],
    ['COPY <<EOF /etc/x\nhello\nEOF', []],
    ['COPY <%= fragment.files %>/hello /a', []],
    ['copy files/nope /a', ['missing-file:1:6']],
    ['COPY ["files/hello", "../x", "/dst/"]', ['path-escape:1:23']],
    ['RUN true\nADD --chown=app files/../../x /x', ['path-escape:2:17']],
    ['ADD http://example.com/x /x', ['remote-source:1:5']],
    ['COPY files/../fragment.yaml /x', ['path-escape:1:6']],
    ['RUN apk \\\n  add curl wget', []],
    ['RUN <<EOF\nADD curl wget\nEOF\nCOPY ../x /y', ['path-escape:4:6']],
    ['COPY files/hello \\\n  # a comment\n  ../../x /dst/', ['path-escape:3:3']],
    ['RUN true\r\nCOPY ../x /y\r', ['path-escape:2:6']],
  ])('checks COPY/ADD sources: %j', async (snippet, expected) => {
    const files = await withFile('fragments/app/1.0.0/Dockerfile.ejs', `${snippet}\n`);
    const errs = errorsOf(files).filter((e) => e.code !== 'lock-mismatch');
    expect(errs.map((e) => `${e.code}:${e.at!.split(':').slice(1).join(':')}`)).toEqual(expected);
    for (const e of errs) expect(e.at).toMatch(/^fragments\/app\/1.0.0\/Dockerfile.ejs:/);
  });

  it('refuses template COPY sources that leave the template directory', async () => {
    const files = await withFile('templates/debian/1.0.0/Dockerfile.ejs', (t) => `${t}COPY ../../../manifests/py-app.yaml /x\nADD https://example.com/x /y\n`);
    expect(
      errorsOf(files)
        .filter((e) => e.code !== 'lock-mismatch')
        .map((e) => `${e.code} ${e.at}`),
    ).toEqual(['path-escape templates/debian/1.0.0/Dockerfile.ejs:6:6', 'remote-source templates/debian/1.0.0/Dockerfile.ejs:7:5']);
  });

  it('refuses a template platform its base does not support', async () => {
    const files = patch(await good(), {
      'manifests/factory.yaml': textOf(await good(), 'manifests/factory.yaml').replace('platforms: [linux/amd64, linux/arm64]', 'platforms: [linux/amd64]'),
    });
    const codes = errorsOf(files).map((e) => `${e.code} ${e.at}`);
    expect(codes).toEqual([
      'unsupported-platform manifests/py-app.yaml:8:26',
      'unsupported-platform manifests/tools.yaml:2:7',
      'unsupported-platform templates/debian/1.0.0/template.yaml:5:7',
    ]);
  });

  it('refuses two products publishing the same tag', async () => {
    const files = await withFile('manifests/tools.yaml', (t) =>
      t.replace('image: factory/tools', 'image: factory/py-app').replace("tags: ['{version}']", "tags: ['1.0.0-python3.11']"),
    );
    expect(errorsOf(files)).toEqual([
      expect.objectContaining({ code: 'tag-collision', message: 'py-app@1.0.0 and tools@2.1.0 both publish factory/py-app:1.0.0-python3.11' }),
    ]);
  });

  it('expands {major} {minor} {patch} and {matrix.KEY} in tags', async () => {
    const files = await withFile('manifests/py-app.yaml', (t) =>
      t.replace("tags: ['{version}-{variant}', '{major}.{minor}-{variant}']", "tags: ['{major}.{minor}.{patch}-py{matrix.python}']"),
    );
    const f = buildFactory(files).factory!;
    expect(f.targets.filter((t) => t.product.id === 'py-app@1.0.0').map((t) => t.tags[0])).toEqual([
      'factory/py-app:1.0.0-py3.11-amd64',
      'factory/py-app:1.0.0-py3.11-arm64',
      'factory/py-app:1.0.0-py3.12-amd64',
      'factory/py-app:1.0.0-py3.12-arm64',
    ]);
  });
});

describe('sortVersions', () => {
  it('orders by semver, pre-releases first', () => {
    expect(sortVersions(['1.10.0', '1.2.0', '1.2.0-rc.1', '0.9.9', '1.2.1'])).toEqual(['0.9.9', '1.2.0-rc.1', '1.2.0', '1.2.1', '1.10.0']);
  });
});

describe('resolve: names and versions fit file systems and registries', () => {
  const long = (n: number) => 'a'.repeat(n);
  it.each([
    {
      what: 'a product name',
      file: 'manifests/tools.yaml',
      edit: (t: string) => t.replace('name: tools\nversion: 2.1.0\ndesc', `name: ${long(300)}\nversion: 2.1.0\ndesc`),
      at: 'manifests/tools.yaml:2:7',
      field: 'name',
      message: 'at most 63 characters',
    },
    {
      what: 'a product version',
      file: 'manifests/tools.yaml',
      edit: (t: string) => t.replace('version: 2.1.0\ndesc', `version: 2.1.0-${long(60)}\ndesc`),
      at: 'manifests/tools.yaml:3:10',
      field: 'version',
      message: 'at most 40 characters',
    },
    {
      what: 'a fragment name',
      file: 'fragments/tools/1.0.0/fragment.yaml',
      edit: (t: string) => t.replace('name: tools', `name: ${long(64)}`),
      at: 'fragments/tools/1.0.0/fragment.yaml:2:7',
      field: 'name',
      message: 'at most 63 characters',
    },
    {
      what: 'a template version',
      file: 'templates/debian/1.0.0/template.yaml',
      edit: (t: string) => t.replace('version: 1.0.0', `version: 1.0.0-${long(40)}`),
      at: 'templates/debian/1.0.0/template.yaml:3:10',
      field: 'version',
      message: 'at most 40 characters',
    },
    {
      what: 'a tag pattern',
      file: 'manifests/tools.yaml',
      edit: (t: string) => t.replace("tags: ['{version}']", `tags: ['${long(129)}']`),
      at: 'manifests/tools.yaml:7:8',
      field: 'tags[0]',
      message: 'at most 128 characters',
    },
    {
      what: 'an image path',
      file: 'manifests/tools.yaml',
      edit: (t: string) => t.replace('image: factory/tools', `image: factory/${long(250)}`),
      at: 'manifests/tools.yaml:6:8',
      field: 'image',
      message: 'at most 255 characters',
    },
    {
      what: 'a variant name',
      file: 'manifests/py-app.yaml',
      edit: (t: string) => t.replace("python: ['3.11', '3.12']", `python: ['3.11', '${long(130)}']`),
      at: 'manifests/py-app.yaml:24:3',
      field: 'matrix',
      message: 'limit 128',
    },
  ])('refuses $what that is too long, at its line', async ({ file, edit, at, field, message }) => {
    const errs = errorsOf(await withFile(file, edit));
    const hit = errs.find((e) => e.at === at && e.field === field);
    expect(hit, JSON.stringify(errs, null, 1)).toBeDefined();
    expect(hit!.message).toContain(message);
    expect(hit!.hint).toBeTruthy();
  });

  it('accepts names and versions at the limit', async () => {
    const files = await withFile('manifests/tools.yaml', (t) =>
      t.replace('name: tools\nversion: 2.1.0\ndesc', `name: ${long(63)}\nversion: 2.1.0-${long(34)}\ndesc`),
    );
    expect(errorsOf(files)).toEqual([]);
  });
});

describe('resolve: a manifest arg no fragment declares', () => {
  it.each([
    {
      what: 'a typo of a declared arg',
      args: "args:\n  PYTHON_VERSON: '{matrix.python}'\n",
      field: 'args.PYTHON_VERSON',
      at: 'manifests/py-app.yaml:26:18',
      hint: 'did you mean "PYTHON_VERSION"?',
    },
    {
      what: 'an arg next to a declared one',
      args: "args:\n  PYTHON_VERSION: '{matrix.python}'\n  EXTRA: x\n",
      field: 'args.EXTRA',
      at: 'manifests/py-app.yaml:27:10',
      hint: 'the fragments of this manifest declare: PYTHON_VERSION',
    },
  ])('is refused: $what', async ({ args, field, at, hint }) => {
    const errs = errorsOf(await withFile('manifests/py-app.yaml', (t) => t.replace(/args:\n[\s\S]*$/, args)));
    expect(errs).toEqual([expect.objectContaining({ code: 'unknown-arg', field, at, hint: expect.stringContaining(hint) as unknown })]);
  });

  it('says so when no fragment declares any arg', async () => {
    const errs = errorsOf(await withFile('manifests/tools.yaml', (t) => t.replace('  - tools@1.0.0\n', '  - tools@1.0.0\nargs:\n  FOO: bar\n')));
    expect(errs).toEqual([
      expect.objectContaining({
        code: 'unknown-arg',
        field: 'args.FOO',
        hint: expect.stringContaining('no fragment of this manifest declares any args') as unknown,
      }),
    ]);
  });

  it('is not judged when a fragment of the manifest did not load (its args are unknown)', async () => {
    const files = await withFile('manifests/py-app.yaml', (t) => t.replace('  - app@1.0.0\n', '  - nope@1.0.0\n').replace('PYTHON_VERSION:', 'OTHER:'));
    expect(errorsOf(files).map((e) => e.code)).toEqual(['unknown-fragment']);
  });
});

describe('resolve: build args the factory sets itself', () => {
  it.each([
    {
      what: 'in a manifest',
      file: 'manifests/py-app.yaml',
      edit: (t: string) => t.replace('  PYTHON_VERSION:', '  BASE_IMAGE: x\n  PYTHON_VERSION:'),
      at: 'manifests/py-app.yaml:26:15',
    },
    {
      what: 'in a fragment',
      file: 'fragments/python/1.0.0/fragment.yaml',
      edit: (t: string) => t.replace('args:\n', 'args:\n  SOURCE_DATE_EPOCH: "0"\n'),
      at: 'fragments/python/1.0.0/fragment.yaml:6:22',
    },
  ])('are refused $what, before generate', async ({ file, edit, at }) => {
    const errs = errorsOf(await withFile(file, edit)).filter((e) => e.code !== 'lock-mismatch');
    expect(errs).toEqual([expect.objectContaining({ code: 'reserved-arg', at, hint: 'rename the arg' })]);
  });
});
