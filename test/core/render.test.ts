import { describe, expect, it } from 'vitest';
import { fragment, product, template } from '../golden/build-fixture.js';
import { insertMarkers, renderDockerfile, renderFragmentTestDockerfile, requiresClosure } from '../../src/core/render.js';
import { FactoryError, type Diagnostic, type FragmentSource } from '../../src/core/types.js';

const TPL = [
  '# syntax=docker/dockerfile:1',
  'ENV LANG=C.UTF-8',
  '',
  "<%- slot('security') %>",
  "<%- slot('core') %>",
  'WORKDIR /srv',
  "<%- slot('app') %>",
  'CMD ["serve"]',
  '',
].join('\n');

const hardening = fragment('hardening', '1.0.0', 'security', 'RUN chmod 0700 /root\n');
const bytes = new Uint8Array();
const python = withFiles(
  fragment(
    'python',
    '1.2.0',
    'core',
    [
      'ARG PYTHON_VERSION',
      '<% for (const p of ["python3", "python3-venv"]) { -%>',
      'RUN install <%= p %> <%= matrix.python %>',
      '<% } -%>',
      'COPY <%= fragment.files %>/pip.conf /etc/pip.conf',
      'COPY --chmod=0644 files/a ./files/b files/',
      '',
    ].join('\n'),
    { requires: ['hardening'] },
  ),
  ['files/pip.conf', 'files/a', 'files/b'],
);
const server = fragment('server', '2.0.0', 'app', 'RUN echo <%= product %> <%= version %> <%= variant %> > /etc/server\n', {
  requires: ['python'],
});
const tools = fragment('tools', '1.0.0', 'core', 'RUN echo tools\n');

const variant = { name: 'python3.11', matrix: { python: '3.11' }, args: { PYTHON_VERSION: '3.11' } };
const llm = product({ name: 'llm', template: template('runtime', '1.0.0', TPL), fragments: [hardening, python, server], variants: [variant] });

/** The fragment with these files (relative to its directory) under files/. */
function withFiles(f: FragmentSource, paths: string[]): FragmentSource {
  const files = paths.map((p) => ({ path: `${f.dir}/${p}`, bytes }));
  return { ...f, files, allFiles: files };
}

function diagnosticsOf(fn: () => unknown): Diagnostic[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof FactoryError) return e.diagnostics;
    throw e;
  }
  throw new Error('expected a FactoryError');
}

describe('renderDockerfile', () => {
  const r = renderDockerfile(llm, variant);

  it('chains one named stage per fragment between base and final', () => {
    expect(r.path).toBe('build/llm/1.0.0/python3.11/Dockerfile');
    expect(r.stages).toEqual(['base', 'security-hardening', 'core-python', 'app-server', 'final']);
    expect(r.text).toBe(
      [
        '# syntax=docker/dockerfile:1',
        'ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim',
        'FROM ${BASE_IMAGE} AS base',
        'ENV LANG=C.UTF-8',
        '',
        'FROM base AS security-hardening',
        'RUN chmod 0700 /root',
        '',
        'FROM security-hardening AS core-python',
        'ARG PYTHON_VERSION',
        'RUN install python3 3.11',
        'RUN install python3-venv 3.11',
        'COPY fragments/python/1.2.0/files/pip.conf /etc/pip.conf',
        'COPY --chmod=0644 fragments/python/1.2.0/files/a fragments/python/1.2.0/files/b files/',
        'WORKDIR /srv',
        '',
        'FROM core-python AS app-server',
        'RUN echo llm 1.0.0 python3.11 > /etc/server',
        'CMD ["serve"]',
        '',
        'FROM app-server AS final',
        'USER app',
        '',
      ].join('\n'),
    );
  });

  it('maps every rendered line to the file and line that wrote it (last marker wins, loops map to their body)', () => {
    const lines = r.text.split('\n');
    expect(r.sourceMap).toHaveLength(lines.length - 1);
    const at = (text: string) => {
      const i = lines.indexOf(text);
      const e = r.sourceMap[i]!;
      expect(e.line).toBe(i + 1);
      return `${e.file}:${e.sourceLine} ${e.origin}`;
    };
    const T = 'templates/runtime/1.0.0';
    expect(at('# syntax=docker/dockerfile:1')).toBe(`${T}/Dockerfile.ejs:1 runtime@1.0.0`);
    expect(at('FROM ${BASE_IMAGE} AS base')).toBe(`${T}/template.yaml:4 runtime@1.0.0`); // the `base:` field
    expect(at('ENV LANG=C.UTF-8')).toBe(`${T}/Dockerfile.ejs:2 runtime@1.0.0`);
    expect(at('FROM base AS security-hardening')).toBe('fragments/hardening/1.0.0/fragment.yaml:4 hardening@1.0.0'); // `slot:`
    expect(at('RUN chmod 0700 /root')).toBe('fragments/hardening/1.0.0/Dockerfile.ejs:1 hardening@1.0.0');
    expect(at('RUN install python3 3.11')).toBe('fragments/python/1.2.0/Dockerfile.ejs:3 python@1.2.0');
    expect(at('RUN install python3-venv 3.11')).toBe('fragments/python/1.2.0/Dockerfile.ejs:3 python@1.2.0');
    expect(at('COPY fragments/python/1.2.0/files/pip.conf /etc/pip.conf')).toBe('fragments/python/1.2.0/Dockerfile.ejs:5 python@1.2.0');
    expect(at('WORKDIR /srv')).toBe(`${T}/Dockerfile.ejs:6 runtime@1.0.0`);
    expect(at('CMD ["serve"]')).toBe(`${T}/Dockerfile.ejs:8 runtime@1.0.0`);
    expect(at('USER app')).toBe(`${T}/template.yaml:8 runtime@1.0.0`); // the `user:` field
    expect(r.text).not.toContain('\u0001');
  });

  it('is byte-identical across runs', () => {
    expect(renderDockerfile(llm, variant)).toEqual(r);
  });

  it('escapes values for the Dockerfile/shell context', () => {
    const v = { name: 'x', matrix: { python: "3.11 && rm -rf / ; echo '" }, args: {} };
    const out = renderDockerfile(llm, v).text;
    expect(out).toContain(`RUN install python3 '3.11 && rm -rf / ; echo '\\'''`);
  });
});

describe('render errors become located diagnostics', () => {
  const cases: { name: string; file: string; text: string; line: number; code: string; message: RegExp; hint?: RegExp }[] = [
    {
      name: 'undefined variable',
      file: 'core',
      text: 'RUN a\nRUN <%= prodct %>\n',
      line: 2,
      code: 'render-undefined',
      message: /"prodct" is not defined/,
      hint: /did you mean "product"\?/,
    },
    {
      name: 'missing matrix key',
      file: 'core',
      text: 'RUN a\n\nRUN <%= matrix.cuda %>\n',
      line: 3,
      code: 'render-undefined',
      message: /matrix\.cuda is not defined/,
      hint: /matrix has no keys/,
    },
    {
      name: 'misspelt arg',
      file: 'core',
      text: 'RUN <%= args.PYTON_VERSION %>\n',
      line: 1,
      code: 'render-undefined',
      message: /args\.PYTON_VERSION/,
      hint: /did you mean "PYTHON_VERSION"/,
    },
    { name: 'JS syntax error', file: 'core', text: 'RUN a\n<% if (true { %>\nRUN b\n<% } %>\n', line: 2, code: 'render-syntax', message: /syntax error/ },
    { name: 'unclosed tag', file: 'core', text: 'RUN a\nRUN b\nRUN <%= args.X \n', line: 3, code: 'render-syntax', message: /never closed/ },
    { name: 'newline in a value', file: 'core', text: 'RUN a\nRUN <%= "x\\ny" %>\n', line: 2, code: 'render-value', message: /newline/ },
    { name: 'slot() in a snippet', file: 'core', text: "<%- slot('app') %>\n", line: 1, code: 'render-slot', message: /only be called from a template/ },
    { name: 'unknown slot', file: 'template', text: "FROM x\n<%- slot('gpu') %>\n", line: 2, code: 'render-slot', message: /slot\("gpu"\) is not a slot/ },
    {
      name: 'object printed',
      file: 'template',
      text: "<%= base %>\n<%- slot('security') %><%- slot('core') %><%- slot('app') %>\n",
      line: 1,
      code: 'render-value',
      message: /object/,
    },
  ];
  it.each(cases)('$name', (c) => {
    const frag = fragment('python', '1.2.0', 'core', c.file === 'core' ? c.text : 'RUN ok\n');
    const tpl = template('runtime', '1.0.0', c.file === 'template' ? c.text : TPL);
    const p = product({
      name: 'llm',
      template: tpl,
      fragments: [hardening, frag],
      variants: [{ name: 'default', matrix: {}, args: { PYTHON_VERSION: '3.11' } }],
    });
    const [d, ...rest] = diagnosticsOf(() => renderDockerfile(p, p.variants[0]!));
    expect(rest).toEqual([]);
    expect(d!.code).toBe(c.code);
    expect(d!.message).toMatch(c.message);
    expect(d!.location?.file).toBe(c.file === 'core' ? 'fragments/python/1.2.0/Dockerfile.ejs' : 'templates/runtime/1.0.0/Dockerfile.ejs');
    expect(d!.location?.line).toBe(c.line);
    expect(d!.hint).toBeTruthy();
    if (c.hint) expect(d!.hint).toMatch(c.hint);
    expect(d!.message).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('reports a slot the template never places', () => {
    const tpl = template('runtime', '1.0.0', "<%- slot('security') %>\n<%- slot('app') %>\n");
    const p = product({ name: 'llm', template: tpl, fragments: [hardening, tools] });
    const [d] = diagnosticsOf(() => renderDockerfile(p, p.variants[0]!));
    expect(d).toMatchObject({ code: 'render-slot', hint: "add a line <%- slot('core') %> to templates/runtime/1.0.0/Dockerfile.ejs" });
  });
});

describe('insertMarkers', () => {
  it('marks lines that start outside a tag only, keeping the line count', () => {
    const text = 'A\n<% if (x) {\n  y() } %>B\n<%% literal\nC';
    const marked = insertMarkers(text);
    expect(marked.split('\n')).toEqual(['\u00011\u0001A', '\u00012\u0001<% if (x) {', '  y() } %>B', '\u00014\u0001<%% literal', '\u00015\u0001C']);
  });
});

describe('renderFragmentTestDockerfile', () => {
  it('builds the fragment on the template base with its requires closure only', () => {
    const p = product({ name: 'llm', template: template('runtime', '1.0.0', TPL), fragments: [hardening, tools, python, server], variants: [variant] });
    const r = renderFragmentTestDockerfile(p, server);
    expect(r.path).toBe('build/fragments/server/2.0.0/Dockerfile');
    expect(r.stages).toEqual(['base', 'security-hardening', 'core-python', 'app-server', 'final']);
    expect(r.text).not.toContain('tools');
    // The template user is created by some fragment, maybe outside the closure: not switched to.
    expect(r.text).not.toContain('USER');
    expect(r.text.trimEnd().split('\n').at(-1)).toBe('FROM app-server AS final');
    expect(requiresClosure(p.fragments, hardening)).toEqual([hardening]);
  });
});

describe('include() in a template or snippet', () => {
  it.each([
    { what: 'a direct call in a snippet', snippet: "RUN true\n<%- include('/etc/passwd') %>\n", line: 2 },
    { what: 'an alias the loader cannot see', snippet: "RUN true\n<% const inc = include -%>\n<%- inc('../../../etc/passwd') %>\n", line: 3 },
  ])('is a located render-include error: $what', ({ snippet, line }) => {
    const bad = fragment('bad', '1.0.0', 'app', snippet);
    const p = product({ name: 'llm', template: template('runtime', '1.0.0', TPL), fragments: [hardening, python, bad], variants: [variant] });
    const ds = diagnosticsOf(() => renderDockerfile(p, variant));
    expect(ds).toEqual([
      expect.objectContaining({ code: 'render-include', location: expect.objectContaining({ file: 'fragments/bad/1.0.0/Dockerfile.ejs', line }) as unknown }),
    ]);
    expect(ds[0]!.message).toContain('is not allowed');
    expect(ds[0]!.hint).toContain('cannot include files');
  });
});
