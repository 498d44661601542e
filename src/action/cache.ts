// The outside service "Actions cache" (@actions/cache) for the `local` BuildKit cache backend:
// restore before the build, save in the post step. BuildKit exports the new cache into a
// sibling "-new" directory; the post step swaps it in before saving, so stale blobs of old
// builds are dropped instead of accumulating in the saved cache.
import * as fs from 'node:fs';
import * as core from '@actions/core';
import * as cache from '@actions/cache';
import { info } from './console.js';
import { State } from './constants.js';
import type { BuildInputs, RunContext } from './types.js';

export function cacheKeys(inputs: Pick<BuildInputs, 'target'>, ctx: Pick<RunContext, 'runId' | 'runAttempt'>): { key: string; restoreKeys: string[] } {
  const prefix = `factory-buildkit-${process.platform}-${process.arch}-${inputs.target}-`;
  // Cache entries are immutable: each run saves under its own key and restores the newest
  // entry of the same target by prefix.
  return { key: `${prefix}${ctx.runId}-${ctx.runAttempt}`, restoreKeys: [prefix] };
}

export async function restoreLocalCache(inputs: BuildInputs, ctx: RunContext): Promise<void> {
  const { key, restoreKeys } = cacheKeys(inputs, ctx);
  core.saveState(State.CacheKey, key);
  core.saveState(State.CacheDir, inputs.cacheDir);
  core.saveState(State.CacheNewDir, `${inputs.cacheDir}-new`);
  // Both exist before the build: bake's entitlement check resolves paths that exist.
  fs.mkdirSync(inputs.cacheDir, { recursive: true });
  fs.rmSync(`${inputs.cacheDir}-new`, { recursive: true, force: true });
  fs.mkdirSync(`${inputs.cacheDir}-new`, { recursive: true });
  if (!cache.isFeatureAvailable()) {
    core.warning('cache: local BuildKit cache not restored: the Actions cache service is not available on this runner');
    return;
  }
  try {
    const hit = await cache.restoreCache([inputs.cacheDir], key, restoreKeys);
    if (hit) core.saveState(State.CacheRestoredKey, hit);
    info(hit ? `cache: restored BuildKit cache ${hit}` : 'cache: no BuildKit cache yet for this target');
  } catch (e) {
    core.warning(`cache: restore failed, building without it: ${(e as Error).message}`);
  }
}

export async function saveLocalCache(): Promise<void> {
  const key = core.getState(State.CacheKey);
  const dir = core.getState(State.CacheDir);
  const fresh = core.getState(State.CacheNewDir);
  if (!key || !dir || !fresh) return;
  if (!fs.existsSync(fresh) || fs.readdirSync(fresh).length === 0) {
    info('cache: the build exported no BuildKit cache; nothing to save');
    return;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(fresh, dir);
  if (!cache.isFeatureAvailable()) {
    core.warning('cache: local BuildKit cache not saved: the Actions cache service is not available on this runner');
    return;
  }
  try {
    await cache.saveCache([dir], key);
    info(`cache: saved BuildKit cache as ${key}`);
  } catch (e) {
    core.warning(`cache: save failed: ${(e as Error).message}`);
  }
}
