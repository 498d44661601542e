// The runner library (factory-test-lib.sh beside this file) as text. Kept as a real .sh file so
// that shellcheck and editors see shell, not a template literal. Under tsx and vitest it is
// read here, next to this module; the bundles (scripts/build.mjs) replace this module by one
// that embeds the text, so dist-cli/ never reads generators/ at run time.
import { readFileSync } from 'node:fs';

export const RUNNER_LIB_TEXT: string = readFileSync(new URL('./factory-test-lib.sh', import.meta.url), 'utf8');
