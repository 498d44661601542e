// Drives @actions/core the way a runner does: through INPUT_* variables. Tests set them,
// run, and restore the environment; readOutputs reads back what the action wrote to GITHUB_OUTPUT.
import * as fs from 'node:fs';
import { afterEach } from 'vitest';

const saved = new Map<string, string | undefined>();

export function setEnv(vars: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!saved.has(k)) saved.set(k, process.env[k]);
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

/** INPUT_<NAME> as the runner spells it: upper case, spaces to underscores, hyphens kept. */
export function setInputs(inputs: Record<string, string>): void {
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) setEnv({ [k]: undefined });
  setEnv(Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v])));
}

export function restoreEnvAfterEach(): void {
  afterEach(() => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    saved.clear();
  });
}

export const ctx = {
  eventName: 'push',
  repository: 'acme/factory',
  serverUrl: 'https://github.com',
  apiUrl: 'https://api.github.com',
  runId: '42',
  runAttempt: '2',
  job: 'build',
  action: '__self',
  sha: 'abc123',
  ref: 'refs/heads/main',
  refName: 'main',
  workspace: '/ws',
  runnerTemp: '/tmp/runner',
};

/** The step outputs @actions/core wrote to a GITHUB_OUTPUT file (`name<<ghadelimiter_...` blocks). */
export function readOutputs(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([\w-]+)<<(ghadelimiter_[\w-]+)\n([\s\S]*?)\n\2$/gm;
  for (const m of fs.readFileSync(file, 'utf8').matchAll(re)) out[m[1]!] = m[3]!;
  return out;
}
