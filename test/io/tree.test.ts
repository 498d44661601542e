import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffOutputs, OutputWriteError, readTree, writeOutputs, type OutputFs } from '../../src/io/tree.js';

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

  it('reports which files it wrote, removed and left alone', async () => {
    await put('same.txt', 'same');
    await put('changed.txt', 'old');
    await put('build/gone/Dockerfile', 'FROM old\n');
    const result = await writeOutputs(
      root,
      [
        { path: 'same.txt', text: 'same' },
        { path: 'changed.txt', text: 'new' },
        { path: 'build/new/Dockerfile', text: 'FROM new\n' },
      ],
      { remove: ['build/gone/Dockerfile', 'build/never-was'] },
    );
    expect(result).toEqual({ written: ['build/new/Dockerfile', 'changed.txt'], removed: ['build/gone/Dockerfile'], unchanged: 1 });
    const after = Object.fromEntries(Object.entries(await snapshot(root)).map(([k, v]) => [k, v.toString()]));
    expect(after).toEqual({ 'build/new/Dockerfile': 'FROM new\n', 'changed.txt': 'new', 'same.txt': 'same' });
    // the directory the removed file emptied goes with it
    expect(await fs.readdir(path.join(root, 'build'))).toEqual(['new']);
  });

  it.each(['../escape', '/abs/path', 'a/../../b', ''])('refuses to write %j and writes nothing at all', async (bad) => {
    await expect(
      writeOutputs(root, [
        { path: 'ok.txt', text: 'x' },
        { path: bad, text: 'x' },
      ]),
    ).rejects.toThrow(/outside the repository/);
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

/** Every file under `dir` (dotfiles and temp files included) with its bytes. */
async function snapshot(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const abs = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, abs)] = await fs.readFile(abs);
  }
  return out;
}

async function dirs(dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** The real fs, except that the nth call of `op` fails the way a full disk would. */
function failing(op: 'rename' | 'writeFile', nth: number): OutputFs & { calls: string[] } {
  const calls: string[] = [];
  let n = 0;
  const wrap =
    <A extends unknown[], R>(name: string, f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      if (name === op && ++n === nth) {
        const e = Object.assign(new Error(`ENOSPC: no space left on device, ${name} '${String(a[0])}'`), { code: 'ENOSPC' });
        throw e;
      }
      calls.push(`${name} ${path.relative(root, String(a[0]))}`);
      return f(...a);
    };
  return {
    calls,
    readFile: wrap('readFile', (p: string) => fs.readFile(p)),
    writeFile: wrap('writeFile', (p: string, d: Uint8Array) => fs.writeFile(p, d)),
    rename: wrap('rename', (a: string, b: string) => fs.rename(a, b)),
    rm: wrap('rm', (p: string, o: { force: boolean }) => fs.rm(p, o)),
    mkdir: wrap('mkdir', (p: string, o: { recursive: true }) => fs.mkdir(p, o)),
    rmdir: wrap('rmdir', (p: string) => fs.rmdir(p)),
    stat: wrap('stat', (p: string) => fs.stat(p)),
    chmod: wrap('chmod', (p: string, m: number) => fs.chmod(p, m)),
    utimes: wrap('utimes', (p: string, a: number, m: number) => fs.utimes(p, a, m)),
  };
}

describe('writeOutputs: all or nothing', () => {
  const outputs = [
    { path: 'a.txt', text: 'new a' },
    { path: 'b.txt', text: 'new b' },
    { path: 'c/d/new.txt', text: 'brand new' },
    { path: 'same.txt', text: 'same' },
  ];

  beforeEach(async () => {
    await put('a.txt', 'old a');
    await put('b.txt', 'old b');
    await put('same.txt', 'same');
    await put('build/orphan/Dockerfile', 'FROM orphan\n');
    await fs.chmod(path.join(root, 'a.txt'), 0o751);
  });

  it('puts the tree back byte for byte when a rename fails after the first file is in place', async () => {
    const before = await snapshot(root);
    const beforeDirs = await dirs(root);
    const a = await fs.stat(path.join(root, 'a.txt'));
    const io = failing('rename', 2);
    const err = await writeOutputs(root, outputs, { remove: ['build/orphan/Dockerfile'], fs: io }).catch((e: unknown) => e);
    // a.txt was in place with its new bytes before b.txt failed
    expect(io.calls.filter((c) => c.startsWith('rename ')).map((c) => c.replace(/\.\d+\.[0-9a-f]+\.(tmp|bak)$/, '.$1'))).toEqual([
      'rename .a.txt.tmp',
      'rename .a.txt.bak',
    ]);
    expect(err).toBeInstanceOf(OutputWriteError);
    expect((err as OutputWriteError).file).toBe('b.txt');
    expect((err as Error).message).toBe('cannot replace b.txt (ENOSPC: no space left on device); nothing was changed');
    expect(await snapshot(root)).toEqual(before);
    expect(await dirs(root)).toEqual(beforeDirs);
    const after = await fs.stat(path.join(root, 'a.txt'));
    expect(after.mode & 0o777).toBe(0o751);
    expect(Math.abs(after.mtimeMs - a.mtimeMs)).toBeLessThan(0.01);
  });

  it('brings back a removed file and undoes every write when a later removal fails', async () => {
    await put('build/orphan2/Dockerfile', 'FROM orphan2\n');
    const before = await snapshot(root);
    // renames in path order: a.txt, b.txt, build/orphan (aside), then build/orphan2 fails
    const err = await writeOutputs(root, outputs, { remove: ['build/orphan/Dockerfile', 'build/orphan2/Dockerfile'], fs: failing('rename', 4) }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toBe('cannot remove build/orphan2/Dockerfile (ENOSPC: no space left on device); nothing was changed');
    expect(await snapshot(root)).toEqual(before);
  });

  it('says which file it could not put back when the rollback fails too', async () => {
    const before = await snapshot(root);
    const io = failing('rename', 2);
    const write = io.writeFile;
    io.writeFile = async (p, d) => {
      if (p.endsWith('.bak')) throw Object.assign(new Error(`EROFS: read-only file system, open '${p}'`), { code: 'EROFS' });
      return write(p, d);
    };
    const err = await writeOutputs(root, outputs, { fs: io }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'cannot replace b.txt (ENOSPC: no space left on device); could not restore a.txt: those files are left with their new bytes',
    );
    const after = await snapshot(root);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    expect(after['a.txt']!.toString()).toBe('new a');
    expect(after['b.txt']).toEqual(before['b.txt']);
  });

  it('leaves no staged file behind when staging fails', async () => {
    const before = await snapshot(root);
    const beforeDirs = await dirs(root);
    const err = await writeOutputs(root, outputs, { fs: failing('writeFile', 3) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutputWriteError);
    expect((err as Error).message).toMatch(/^cannot write (a\.txt|b\.txt|c\/d\/new\.txt) \(ENOSPC: no space left on device\); nothing was changed$/);
    expect(await snapshot(root)).toEqual(before);
    expect(await dirs(root)).toEqual(beforeDirs);
  });

  it('names the file when a target is in the way', async () => {
    await fs.writeFile(path.join(root, 'c'), 'a file where a directory goes');
    const before = await snapshot(root);
    const err = await writeOutputs(root, outputs).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^cannot create the directory of c\/d\/new\.txt \((EEXIST|ENOTDIR): [^)]+\); nothing was changed$/);
    expect(await snapshot(root)).toEqual(before);
  });

  it('touches nothing when nothing changed: no write, no rename, same mtimes', async () => {
    await writeOutputs(root, outputs, { remove: ['build/orphan/Dockerfile'] });
    const files = Object.keys(await snapshot(root));
    const mtimes = await Promise.all(files.map(async (f) => (await fs.stat(path.join(root, f))).mtimeMs));
    await new Promise((r) => setTimeout(r, 20));
    const io = failing('rename', Infinity);
    const result = await writeOutputs(root, outputs, { remove: ['build/orphan/Dockerfile'], fs: io });
    expect(result).toEqual({ written: [], removed: [], unchanged: 4 });
    expect(io.calls.filter((c) => !c.startsWith('readFile'))).toEqual([]);
    expect(await Promise.all(files.map(async (f) => (await fs.stat(path.join(root, f))).mtimeMs))).toEqual(mtimes);
  });
});
