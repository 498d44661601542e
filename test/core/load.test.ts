import { describe, expect, it } from 'vitest';
import { filesFrom, patch, readGood, shuffled, textOf } from './helpers.js';
import { load, loadDetailed } from '../../src/core/load.js';
import type { SourceFile } from '../../src/core/types.js';

const PRODUCT = `kind: Product
name: app
version: 1.0.0
manifest: app@1.0.0
image: factory/app
`;

function diag(files: SourceFile[]) {
  return load(files).diagnostics.map((d) => ({
    code: d.code,
    field: d.field,
    at: d.location && `${d.location.file}:${d.location.line}:${d.location.column}`,
    message: d.message,
    hint: d.hint,
  }));
}

describe('load: the good fixture', () => {
  it('loads every document with defaults applied and no diagnostics', async () => {
    const { factory, diagnostics } = load(await readGood());
    expect(diagnostics).toEqual([]);
    expect(factory.products.map((p) => `${p.doc.name}@${p.doc.version}`)).toEqual(['py-app@1.0.0', 'tools@2.1.0']);
    expect(factory.manifests.map((m) => m.doc.name)).toEqual(['py-app', 'tools']);
    expect(factory.pools.map((p) => [p.doc.name, p.doc.accelerator, p.doc['max-parallel']])).toEqual([
      ['amd64', 'cpu', 4],
      ['arm64', 'cpu', 4],
    ]);
    const tools = factory.products.find((p) => p.doc.name === 'tools')!;
    expect(tools.doc.platforms).toEqual(['linux/amd64', 'linux/arm64']);
    expect(tools.doc.accelerator).toBe('cpu');
    expect(factory.templates.map((t) => [t.dir, t.dockerfile.path])).toEqual([['templates/debian/1.0.0', 'templates/debian/1.0.0/Dockerfile.ejs']]);
    const app = factory.fragments.find((f) => f.meta.doc.name === 'app')!;
    expect(app.files.map((f) => f.path)).toEqual(['fragments/app/1.0.0/files/hello']);
    expect(app.allFiles.map((f) => f.path)).toEqual([
      'fragments/app/1.0.0/Dockerfile.ejs',
      'fragments/app/1.0.0/files/hello',
      'fragments/app/1.0.0/fragment.yaml',
    ]);
    expect(app.meta.doc.requires).toEqual(['python']);
    expect(factory.lock?.doc.fragments['app@1.0.0']?.digest).toBe(app.digest);
  });

  it('locates fields of loaded documents', async () => {
    const { factory } = load(await readGood());
    const m = factory.manifests.find((x) => x.doc.name === 'py-app')!;
    expect(m.locate(['fragments', 2])).toEqual({ file: 'manifests/py-app.yaml', line: 22, column: 5 });
    expect(m.location).toEqual({ file: 'manifests/py-app.yaml', line: 15, column: 1 });
  });

  it('gives the same result whatever the order of the files', async () => {
    const files = await readGood();
    const ref = load(files).factory;
    for (const seed of [1, 2, 3]) {
      const f = load(shuffled(files, seed)).factory;
      expect(f.products.map((p) => p.file + p.doc.name)).toEqual(ref.products.map((p) => p.file + p.doc.name));
      expect(f.fragments.map((x) => [x.dir, x.digest])).toEqual(ref.fragments.map((x) => [x.dir, x.digest]));
      expect(f.templates.map((x) => x.digest)).toEqual(ref.templates.map((x) => x.digest));
    }
  });
});

describe('load: problems', () => {
  it('reports a nested unknown field at its key with the closest allowed name', () => {
    const files = filesFrom({ 'manifests/p.yaml': `${PRODUCT}tests:\n  - name: t\n    command: 'true'\n    stdout: { contain: ok }\n` });
    expect(diag(files)).toEqual([
      expect.objectContaining({
        code: 'unknown-field',
        field: 'tests[0].stdout.contain',
        at: 'manifests/p.yaml:9:15',
        hint: 'did you mean "contains"? allowed fields: contains, matches',
      }),
    ]);
  });

  it('reports the closest test shape, not "invalid input"', () => {
    const files = filesFrom({ 'manifests/p.yaml': `${PRODUCT}tests:\n  - name: t\n    command: 'true'\n    exit: one\n` });
    expect(diag(files)).toEqual([
      expect.objectContaining({ code: 'schema', field: 'tests[0].exit', at: 'manifests/p.yaml:9:11', message: 'expected a number, got a string' }),
    ]);
  });

  it('names a missing required field at the document', () => {
    const files = filesFrom({ 'manifests/p.yaml': `kind: Pool\nname: x\nplatform: linux/amd64\n` });
    expect(diag(files)).toEqual([
      expect.objectContaining({
        code: 'schema',
        field: 'runs-on',
        at: 'manifests/p.yaml:1:1',
        message: 'missing required field "runs-on" in Pool',
        hint: 'add "runs-on:"',
      }),
    ]);
  });

  it('reports every problem of every document of every file in one run', () => {
    const files = filesFrom({
      'manifests/a.yaml': `${PRODUCT}colour: red\n---\nkind: Pool\nname: Bad Name\nplatform: linux/amd64\nruns-on: x\n`,
      'manifests/b.yaml': 'kind: Base\nname: b\nimage: "UPPER"\n---\nkind: Nope\n',
    });
    expect(diag(files).map((d) => `${d.at} ${d.code} ${d.field ?? ''}`)).toEqual([
      'manifests/a.yaml:6:1 unknown-field colour',
      'manifests/a.yaml:9:7 schema name',
      'manifests/b.yaml:3:8 schema image',
      'manifests/b.yaml:5:7 unknown-kind kind',
    ]);
  });

  it('strips a UTF-8 BOM and refuses invalid UTF-8', () => {
    const bom = filesFrom({ 'manifests/p.yaml': `\ufeff${PRODUCT}` });
    expect(load(bom).factory.products).toHaveLength(1);
    const bad: SourceFile[] = [{ path: 'manifests/p.yaml', bytes: new Uint8Array([0x6b, 0xff, 0xfe]) }];
    expect(diag(bad)).toEqual([expect.objectContaining({ code: 'encoding', at: 'manifests/p.yaml:1:2' })]);
  });

  it('reads .yaml and .yml under manifests/ and ignores other files there', () => {
    const files = filesFrom({ 'manifests/sub/p.yml': PRODUCT, 'manifests/README.md': '# not yaml: {' });
    const r = load(files);
    expect(r.diagnostics).toEqual([]);
    expect(r.factory.products.map((p) => p.file)).toEqual(['manifests/sub/p.yml']);
  });

  it('wants one document of the right kind in template.yaml and fragment.yaml', async () => {
    const good = await readGood();
    const files = patch(good, {
      'templates/debian/1.0.0/template.yaml': textOf(good, 'templates/debian/1.0.0/template.yaml').replace('kind: Template', 'kind: Fragment'),
      'fragments/tools/1.0.0/fragment.yaml': `${textOf(good, 'fragments/tools/1.0.0/fragment.yaml')}---\nkind: Fragment\n`,
    });
    expect(diag(files).map((d) => `${d.at} ${d.code}`)).toEqual([
      'fragments/tools/1.0.0/fragment.yaml:11:1 extra-document',
      'templates/debian/1.0.0/template.yaml:1:7 unknown-kind',
    ]);
  });

  it('does not follow links: a link outside a version dir is refused, one inside is hashed', async () => {
    const good = await readGood();
    const link = (p: string, to: string): SourceFile => ({ path: p, bytes: new Uint8Array(), link: to });
    const inside = [...good, link('fragments/app/1.0.0/files/hi', 'hello')];
    expect(load(inside).diagnostics).toEqual([]);
    const before = load(good).factory.fragments.find((f) => f.dir === 'fragments/app/1.0.0')!.digest;
    const after = load(inside).factory.fragments.find((f) => f.dir === 'fragments/app/1.0.0')!;
    expect(after.digest).not.toBe(before);
    expect(after.files.map((f) => f.path)).toContain('fragments/app/1.0.0/files/hi');

    const outside = [...good, link('manifests/extra.yaml', '/etc/passwd'), link('fragments/app/1.0.0/files/x', '../../../../../x')];
    expect(diag(outside).map((d) => `${d.at} ${d.code}`)).toEqual(['fragments/app/1.0.0/files/x:1:1 path-escape', 'manifests/extra.yaml:1:1 symlink']);
  });

  it('tells the resolver which ids failed to load', () => {
    const files = filesFrom({
      'manifests/p.yaml': `${PRODUCT.replace('image: factory/app', 'image: 1')}---\nkind: Base\nname: deb\nimage: X\n`,
      'fragments/a/1.0.0/fragment.yaml': 'kind: Fragment\nname: a\nversion: 1.0.0\nslot: core\ntests: []\n',
      'fragments/a/1.0.0/Dockerfile.ejs': 'RUN true\n',
    });
    expect(loadDetailed(files).failed.list()).toEqual(['base:deb', 'fragment:a@1.0.0', 'product:app@1.0.0']);
  });
});

describe('load: NUL and U+0001, raw or written as YAML escapes', () => {
  const TEST = (body: string) => `${PRODUCT}tests:\n  - name: t\n${body}`;
  it.each([
    {
      what: 'a test name with "\\0"',
      yaml: TEST('    command: "true"\n').replace('name: t', 'name: "a\\0b"'),
      field: 'tests[0].name',
      at: 'manifests/p.yaml:7:11',
      char: 'U+0000',
    },
    { what: 'a command with "\\0"', yaml: TEST('    command: "echo \\0"\n'), field: 'tests[0].command', at: 'manifests/p.yaml:8:14', char: 'U+0000' },
    { what: 'a command with "\\x00"', yaml: TEST('    command: "echo \\x00"\n'), field: 'tests[0].command', at: 'manifests/p.yaml:8:14', char: 'U+0000' },
    {
      what: 'an env-equals value with "\\u0000"',
      yaml: TEST('    env-equals: { A: "x\\u0000" }\n'),
      field: 'tests[0].env-equals.A',
      at: 'manifests/p.yaml:8:22',
      char: 'U+0000',
    },
    { what: 'a label value with "\\x01"', yaml: `${PRODUCT}labels: { a: "x\\x01" }\n`, field: 'labels.a', at: 'manifests/p.yaml:6:14', char: 'U+0001' },
    { what: 'a raw NUL byte', yaml: `${PRODUCT}description: a\0b\n`, field: undefined, at: 'manifests/p.yaml:6:15', char: 'U+0000' },
  ])('refuses $what', ({ yaml, field, at, char }) => {
    const ds = diag(filesFrom({ 'manifests/p.yaml': yaml })).filter((d) => d.code === 'control-char');
    expect(ds).toEqual([expect.objectContaining({ field, at, message: expect.stringContaining(char) as unknown })]);
    expect(ds[0]!.hint).toBeTruthy();
  });

  it('refuses an env value with "\\0" in a fragment.yaml too', () => {
    const files = filesFrom({
      'fragments/a/1.0.0/fragment.yaml':
        'kind: Fragment\nname: a\nversion: 1.0.0\nslot: core\ntests:\n  - name: t\n    command: "true"\n    env: { X: "a\\0" }\n',
      'fragments/a/1.0.0/Dockerfile.ejs': 'RUN true\n',
    });
    expect(diag(files).filter((d) => d.code === 'control-char')).toEqual([
      expect.objectContaining({ field: 'tests[0].env.X', at: 'fragments/a/1.0.0/fragment.yaml:8:15' }),
    ]);
  });

  it('refuses a raw NUL byte in a snippet', () => {
    const files = filesFrom({
      'fragments/a/1.0.0/fragment.yaml': 'kind: Fragment\nname: a\nversion: 1.0.0\nslot: core\ntests:\n  - name: t\n    command: "true"\n',
      'fragments/a/1.0.0/Dockerfile.ejs': 'RUN echo \0\n',
    });
    expect(diag(files)).toEqual([expect.objectContaining({ code: 'control-char', at: 'fragments/a/1.0.0/Dockerfile.ejs:1:10' })]);
  });
});

describe('load: matches: is checked as the POSIX ERE grep -E will run', () => {
  const withMatch = (m: string) =>
    filesFrom({ 'manifests/p.yaml': `${PRODUCT}tests:\n  - name: t\n    command: 'true'\n    stdout: { matches: ${JSON.stringify(m)} }\n` });
  it.each([
    { pattern: 'a(b', message: 'is not a valid regular expression' },
    { pattern: '[a-', message: 'is not a valid regular expression' },
    { pattern: '*a', message: 'is not a valid regular expression' },
    { pattern: 'foo(?=bar)', message: '"(?"' },
    { pattern: '(?:a|b)', message: '"(?"' },
    { pattern: 'v\\d+', message: '"\\d"' },
    { pattern: '\\bword', message: '"\\b"' },
    { pattern: 'x\\1', message: '"\\1"' },
    { pattern: '[\\d]', message: 'backslash inside [...]' },
    { pattern: 'a.*?b', message: 'lazy quantifier "*?"' },
    { pattern: 'a{2}?', message: 'lazy quantifier "}?"' },
    { pattern: '', message: 'must not be empty' },
  ])('refuses $pattern', ({ pattern, message }) => {
    expect(diag(withMatch(pattern))).toEqual([
      expect.objectContaining({
        code: 'schema',
        field: 'tests[0].stdout.matches',
        at: 'manifests/p.yaml:9:24',
        message: expect.stringContaining(message) as unknown,
      }),
    ]);
  });

  it('names the dialect in the hint', () => {
    expect(diag(withMatch('v\\d+'))[0]!.hint).toContain('POSIX extended regular expression (grep -E');
  });

  it.each([
    '^ca [1-9][0-9]{2,}$',
    'uid=10001\\(app\\)',
    '^Python 3\\.[0-9]+',
    '[[:digit:]]+ [[:alpha:]_]',
    '[]a]',
    '[^]a]?',
    'a|b',
    'x+?'.slice(0, 2),
    '127[.]0[.]0[.]1:[0-9]+ is up',
    '\\*?',
  ])('accepts %s', (pattern) => {
    expect(diag(withMatch(pattern))).toEqual([]);
  });
});

describe('load: Pool runs-on is plain runner labels', () => {
  const pool = (runsOn: string) => filesFrom({ 'manifests/p.yaml': `kind: Pool\nname: x\nplatform: linux/amd64\nruns-on: ${runsOn}\n` });
  it.each([
    { runsOn: '"${{ github.event.inputs.runner }}"', field: 'runs-on', at: 'manifests/p.yaml:4:10' },
    { runsOn: '[self-hosted, "${{ secrets.X }}"]', field: 'runs-on[1]', at: 'manifests/p.yaml:4:24' },
    { runsOn: '"ubuntu\\nmalicious: true"', field: 'runs-on', at: 'manifests/p.yaml:4:10' },
    { runsOn: '[linux, "a b"]', field: 'runs-on[1]', at: 'manifests/p.yaml:4:18' },
    { runsOn: '"x\'y"', field: 'runs-on', at: 'manifests/p.yaml:4:10' },
    { runsOn: '""', field: 'runs-on', at: 'manifests/p.yaml:4:10' },
  ])('refuses $runsOn', ({ runsOn, field, at }) => {
    expect(diag(pool(runsOn))).toEqual([expect.objectContaining({ code: 'schema', field, at, message: expect.stringContaining('runner label') as unknown })]);
  });

  it.each(['ubuntu-24.04', 'ubuntu-24.04-arm', '[self-hosted, linux, x64, gpu]', 'my_runner.big'])('accepts %s', (runsOn) => {
    expect(diag(pool(runsOn))).toEqual([]);
  });
});

describe('load: include() in a template or snippet is refused at its position', () => {
  const META = 'kind: Fragment\nname: a\nversion: 1.0.0\nslot: core\ntests:\n  - name: t\n    command: "true"\n';
  it.each([
    { what: 'in <%-', snippet: "RUN true\n<%- include('/etc/passwd') %>\n", at: 'fragments/a/1.0.0/Dockerfile.ejs:2:5' },
    { what: 'in <%= with spaces', snippet: "<%= include ( 'x' ) %>\n", at: 'fragments/a/1.0.0/Dockerfile.ejs:1:5' },
    { what: 'in a multi-line tag', snippet: "<%\n  const x =\n    include('y')\n%>\n", at: 'fragments/a/1.0.0/Dockerfile.ejs:3:5' },
  ])('$what', ({ snippet, at }) => {
    const files = filesFrom({ 'fragments/a/1.0.0/fragment.yaml': META, 'fragments/a/1.0.0/Dockerfile.ejs': snippet });
    expect(diag(files)).toEqual([expect.objectContaining({ code: 'render-include', at, hint: expect.stringContaining('cannot include files') as unknown })]);
    expect(loadDetailed(files).failed.has('fragment', 'a@1.0.0')).toBe(true);
  });

  it('refuses it in a template too', () => {
    const files = filesFrom({
      'templates/t/1.0.0/template.yaml': 'kind: Template\nname: t\nversion: 1.0.0\nbase: deb\nslots: [core]\n',
      'templates/t/1.0.0/Dockerfile.ejs': "<%- slot('core') %>\n<%- include('/etc/shadow') %>\n",
    });
    expect(diag(files)).toEqual([expect.objectContaining({ code: 'render-include', at: 'templates/t/1.0.0/Dockerfile.ejs:2:5' })]);
  });

  it.each(["RUN echo include('x')\n", "<%% include('x') %>\n", '<%- args.include_dir %>\n', '<%# a comment about include() %>\n'])(
    'leaves text outside tags and non-calls alone: %j',
    (snippet) => {
      const files = filesFrom({ 'fragments/a/1.0.0/fragment.yaml': META, 'fragments/a/1.0.0/Dockerfile.ejs': snippet });
      expect(diag(files).filter((d) => d.code === 'render-include')).toEqual([]);
    },
  );
});
