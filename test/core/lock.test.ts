import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, patch, readGood, textOf } from './helpers.js';
import { load } from '../../src/core/load.js';
import { checkLock, computeLock, serializeLock } from '../../src/core/lock.js';
import type { LockFile, SourceFile } from '../../src/core/types.js';

const PIN = 'sha256:' + 'ab'.repeat(32);

function withLock(files: SourceFile[], mutate: (lock: LockFile) => void): SourceFile[] {
  const lock = JSON.parse(textOf(files, 'factory.lock.json')) as LockFile;
  mutate(lock);
  return patch(files, { 'factory.lock.json': JSON.stringify(lock, null, 2) });
}

describe('computeLock / serializeLock', () => {
  it('reproduces the committed lock of the good fixture byte for byte', async () => {
    const files = await readGood();
    const { factory, diagnostics } = load(files);
    expect(diagnostics).toEqual([]);
    expect(serializeLock(computeLock(factory))).toBe(fs.readFileSync(path.join(FIXTURES, 'good/minimal/factory.lock.json'), 'utf8'));
  });

  it('keeps existing base pins (they come from a registry, not the tree) of bases that still exist', async () => {
    const files = withLock(await readGood(), (l) => {
      l.bases = { debian: { image: 'docker.io/library/debian:bookworm-slim', digest: PIN }, gone: { image: 'alpine:3', digest: PIN } };
    });
    expect(computeLock(load(files).factory).bases).toEqual({ debian: { image: 'docker.io/library/debian:bookworm-slim', digest: PIN } });
  });

  it('serializes with sorted keys, 2 spaces and a final newline', () => {
    const text = serializeLock({ version: 1, templates: { 'z@1.0.0': { digest: PIN }, 'a@1.0.0': { digest: PIN } }, fragments: {}, bases: {} });
    expect(text).toBe(
      `{\n  "bases": {},\n  "fragments": {},\n  "templates": {\n    "a@1.0.0": {\n      "digest": "${PIN}"\n    },\n    "z@1.0.0": {\n      "digest": "${PIN}"\n    }\n  },\n  "version": 1\n}\n`,
    );
  });
});

describe('checkLock', () => {
  it('is silent for an up-to-date lock', async () => {
    expect(checkLock(load(await readGood()).factory)).toEqual([]);
  });

  it('warns when the lock file is missing', async () => {
    const files = patch(await readGood(), { 'factory.lock.json': undefined });
    expect(checkLock(load(files).factory)).toEqual([expect.objectContaining({ severity: 'warning', code: 'lock-missing' })]);
  });

  it('warns about versions not yet locked and entries whose directory is gone', async () => {
    const files = withLock(await readGood(), (l) => {
      delete l.fragments['python@1.0.0'];
      l.templates['gone@1.0.0'] = { digest: PIN };
    });
    const ds = checkLock(load(files).factory);
    expect(ds.map((d) => [d.severity, d.code, d.location?.file, d.location?.line])).toEqual([
      ['warning', 'lock-stale', 'factory.lock.json', expect.any(Number)],
      ['warning', 'lock-missing', 'fragments/python/1.0.0/fragment.yaml', 1],
    ]);
    expect(ds[0]!.message).toContain('gone@1.0.0');
  });

  it('errs when content changed under the same version', async () => {
    const files = patch(await readGood(), { 'fragments/python/1.0.0/Dockerfile.ejs': 'RUN echo changed\n' });
    const ds = checkLock(load(files).factory);
    expect(ds).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'lock-mismatch',
        field: 'version',
        location: { file: 'fragments/python/1.0.0/fragment.yaml', line: 3, column: 10 },
      }),
    ]);
    expect(ds[0]!.message).toContain('content changed without a new version: bump version');
  });

  it('warns about base pins for another image or an unknown base', async () => {
    const files = withLock(await readGood(), (l) => {
      l.bases = { debian: { image: 'docker.io/library/debian:bullseye', digest: PIN }, alpine: { image: 'alpine:3', digest: PIN } };
    });
    const ds = checkLock(load(files).factory);
    expect(ds.map((d) => d.code)).toEqual(['lock-stale', 'lock-stale']);
    const text = ds.map((d) => d.message).join('\n');
    expect(text).toContain('pins base "alpine" but no Base document has that name');
    expect(text).toContain('base "debian" is pinned for docker.io/library/debian:bullseye but its image is now docker.io/library/debian:bookworm-slim');
  });
});
