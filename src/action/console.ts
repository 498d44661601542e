// The job log. Everything the action prints goes through `info` (the other @actions/core
// functions encode their message as command data already), so text that came from a
// Dockerfile, a test or a tool can never become a workflow command (see logText). And a
// readable log while buildx writes rawjson to a file: one line per finished step, the output
// of failing steps, and buildx's own non-JSON lines (errors, warnings).
import * as core from '@actions/core';
import { logText } from '../core/escape.js';

// What the action is doing now, for the message of a cancelled run (main.ts).
let phase = 'starting';

export function setPhase(what: string): void {
  phase = what;
}

export function currentPhase(): string {
  return phase;
}

/** core.info for text that may hold anything: it is shown, never obeyed. */
export function info(text: string): void {
  core.info(logText(text));
}

export function progressPrinter(write: (line: string) => void = info): (line: string) => void {
  const done = new Set<string>();
  const names = new Map<string, string>();
  return (line: string) => {
    if (!line.startsWith('{')) {
      if (line.trim()) write(line);
      return;
    }
    let s: { vertexes?: { digest?: string; name?: string; started?: string; completed?: string; cached?: boolean; error?: string }[] };
    try {
      s = JSON.parse(line) as typeof s;
    } catch {
      write(line);
      return;
    }
    for (const v of s.vertexes ?? []) {
      if (!v.digest) continue;
      if (v.name) names.set(v.digest, v.name);
      if (!v.completed || done.has(v.digest)) continue;
      done.add(v.digest);
      const name = names.get(v.digest) ?? v.digest;
      // A registry cache that does not exist yet is a miss, not an error of the build.
      if (v.error && /importing cache manifest/.test(name)) write(`MISS   ${name}`);
      else if (v.error) write(`ERROR  ${name}: ${v.error}`);
      else if (v.cached) write(`CACHED ${name}`);
      else {
        const secs = v.started ? (Date.parse(v.completed) - Date.parse(v.started)) / 1000 : 0;
        write(`DONE   ${name} (${secs.toFixed(1)}s)`);
      }
    }
  };
}
