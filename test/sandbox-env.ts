// The build sandbox's variables as the integration tests read them: `scripts/sandbox.sh env`
// prints KEY=VALUE lines (REGISTRY, BUILDKIT_HOST, BUILDX_BUILDER, BASE_*, SBOM_SCANNER, ...).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SANDBOX_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../scripts/sandbox.sh');

/** KEY=VALUE lines -> a record; a value keeps any "=" it holds, lines without one are skipped. */
export function parseEnvLines(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** `scripts/sandbox.sh env`, parsed; throws (with the script's message) when the sandbox is down. */
export function sandboxVars(): Record<string, string> {
  return parseEnvLines(execFileSync(SANDBOX_SCRIPT, ['env'], { encoding: 'utf8' }));
}
