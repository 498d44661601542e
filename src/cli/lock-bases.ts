// Base image pins: resolve each Base's declared image to a digest through the registry's HTTP
// API. The only part of `factory lock` that talks to the network. A pin applies to the image it
// was resolved for (the resolver ignores a pin whose image differs from the Base's), so a
// BASE_<NAME> override at build time is never silently combined with a digest of another image.
import { computeLock } from '../core/lock.js';
import type { Diagnostic, LockFile, ResolvedFactory } from '../core/types.js';
import { RegistryClient } from '../registry/client.js';
import { UserError, EXIT } from './errors.js';

export function stripDigest(image: string): string {
  const at = image.indexOf('@');
  return at >= 0 ? image.slice(0, at) : image;
}

async function digestOf(client: RegistryClient, image: string): Promise<string> {
  try {
    return (await client.resolve(image)).digest;
  } catch (e) {
    throw new UserError(
      `cannot resolve ${image} through the registry: ${(e as Error).message}. Is the registry up (scripts/sandbox.sh status)?`,
      EXIT.internal,
    );
  }
}

export async function lockWithBasePins(factory: ResolvedFactory, client = new RegistryClient()): Promise<LockFile> {
  const lock = computeLock(factory.loaded);
  const bases: LockFile['bases'] = {};
  for (const b of [...factory.loaded.bases].sort((x, y) => (x.doc.name < y.doc.name ? -1 : 1))) {
    const image = stripDigest(b.doc.image);
    bases[b.doc.name] = { image, digest: await digestOf(client, image) };
  }
  return { ...lock, bases };
}

export async function checkBasePins(factory: ResolvedFactory, client = new RegistryClient()): Promise<Diagnostic[]> {
  const problems: Diagnostic[] = [];
  const pins = factory.loaded.lock?.doc.bases ?? {};
  const lockFile = factory.loaded.lock?.file ?? 'factory.lock.json';
  for (const b of factory.loaded.bases) {
    const image = stripDigest(b.doc.image);
    const pin = pins[b.doc.name];
    const where = { file: lockFile, line: 1, column: 1 };
    if (!pin) {
      problems.push({
        severity: 'error',
        code: 'lock-base-missing',
        message: `base '${b.doc.name}' (${image}) is not pinned`,
        hint: "run 'factory lock --resolve-bases'",
        location: where,
      });
      continue;
    }
    if (pin.image !== image) {
      problems.push({
        severity: 'error',
        code: 'lock-base-stale',
        message: `base '${b.doc.name}' is pinned for ${pin.image} but builds from ${image}`,
        hint: "run 'factory lock --resolve-bases'",
        location: where,
      });
      continue;
    }
    const current = await digestOf(client, image);
    if (current !== pin.digest) {
      problems.push({
        severity: 'error',
        code: 'lock-base-stale',
        message: `base '${b.doc.name}' (${image}) moved: pinned ${pin.digest}, registry has ${current}`,
        hint: "run 'factory lock --resolve-bases' to take the new base (security patches), then regenerate",
        location: where,
      });
    }
  }
  return problems;
}
