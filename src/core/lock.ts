// factory.lock.json: the content digest of every template and fragment version, and base image
// pins. A version whose content no longer matches its locked digest was changed in place:
// generation refuses it (the fix is a new version directory).
import { error, sortDiagnostics, warning } from './diagnostics.js';
import { refOf } from './ids.js';
import { SCHEMA_VERSION } from './schema.js';
import type { Diagnostic, LoadedFactory, LockFile, SourceFile, SourceLocation } from './types.js';
import { LOCK_PATH } from './load.js';

const LOCK_HINT = 'run `factory lock` to record it';

/** The lock for the tree as it is: every template/fragment digest; existing base pins kept. */
export function computeLock(loaded: LoadedFactory): LockFile {
  const templates: LockFile['templates'] = {};
  for (const t of loaded.templates) templates[refOf(t.meta.doc)] = { digest: t.digest };
  const fragments: LockFile['fragments'] = {};
  for (const f of loaded.fragments) fragments[refOf(f.meta.doc)] = { digest: f.digest };
  // Base pins come from a registry (`factory lock --resolve-bases`), not from the tree: keep
  // them, except those of bases that no longer exist.
  const names = new Set(loaded.bases.map((b) => b.doc.name));
  const bases: LockFile['bases'] = {};
  for (const [name, pin] of Object.entries(loaded.lock?.doc.bases ?? {})) if (names.has(name)) bases[name] = pin;
  return { version: SCHEMA_VERSION, templates, fragments, bases };
}

/**
 * Errors for versions whose content changed under the same version number. Resolve reports
 * these: they make generation refuse to run.
 */
export function lockDigestErrors(loaded: LoadedFactory): Diagnostic[] {
  const lock = loaded.lock;
  if (!lock) return [];
  const out: Diagnostic[] = [];
  const check = (kind: 'templates' | 'fragments', ref: string, digest: string, metaLoc: SourceLocation): void => {
    const entry = lock.doc[kind][ref];
    if (!entry || entry.digest === digest) return;
    const dir = `${kind}/${ref.replace('@', '/')}`;
    out.push(
      error(
        'lock-mismatch',
        `content changed without a new version: bump version (${ref} is locked at ${short(entry.digest)}, the files now hash to ${short(digest)})`,
        {
          field: 'version',
          location: metaLoc,
          hint: `copy ${dir}/ to a new version directory and reference the new version; keep ${ref} as it was (or, if it was never published, run \`factory lock --update ${ref}\`)`,
        },
      ),
    );
  };
  for (const t of loaded.templates) check('templates', refOf(t.meta.doc), t.digest, t.meta.locate(['version']));
  for (const f of loaded.fragments) check('fragments', refOf(f.meta.doc), f.digest, f.meta.locate(['version']));
  return out;
}

/** Lock problems: changed content (errors), versions not locked yet and stale entries (warnings). */
export function checkLock(loaded: LoadedFactory): Diagnostic[] {
  const lock = loaded.lock;
  if (!lock) {
    return [
      warning('lock-missing', `${LOCK_PATH} does not exist`, {
        location: { file: LOCK_PATH, line: 1, column: 1 },
        hint: 'run `factory lock` to create it',
      }),
    ];
  }
  const out = lockDigestErrors(loaded);
  const present = { templates: new Set<string>(), fragments: new Set<string>() };
  for (const t of loaded.templates) present.templates.add(refOf(t.meta.doc));
  for (const f of loaded.fragments) present.fragments.add(refOf(f.meta.doc));
  for (const kind of ['templates', 'fragments'] as const) {
    const sources = kind === 'templates' ? loaded.templates : loaded.fragments;
    for (const s of sources) {
      const ref = refOf(s.meta.doc);
      if (lock.doc[kind][ref]) continue;
      out.push(warning('lock-missing', `${ref} is not in ${LOCK_PATH}`, { location: s.meta.location, hint: LOCK_HINT }));
    }
    for (const ref of Object.keys(lock.doc[kind]).sort()) {
      if (present[kind].has(ref)) continue;
      out.push(
        warning('lock-stale', `${LOCK_PATH} lists ${ref} but ${kind}/${ref.replace('@', '/')}/ does not exist`, {
          location: lock.locate([kind, ref]),
          hint: 'run `factory lock` to drop it',
        }),
      );
    }
  }
  const baseNames = new Map(loaded.bases.map((b) => [b.doc.name, b]));
  for (const [name, pin] of Object.entries(lock.doc.bases).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const base = baseNames.get(name);
    if (!base) {
      out.push(
        warning('lock-stale', `${LOCK_PATH} pins base "${name}" but no Base document has that name`, {
          location: lock.locate(['bases', name]),
          hint: 'run `factory lock` to drop it',
        }),
      );
    } else if (base.doc.image !== pin.image) {
      out.push(
        warning('lock-stale', `base "${name}" is pinned for ${pin.image} but its image is now ${base.doc.image}`, {
          location: lock.locate(['bases', name, 'image']),
          hint: 'run `factory lock --resolve-bases` to pin the new image',
        }),
      );
    }
  }
  return sortDiagnostics(out);
}

/**
 * The tree with the lock entries of `refs` (templates or fragments, "name@version") taken out,
 * for `factory lock --update`: a version edited before it was ever published is then "not
 * locked yet" (a warning) instead of "changed in place" (an error), and the lock written from
 * that tree records its new digest. Every other entry, and every base pin, stays as it was. A
 * lock that does not parse is left alone for the loader to report.
 */
export function forgetLockEntries(files: readonly SourceFile[], refs: readonly string[]): SourceFile[] {
  const lockFile = files.find((f) => f.path === LOCK_PATH);
  let doc: LockFile | undefined;
  try {
    doc = lockFile ? (JSON.parse(new TextDecoder().decode(lockFile.bytes)) as LockFile) : undefined;
  } catch {
    doc = undefined;
  }
  if (!doc || typeof doc.templates !== 'object' || typeof doc.fragments !== 'object' || !doc.templates || !doc.fragments) return [...files];
  for (const ref of refs) {
    delete doc.templates[ref];
    delete doc.fragments[ref];
  }
  const bytes = new TextEncoder().encode(serializeLock(doc));
  return files.map((f) => (f === lockFile ? { ...f, bytes } : f));
}

/** Sorted keys, 2-space JSON, trailing newline: byte-identical for the same lock. */
export function serializeLock(lock: LockFile): string {
  return `${JSON.stringify(sortKeys(lock), null, 2)}\n`;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

function short(digest: string): string {
  return digest.slice(0, 'sha256:'.length + 12);
}
