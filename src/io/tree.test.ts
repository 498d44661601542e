import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffOutputs, readTree, writeOutputs } from './tree.js';

let root: string;
let outside: string;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'factory-tree-'));
  outside = await fs.mkdtemp(path.join(os.tmpdir(), 'factory-outside-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
  await fs.rm(outside, { recursive: true, force: true });
});

async function put(rel: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await fs.writeFile(path.join(root, rel), text);
}

describe('readTree', () => {
  it('reads only the factory sources, sorted, as repository-relative paths', async () => {
    await put('manifests/b.yaml', 'b');
    await put('manifests/a/x.yaml', 'x');
    await put('fragments/f/1.0.0/files/z', 'z');
    await put('templates/t/1.0.0/template.yaml', 't');
    await put('factory.lock.json', '{}');
    await put('README.md', 'ignored');
    await put('build/x/Dockerfile', 'ignored');
    await put('node_modules/x/index.js', 'ignored');
    const files = await readTree(root);
    expect(files.map((f) => f.path)).toEqual([
      'factory.lock.json',
      'fragments/f/1.0.0/files/z',
      'manifests/a/x.yaml',
      'manifests/b.yaml',
      'templates/t/1.0.0/template.yaml',
    ]);
    expect(new TextDecoder().decode(files[3]!.bytes)).toBe('b');
  });

  it('skips OS and editor droppings but keeps dotfiles', async () => {
    await put('fragments/f/1.0.0/files/.bashrc', 'keep');
    for (const junk of ['.DS_Store', 'Thumbs.db', '.Dockerfile.ejs.swp', 'fragment.yaml~', '.#fragment.yaml']) await put(`fragments/f/1.0.0/${junk}`, 'junk');
    expect((await readTree(root)).map((f) => f.path)).toEqual(['fragments/f/1.0.0/files/.bashrc']);
  });

  it('returns an empty list for an empty directory', async () => {
    expect(await readTree(root)).toEqual([]);
  });

  it('records symlinks without following them, files or directories, inside or outside', async () => {
    await fs.writeFile(path.join(outside, 'secret'), 'do not read');
    await put('fragments/f/1.0.0/files/real', 'r');
    await fs.symlink(path.join(outside, 'secret'), path.join(root, 'fragments/f/1.0.0/files/leak'));
    await fs.symlink(outside, path.join(root, 'fragments/f/1.0.0/files/dir'));
    await fs.symlink('real', path.join(root, 'fragments/f/1.0.0/files/alias'));
    const files = await readTree(root);
    expect(files.map((f) => [f.path, f.link ?? null, f.bytes.length])).toEqual([
      ['fragments/f/1.0.0/files/alias', 'real', 0],
      ['fragments/f/1.0.0/files/dir', outside, 0],
      ['fragments/f/1.0.0/files/leak', path.join(outside, 'secret'), 0],
      ['fragments/f/1.0.0/files/real', null, 1],
    ]);
  });

  it('does not descend into a source directory that is itself a link', async () => {
    await fs.writeFile(path.join(outside, 'x.yaml'), 'kind: Base');
    await fs.symlink(outside, path.join(root, 'manifests'));
    expect(await readTree(root)).toEqual([{ path: 'manifests', bytes: new Uint8Array(), link: outside }]);
  });
});

describe('writeOutputs / diffOutputs', () => {
  it('creates directories, writes every file and leaves no temp file behind', async () => {
    await writeOutputs(root, [
      { path: 'docker-bake.hcl', text: 'group {}\n' },
      { path: 'build/a/1.0.0/default/Dockerfile', text: 'FROM x\n' },
    ]);
    expect(await fs.readFile(path.join(root, 'build/a/1.0.0/default/Dockerfile'), 'utf8')).toBe('FROM x\n');
    expect((await fs.readdir(root)).sort()).toEqual(['build', 'docker-bake.hcl']);
    expect(await fs.readdir(path.join(root, 'build/a/1.0.0/default'))).toEqual(['Dockerfile']);
  });

  it('replaces a file through a rename (a reader holding the old one keeps it whole)', async () => {
    await put('out.txt', 'old');
    const handle = await fs.open(path.join(root, 'out.txt'), 'r');
    await writeOutputs(root, [{ path: 'out.txt', text: 'new' }]);
    expect((await handle.readFile()).toString()).toBe('old');
    await handle.close();
    expect(await fs.readFile(path.join(root, 'out.txt'), 'utf8')).toBe('new');
  });

  it('leaves unchanged files untouched', async () => {
    await put('same.txt', 'same');
    const before = await fs.stat(path.join(root, 'same.txt'));
    await new Promise((r) => setTimeout(r, 20));
    await writeOutputs(root, [{ path: 'same.txt', text: 'same' }]);
    expect((await fs.stat(path.join(root, 'same.txt'))).mtimeMs).toBe(before.mtimeMs);
  });

  it.each(['../escape', '/abs/path', 'a/../../b', ''])('refuses to write %j and writes nothing at all', async (bad) => {
    await expect(writeOutputs(root, [{ path: 'ok.txt', text: 'x' }, { path: bad, text: 'x' }])).rejects.toThrow(/outside the repository/);
    expect(await fs.readdir(root)).toEqual([]);
  });

  it('reports missing and stale outputs, sorted', async () => {
    await put('b.txt', 'current');
    await put('c.txt', 'old');
    const diff = await diffOutputs(root, [
      { path: 'c.txt', text: 'new' },
      { path: 'b.txt', text: 'current' },
      { path: 'a/x.txt', text: 'x' },
    ]);
    expect(diff).toEqual([
      { path: 'a/x.txt', status: 'missing' },
      { path: 'c.txt', status: 'stale' },
    ]);
  });
});
