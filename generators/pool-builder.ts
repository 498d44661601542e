// A pool's BuildKit builder (the Pool document's `builder` and `device`) as the inputs of
// docker/setup-buildx-action in the pool workflow. The factory workflow passes them in the
// pool's settings JSON (PoolSettings.builder); the leg's "Set up Buildx" step reads them, after
// the repository variables, which stay the runner-level override (see setupBuildx).
import type { Pool } from '../src/core/types.js';

/** setup-buildx-action inputs, as strings; absent keys stay at the action's defaults. */
export interface BuilderSettings {
  [key: string]: string | undefined;
  driver: string;
  endpoint?: string;
  'driver-opts'?: string;
  'buildkitd-flags'?: string;
  'buildkitd-config'?: string;
  'buildkitd-config-inline'?: string;
}

/** The spec directories of `nvidia-ctk cdi generate` (/etc/cdi) and of its runtime mode (/var/run/cdi). */
export const DEFAULT_CDI_SPEC_DIRS = ['/etc/cdi', '/var/run/cdi'];

const tomlString = (s: string) => JSON.stringify(s); // the values are validated: no control characters

/**
 * The buildkitd.toml of a builder the action starts (docker-container, kubernetes): CDI on for a
 * pool with a device, registry mirrors. Empty when there is nothing to say. A remote builder
 * ignores it: its daemon's own buildkitd.toml must say the same (docs/gpu-pool.md).
 */
export function buildkitdConfig(pool: Pool): string {
  const b = pool.builder;
  const parts: string[] = [];
  if (pool.device !== undefined) {
    const dirs = b?.['cdi-spec-dirs'] ?? DEFAULT_CDI_SPEC_DIRS;
    // BuildKit >= 0.20 reads [cdi]; `disabled = false` is explicit for daemons that default it off.
    parts.push(`[cdi]\n  disabled = false\n  specDirs = [${dirs.map(tomlString).join(', ')}]\n`);
  }
  if (b?.mirrors?.length) parts.push(`[registry."docker.io"]\n  mirrors = [${b.mirrors.map(tomlString).join(', ')}]\n`);
  return parts.join('\n');
}

/** The builder settings of a pool; undefined for a pool with neither a builder nor a device. */
export function poolBuilderSettings(pool: Pool): BuilderSettings | undefined {
  const b = pool.builder;
  if (b === undefined && pool.device === undefined) return undefined;
  const tls = b?.tls;
  const opts = [
    ...(b?.['driver-opts'] ?? []),
    ...(tls?.['ca-cert'] ? [`cacert=${tls['ca-cert']}`] : []),
    ...(tls?.cert ? [`cert=${tls.cert}`] : []),
    ...(tls?.key ? [`key=${tls.key}`] : []),
    ...(tls?.['server-name'] ? [`servername=${tls['server-name']}`] : []),
  ];
  const driver = b?.driver ?? 'docker-container';
  const all: BuilderSettings = {
    driver,
    endpoint: b?.endpoint ?? '',
    'driver-opts': opts.join('\n'),
    'buildkitd-flags': b?.['buildkitd-flags'] ?? '',
    // A file of the repository replaces the generated configuration.
    'buildkitd-config': b?.['buildkitd-config'] ?? '',
    // buildx refuses a configuration (and flags) for a remote builder: its daemon has its own.
    'buildkitd-config-inline': b?.['buildkitd-config'] || driver === 'remote' ? '' : buildkitdConfig(pool),
  };
  // Only what is set: the workflow reads a missing key as '' (the action's default).
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== '')) as BuilderSettings;
}
