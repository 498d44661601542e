import { describe, expect, it } from 'vitest';
import { bindMounts, copySources, lexDockerfile } from '../../src/core/dockerfile.js';

/** keyword@line:column and the args of each instruction. */
function shape(text: string): string[] {
  return lexDockerfile(text).instructions.map((i) => `${i.keyword}@${i.line}:${i.column} ${i.args}`);
}

describe('lexDockerfile', () => {
  it.each([
    { name: 'one instruction per line', text: 'RUN a\nCOPY x /y\n', want: ['RUN@1:1 a', 'COPY@2:1 x /y'] },
    { name: 'comments and blank lines are skipped', text: '# hi\n\n  # indented\nRUN a\n', want: ['RUN@4:1 a'] },
    { name: 'a continuation joins lines without a space', text: 'RUN a \\\n && b\n', want: ['RUN@1:1 a  && b'] },
    { name: 'comment and blank lines inside a continuation are dropped', text: 'RUN a \\\n# note\n\n  b\nENV X=1\n', want: ['RUN@1:1 a   b', 'ENV@5:1 X=1'] },
    { name: 'heredoc bodies are not instructions', text: 'RUN <<EOF\nRUNN x\nFROM y\nEOF\nUSER app\n', want: ['RUN@1:1 <<EOF', 'USER@5:1 app'] },
    {
      name: '<<- heredocs end at a tab-indented delimiter',
      text: 'COPY <<-"EOT" /x\n\tFROM text\n\tEOT\nUSER app\n',
      want: ['COPY@1:1 <<-"EOT" /x', 'USER@4:1 app'],
    },
    { name: 'two heredocs on one instruction', text: 'RUN <<A <<B\na\nA\nb\nB\nUSER app\n', want: ['RUN@1:1 <<A <<B', 'USER@6:1 app'] },
    { name: 'heredocs only for RUN, COPY and ADD', text: 'ENV X=<<EOF\nRUN a\n', want: ['ENV@1:1 X=<<EOF', 'RUN@2:1 a'] },
    { name: 'the escape directive changes the continuation character', text: '# escape=`\nRUN a `\n  b\nRUN c \\\n', want: ['RUN@2:1 a   b', 'RUN@4:1 c \\'] },
    { name: 'a line of only the escape character continues into the next', text: 'RUN a\n\\\nUSER u\n', want: ['RUN@1:1 a', 'USER@3:1 u'] },
    { name: 'nothing but continuations is no instruction', text: '\\\n \\\n', want: [] },
    { name: 'an indented keyword keeps its column', text: '  run x\n', want: ['run@1:3 x'] },
    { name: 'CRLF line ends', text: 'RUN a \\\r\n  b\r\nUSER u\r\n', want: ['RUN@1:1 a   b', 'USER@3:1 u'] },
  ])('$name', ({ text, want }) => {
    expect(shape(text)).toEqual(want);
  });

  it('reads parser directives until the first other line', () => {
    const l = lexDockerfile('# syntax=docker/dockerfile:1\n# check=skip=all\n# escape=\\\n\n# syntax=ignored\nRUN a\n');
    expect(l.directives.map((d) => `${d.name}=${d.value}@${d.line}`)).toEqual(['syntax=docker/dockerfile:1@1', 'check=skip=all@2', 'escape=\\@3']);
  });

  it('keeps the position of every word, on continued lines too', () => {
    const [ins] = lexDockerfile('COPY --chmod=0755 \\\n    files/a  files/b /dst/\n').instructions;
    expect(ins!.words.map((w) => `${w.value}@${w.line}:${w.column}`)).toEqual(['--chmod=0755@1:6', 'files/a@2:5', 'files/b@2:14', '/dst/@2:22']);
    expect(copySources(ins!).map((w) => w.value)).toEqual(['files/a', 'files/b']);
    expect(ins!.continuations).toEqual([{ line: 1, column: 19 }]);
    expect(ins!.lines).toEqual([1, 2]);
  });

  it('reads the JSON form, with positions inside the quotes', () => {
    const [ins] = lexDockerfile('COPY ["files/a b", "/dst"]\n').instructions;
    expect(copySources(ins!).map((w) => `${w.value}@${w.column}`)).toEqual(['files/a b@8']);
  });

  it('flags a continuation that runs into the end of the text', () => {
    const [ins] = lexDockerfile('RUN a \\\n').instructions;
    expect(ins!.openAtEnd).toBe(true);
  });

  it.each([
    { flag: '--mount=type=bind,source=files/x,target=/x', want: [{ source: 'files/x@1:30' }] },
    { flag: '--mount=src=files,target=/x', want: [{ source: 'files@1:17' }] },
    { flag: '--mount=type=bind,target=/x', want: [{ source: undefined }] },
    { flag: '--mount=type=bind,from=busybox,source=/bin,target=/b', want: [{ source: '/bin@1:43', from: 'busybox' }] },
    { flag: '--mount=type=cache,target=/root/.cache', want: [] },
  ])('RUN $flag', ({ flag, want }) => {
    const [ins] = lexDockerfile(`RUN ${flag} true\n`).instructions;
    expect(
      bindMounts(ins!).map((m) => ({
        source: m.source ? `${m.source.value}@${m.source.line}:${m.source.column}` : undefined,
        ...(m.from !== undefined ? { from: m.from } : {}),
      })),
    ).toEqual(want);
  });
});
