import { describe, expect, it } from 'vitest';
import { contentDigest, textDigest, type DigestEntry } from '../../src/core/digest.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const files = (...xs: [string, string][]): DigestEntry[] => xs.map(([path, text]) => ({ path, bytes: enc(text) }));

describe('contentDigest', () => {
  const base = files(['fragment.yaml', 'kind: Fragment\n'], ['Dockerfile.ejs', 'RUN true\n'], ['files/a', 'a\n']);

  it('is sha256:<64 hex>', () => {
    expect(contentDigest(base)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('does not depend on the order of the files', () => {
    const d = contentDigest(base);
    expect(contentDigest([...base].reverse())).toBe(d);
    expect(contentDigest([base[1]!, base[2]!, base[0]!])).toBe(d);
  });

  // Locked digests are committed: a change of the algorithm would flag every version as changed.
  it('is stable across releases for a known input', () => {
    const known: DigestEntry[] = [
      { path: 'Dockerfile.ejs', bytes: enc('RUN true\n') },
      { path: 'files/a', bytes: new Uint8Array(), link: '../x' },
    ];
    expect(contentDigest(known)).toBe('sha256:1631ec259c60db8a52bcb053549d01753f5093d3ad1738a4b5b84c25340a5e7b');
  });

  it.each([
    ['a changed byte', files(['fragment.yaml', 'kind: Fragment\n'], ['Dockerfile.ejs', 'RUN false\n'], ['files/a', 'a\n'])],
    ['a renamed file', files(['fragment.yaml', 'kind: Fragment\n'], ['Dockerfile.ejs', 'RUN true\n'], ['files/b', 'a\n'])],
    ['an added file', [...base, ...files(['files/c', ''])]],
    ['a removed file', base.slice(0, 2)],
    ['a file turned into a link', [...base.slice(0, 2), { path: 'files/a', bytes: new Uint8Array(), link: 'a\n' }]],
  ])('changes with %s', (_what, changed) => {
    expect(contentDigest(changed)).not.toBe(contentDigest(base));
  });

  it('frames entries so that moving bytes between path and content changes the digest', () => {
    expect(contentDigest(files(['ab', 'c']))).not.toBe(contentDigest(files(['a', 'bc'])));
    expect(contentDigest(files(['a', 'b'], ['c', 'd']))).not.toBe(contentDigest(files(['a', 'b\nf 1 c 1\nd'])));
  });
});

describe('textDigest', () => {
  it('is the sha256 of the UTF-8 text', () => {
    expect(textDigest('')).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
