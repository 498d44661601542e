import { describe, expect, it } from 'vitest';
import { hclTemplate } from '../../src/core/escape.js';
import { expr, list, map, str, writeBlock, writeHcl } from '../../generators/hcl.js';

describe('hcl writer', () => {
  it('writes attributes in the given order with lists and maps formatted one way', () => {
    const out = writeBlock({
      type: 'target',
      label: 'app-default-amd64',
      attrs: [
        ['context', str('.')],
        ['skipped', undefined],
        ['platforms', list([str('linux/amd64')])],
        ['tags', list([expr(hclTemplate([{ ref: 'REGISTRY' }, '/a:1'])), str('b')])],
        ['empty', list([])],
        [
          'args',
          map([
            ['B', str('2')],
            ['A', str('"1"')],
          ]),
        ],
        ['nothing', map([])],
      ],
    });
    expect(out).toBe(
      [
        'target "app-default-amd64" {',
        '  context = "."',
        '  platforms = ["linux/amd64"]',
        '  tags = [',
        '    "${REGISTRY}/a:1",',
        '    "b",',
        '  ]',
        '  empty = []',
        '  args = {',
        '    "B" = "2"',
        '    "A" = "\\"1\\""',
        '  }',
        '  nothing = {}',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('writes a header and separates blocks by one blank line', () => {
    const text = writeHcl(
      [
        { type: 'variable', label: 'X', attrs: [['default', str('1')]], comment: 'why X\n\nexists' },
        { type: 'group', label: 'default', attrs: [['targets', list([])]] },
      ],
      'Generated.',
    );
    expect(text).toBe('# Generated.\n\n# why X\n#\n# exists\nvariable "X" {\n  default = "1"\n}\n\ngroup "default" {\n  targets = []\n}\n');
  });

  it.each([['bad name'], ['1x'], ['a"b']])('refuses the attribute name %j', (name) => {
    expect(() => writeBlock({ type: 'target', label: 'x', attrs: [[name, str('v')]] })).toThrow(/internal/);
  });

  it('escapes labels and map keys', () => {
    expect(writeBlock({ type: 'target', label: 'a"${b}', attrs: [['labels', map([['k"${x}', str('v')]])]] })).toBe(
      'target "a\\"$${b}" {\n  labels = {\n    "k\\"$${x}" = "v"\n  }\n}\n',
    );
  });
});
