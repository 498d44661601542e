import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILDX, NO_BUILDX } from '../golden/buildx.js';
import { EscapeError, escapeDockerfile, hclString, hclTemplate, shellWord } from '../../src/core/escape.js';

// Deterministic "nasty string" generator: concatenations of the tokens that break quoting.
const TOKENS = [
  'a',
  'Z',
  '0',
  ' ',
  '\t',
  '$',
  '{',
  '}',
  '${',
  '%{',
  '$${',
  '%%{',
  '$$',
  '%',
  '\\',
  '\\\\',
  '"',
  "'",
  "'\\''",
  '`',
  '$(',
  ')',
  '#',
  '~',
  '*',
  '?',
  '[',
  '!',
  ';',
  '&',
  '|',
  '<',
  '>',
  'é',
  '日本',
  '😀',
  '\u00a0',
  '=',
  ',',
  '/',
  '-',
  'EOF',
];
const CONTROL = ['\n', '\r', '\u0000', '\u0001', '\u001b', '\u007f'];
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function nastyStrings(n: number, seed: number, tokens: readonly string[]): string[] {
  const r = rng(seed);
  const out: string[] = ['', ' ', "'", '"', '\\', '$', '${x}', '%{x}', '$${', '$$${x}', "it's", 'a b', '-rf', '--', '\\\n'.slice(0, 1)];
  while (out.length < n) {
    const len = 1 + Math.floor(r() * 8);
    let s = '';
    for (let i = 0; i < len; i++) s += tokens[Math.floor(r() * tokens.length)];
    out.push(s);
  }
  return out;
}

describe('shellWord / escapeDockerfile', () => {
  it.each([
    ['python3.11', 'python3.11'],
    ['docker.io/library/debian:bookworm-slim', 'docker.io/library/debian:bookworm-slim'],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
    ['$HOME', "'$HOME'"],
    ['', "''"],
    ['{a,b}', "'{a,b}'"],
    ['~root', "'~root'"],
  ])('%j -> %s', (input, expected) => {
    expect(shellWord(input)).toBe(expected);
  });

  it.each([['a\nb'], ['a\rb'], ['a\u0000b'], ['\u0001marker\u0001']])('refuses %j', (input) => {
    expect(() => shellWord(input)).toThrow(EscapeError);
  });

  it('prints numbers and arrays as words, refuses undefined and objects', () => {
    expect(escapeDockerfile(3.12)).toBe('3.12');
    expect(escapeDockerfile(['curl', 'ca certs'])).toBe("curl 'ca certs'");
    expect(() => escapeDockerfile(undefined)).toThrow(/does not exist/);
    expect(() => escapeDockerfile({ a: 1 })).toThrow(/object/);
  });

  it('refuses every string with a line break or control character', () => {
    for (const s of nastyStrings(300, 7, [...TOKENS, ...CONTROL])) {
      if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(s)) expect(() => shellWord(s), JSON.stringify(s)).toThrow(EscapeError);
      else expect(() => shellWord(s)).not.toThrow();
    }
  });

  // Property: for every accepted string, the shell reads the escaped word back as exactly one
  // argument equal to the input. Checked with the two shells the runner must support.
  const shells = [['dash'], ['busybox', 'sh']].filter(([bin]) => existsSync(`/usr/bin/${bin}`) || existsSync(`/bin/${bin}`));
  it.skipIf(shells.length === 0)('round-trips through dash and busybox sh', () => {
    const inputs = nastyStrings(500, 42, TOKENS);
    const script = `printf '%s\\0' ${inputs.map(shellWord).join(' ')}\n`;
    for (const [bin, ...args] of shells) {
      const out = execFileSync(bin!, [...args, '-c', script]);
      const words = out.toString('utf8').split('\0').slice(0, -1);
      expect(words, bin).toEqual(inputs);
    }
  });
});

describe('hclString / hclTemplate', () => {
  it.each([
    ['plain', '"plain"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['C:\\dir', '"C:\\\\dir"'],
    ['${REGISTRY}', '"$${REGISTRY}"'],
    ['%{ if x }', '"%%{ if x }"'],
    ['a\nb\tc', '"a\\nb\\tc"'],
    ['$$${x}', '"$$$${x}"'],
    ['\u0001', '"\\u0001"'],
  ])('%j -> %s', (input, expected) => {
    expect(hclString(input)).toBe(expected);
  });

  it('keeps a literal $ before an interpolation from forming an escape', () => {
    expect(hclTemplate(['a$', { ref: 'X' }])).toBe('"a${"$"}${X}"');
    expect(hclTemplate(['a$$', { ref: 'X' }, '/b'])).toBe('"a${"$$"}${X}/b"');
    expect(() => hclTemplate([{ ref: 'bad-name' }])).toThrow(/internal/);
  });

  // Property: the real bake parser reads every escaped string back unchanged, and a template
  // mixing nasty literals with a variable reads back as literal + the variable's value.
  it.skipIf(NO_BUILDX)('round-trips through buildx bake --print', () => {
    const inputs = nastyStrings(400, 99, [...TOKENS, '\n', '\r', '\u0001']);
    const templ = inputs.slice(0, 100);
    const hcl = [
      'variable "V" {\n  default = "vv"\n}',
      'target "t" {',
      '  labels = {',
      ...inputs.map((s, i) => `    ${hclString(`k${i}`)} = ${hclString(s)}`),
      '  }',
      // Lists are printed as they are; maps (labels, args, annotations) re-escaped, see below.
      `  tags = [${templ.map((s, i) => hclTemplate([`${i}|`, s, { ref: 'V' }, s])).join(', ')}]`,
      '}',
      '',
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'hcl-escape-'));
    try {
      writeFileSync(join(dir, 'docker-bake.hcl'), hcl);
      const out = execFileSync(BUILDX!, ['bake', '--print', '-f', 'docker-bake.hcl', 't'], {
        cwd: dir,
        env: { ...process.env, BUILDX_BAKE_GIT_AUTH_TOKEN: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const t = JSON.parse(out.toString()).target.t as { labels: Record<string, string>; tags: string[] };
      // `bake --print` writes labels/args/annotations re-escaped (buildx bake/bake.go
      // Target.MarshalJSON: `${` -> `$${`, `%{` -> `%%{`) so that its output parses back.
      const unprint = (v: string) => v.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
      inputs.forEach((s, i) => expect(unprint(t.labels[`k${i}`]!), JSON.stringify(s)).toBe(s));
      // Tags may come back de-duplicated and reordered: they carry their index.
      const tags = new Map(t.tags.map((v) => [Number(v.slice(0, v.indexOf('|'))), v.slice(v.indexOf('|') + 1)]));
      templ.forEach((s, i) => expect(tags.get(i), JSON.stringify(s)).toBe(`${s}vv${s}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
