// `factory bases watch`: the base-image watch. Resolves every Base's tag through the registry's
// HTTP API and compares it with the pin in factory.lock.json; a moved digest gets a new pin
// stamped with when the watch first saw it (`seen`: where the time-to-patch KPI starts), and
// the targets built on that base are listed. With --write the lock is rewritten; the scheduled
// workflow job (scripts/workflow/base-watch.sh) then regenerates, plans and builds exactly those
// targets, and opens the pull request.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { computeLock, serializeLock } from '../core/lock.js';
import { LockFile } from '../core/schema.js';
import type { ResolvedFactory } from '../core/types.js';
import { writeOutputs } from '../io/tree.js';
import { RegistryClient } from '../registry/client.js';
import { dockerConfigCredentials } from '../registry/docker-config.js';
import { stripDigest } from './lock-bases.js';
import type { CommandContext } from './commands.js';
import { EXIT, UserError } from './errors.js';
import { paint, printJson } from './output.js';

export interface WatchedBase {
  name: string;
  image: string;
  /** The digest factory.lock.json pins; null when the base is not pinned (or pinned for another image). */
  pinned: string | null;
  current: string;
  moved: boolean;
  /** When the watch first saw `current` under the tag. */
  seen?: string;
  /** Bake targets built on this base. */
  targets: string[];
}

export interface WatchReport {
  moved: boolean;
  written: boolean;
  bases: WatchedBase[];
  /** Every target on a moved base: what the plan of the new pins must rebuild. */
  targets: string[];
}

async function previousPins(root: string, file: string | undefined): Promise<LockFile['bases']> {
  if (!file) return {};
  let text: string;
  try {
    text = await readFile(path.resolve(root, file), 'utf8');
  } catch (e) {
    throw new UserError(`--previous ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`, EXIT.usage);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UserError(`--previous ${file}: not JSON (${(e as Error).message}); pass a factory.lock.json.`, EXIT.usage);
  }
  const lock = LockFile.safeParse(parsed);
  if (!lock.success)
    throw new UserError(`--previous ${file}: not a factory.lock.json (${lock.error.issues[0]?.path.join('.')}: ${lock.error.issues[0]?.message}).`, EXIT.usage);
  return lock.data.bases;
}

function selectBases(factory: ResolvedFactory, only: string | boolean | undefined) {
  const all = [...factory.loaded.bases].sort((a, b) => (a.doc.name < b.doc.name ? -1 : 1));
  if (typeof only !== 'string' || only.trim() === '') return all;
  const names = only.split(/[,\s]+/).filter(Boolean);
  const unknown = names.filter((n) => !all.some((b) => b.doc.name === n));
  if (unknown.length > 0) {
    throw new UserError(
      `--base ${unknown.join(', ')}: no Base document has that name; the factory's bases are ${all.map((b) => b.doc.name).join(', ')} (manifests/, kind: Base).`,
      EXIT.failed,
    );
  }
  return all.filter((b) => names.includes(b.doc.name));
}

export async function watchBases(ctx: CommandContext, client?: RegistryClient): Promise<WatchReport> {
  const factory = await ctx.load();
  const bases = selectBases(factory, ctx.values.base);
  const previous = await previousPins(ctx.root, typeof ctx.values.previous === 'string' ? ctx.values.previous : undefined);
  const c = client ?? new RegistryClient({ credentials: dockerConfigCredentials() });
  const pins = factory.loaded.lock?.doc.bases ?? {};
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const watched: WatchedBase[] = [];
  for (const b of bases) {
    const image = stripDigest(b.doc.image);
    let current: string;
    try {
      current = (await c.resolve(image)).digest;
    } catch (e) {
      throw new UserError(
        `base '${b.doc.name}' (${b.file}): cannot resolve ${image} through the registry: ${(e as Error).message.replace(/[.?]+$/, '')} (nothing was written).`,
        EXIT.failed,
      );
    }
    const pin = pins[b.doc.name]?.image === image ? pins[b.doc.name] : undefined;
    const moved = pin?.digest !== current;
    const before = previous[b.doc.name];
    // A digest an earlier watch run already saw (its branch's lock) keeps that first sighting.
    const seen = !moved ? pin?.seen : before?.image === image && before.digest === current && before.seen ? before.seen : now;
    watched.push({
      name: b.doc.name,
      image,
      pinned: pin?.digest ?? null,
      current,
      moved,
      ...(seen ? { seen } : {}),
      targets: factory.targets
        .filter((t) => t.product.base.name === b.doc.name)
        .map((t) => t.name)
        .sort(),
    });
  }
  const movedBases = watched.filter((w) => w.moved);
  let written = false;
  if (ctx.values.write && movedBases.length > 0) {
    const lock = computeLock(factory.loaded);
    for (const w of movedBases) lock.bases[w.name] = { image: w.image, digest: w.current, ...(w.seen ? { seen: w.seen } : {}) };
    await writeOutputs(ctx.root, [{ path: 'factory.lock.json', text: serializeLock(lock) }]);
    written = true;
  }
  return { moved: movedBases.length > 0, written, bases: watched, targets: [...new Set(movedBases.flatMap((w) => w.targets))].sort() };
}

/** The commit (and pull request) text of moved pins: a title line, then one line per base. */
export function watchMessage(r: WatchReport): string {
  const moved = r.bases.filter((b) => b.moved);
  const lines = [`base watch: new pins for ${moved.map((b) => b.name).join(', ')}`, ''];
  for (const b of moved) {
    lines.push(`- ${b.name}: ${b.image}@${b.current} (was ${b.pinned ?? 'not pinned'}), first seen ${b.seen}; rebuilds ${b.targets.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function basesCommand(ctx: CommandContext): Promise<number> {
  const sub = ctx.positionals[0];
  if (sub !== 'watch') throw new UserError(`factory bases: unknown subcommand '${sub}'; the one there is: factory bases watch [--write] [--json]`, EXIT.usage);
  const r = await watchBases(ctx);
  if (typeof ctx.values.message === 'string' && r.moved) await writeFile(path.resolve(ctx.root, ctx.values.message), watchMessage(r));
  if (ctx.json) {
    printJson(ctx.io, r);
    return EXIT.ok;
  }
  for (const b of r.bases) {
    const state = b.moved ? paint(ctx.io, 'yellow', b.pinned ? 'moved' : 'unpinned') : paint(ctx.io, 'green', 'current');
    ctx.io.out(`${b.name.padEnd(12)} ${state.padEnd(8)} ${b.image}@${b.current}${b.moved && b.pinned ? ` (pinned ${b.pinned})` : ''}`);
    if (b.moved)
      ctx.io.out(paint(ctx.io, 'dim', `  first seen ${b.seen}; ${b.targets.length} target${b.targets.length === 1 ? '' : 's'}: ${b.targets.join(', ')}`));
  }
  if (!r.moved) ctx.io.out(`${paint(ctx.io, 'green', 'ok')}: every base pin is current.`);
  else if (r.written)
    ctx.io.out(
      `factory.lock.json updated: run 'factory generate' and commit; 'factory plan --base HEAD~1' then rebuilds exactly the ${r.targets.length} targets.`,
    );
  else ctx.io.out(`${r.targets.length} targets are on moved bases; --write updates factory.lock.json.`);
  return EXIT.ok;
}
