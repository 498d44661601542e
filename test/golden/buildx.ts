// Where the real buildx is, for the tests that check generated files with it: $BUILDX_BIN, then
// `buildx` on PATH, then the docker CLI plugin, then /root/go/bin/buildx (the dev machine).
// Undefined when there is none; the tests then skip and say why.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function findBuildx(): string | undefined {
  const candidates = [
    process.env.BUILDX_BIN,
    ...(process.env.PATH ?? '').split(':').filter(Boolean).map((d) => join(d, 'buildx')),
    join(homedir(), '.docker/cli-plugins/docker-buildx'),
    '/usr/libexec/docker/cli-plugins/docker-buildx',
    '/usr/local/lib/docker/cli-plugins/docker-buildx',
    '/root/go/bin/buildx',
  ];
  return candidates.find((c): c is string => c !== undefined && c !== '' && existsSync(c));
}

export const BUILDX = findBuildx();
export const NO_BUILDX = BUILDX === undefined;
if (NO_BUILDX) console.warn('buildx not found (set BUILDX_BIN or put buildx on PATH): the `buildx bake --print` checks are skipped');
