// The outside tool `docker buildx` (or a standalone `buildx`): finding it, `bake --print`, and
// running a bake with its rawjson progress captured to a file.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { editDistance } from '../core/diagnostics.js';
import { info } from './console.js';
import { ActionError } from './errors.js';
import type { BakeDefinition } from './types.js';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Called with each complete stderr line as it arrives. */
  onStderrLine?: (line: string) => void;
  /** Also append stderr to this file as it arrives. */
  stderrFile?: string;
}

// The tools running now, so that a cancelled action can stop them (stopChildren): a bake
// left running after the step ends would go on building and pushing for a job that is over.
const running = new Set<ChildProcess>();

/** Sends `signal` to every tool exec() started that is still running. */
export function stopChildren(signal: NodeJS.Signals): void {
  for (const c of running) c.kill(signal);
}

export function exec(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const file = opts.stderrFile ? fs.openSync(opts.stderrFile, 'w') : undefined;
    let tail = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err.push(b);
      if (file !== undefined) fs.writeSync(file, b);
      if (opts.onStderrLine) {
        const parts = (tail + b.toString('utf8')).split('\n');
        tail = parts.pop() ?? '';
        for (const p of parts) opts.onStderrLine(p);
      }
    });
    child.on('error', (e) => {
      if (file !== undefined) fs.closeSync(file);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (file !== undefined) fs.closeSync(file);
      if (tail && opts.onStderrLine) opts.onStderrLine(tail);
      resolve({
        exitCode: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/**
 * Names within a few edits of a mistyped one, nearest first (for "did you mean"). Stricter than
 * closeMatches (no prefix matches, case counts): bake target names are exact.
 */
export function closest(name: string, names: readonly string[]): string[] {
  const limit = Math.max(2, Math.floor(name.length / 4));
  return names
    .map((n) => ({ n, d: editDistance(name, n) }))
    .filter((x) => x.d <= limit)
    .sort((x, y) => x.d - y.d || x.n.localeCompare(y.n))
    .slice(0, 3)
    .map((x) => x.n);
}

export class Buildx {
  constructor(
    readonly bin: string,
    /** ["buildx"] when run as a docker CLI plugin, [] when standalone. */
    readonly prefix: readonly string[],
  ) {}

  get command(): string {
    return [this.bin, ...this.prefix].join(' ');
  }

  /** Prefers `docker buildx` (what runners have), then a standalone `buildx` on PATH. */
  static async find(): Promise<Buildx> {
    const candidates = [new Buildx('docker', ['buildx']), new Buildx('buildx', [])];
    for (const c of candidates) {
      try {
        const r = await exec(c.bin, [...c.prefix, 'version']);
        if (r.exitCode === 0) {
          info(`Using ${c.command}: ${r.stdout.trim()}`);
          return c;
        }
      } catch {
        // not installed: try the next
      }
    }
    throw new ActionError(
      'buildx not found: neither `docker buildx version` nor `buildx version` works on this runner; add docker/setup-buildx-action before this step or put buildx on PATH',
    );
  }

  run(args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return exec(this.bin, [...this.prefix, ...args], opts);
  }

  /** All target and group names of the bake files (for "did you mean" in errors). */
  async names(files: readonly string[], cwd: string): Promise<string[]> {
    const r = await this.run(['bake', ...files.flatMap((f) => ['--file', f]), '--list', 'type=targets,format=json'], { cwd });
    if (r.exitCode !== 0) return [];
    try {
      return (JSON.parse(r.stdout) as { name: string }[]).map((t) => t.name).sort();
    } catch {
      return [];
    }
  }

  /** `bake --print`: the resolved definition; an unknown name or a broken file ends in one message. */
  async print(files: readonly string[], targets: readonly string[], cwd: string, env: Record<string, string>): Promise<BakeDefinition> {
    const r = await this.run(['bake', ...files.flatMap((f) => ['--file', f]), '--print', ...targets], { cwd, env });
    if (r.exitCode !== 0) {
      const msg =
        r.stderr
          .split('\n')
          .reverse()
          .find((l) => l.startsWith('ERROR:'))
          ?.replace(/^ERROR:\s*/, '') ?? r.stderr.trim();
      const unknown = /failed to find target (\S+)/.exec(msg);
      if (unknown) {
        const names = await this.names(files, cwd);
        const near = closest(unknown[1]!, names);
        const hint = near.length
          ? `; did you mean ${near.join(', ')}?`
          : names.length
            ? `; known names: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', …' : ''}`
            : '';
        throw new ActionError(`input \`target\`: unknown bake target or group "${unknown[1]}" in ${files.join(', ')}${hint}`);
      }
      throw new ActionError(`${this.command} bake --print failed for ${files.join(', ')}: ${msg}`);
    }
    try {
      return JSON.parse(r.stdout) as BakeDefinition;
    } catch {
      throw new ActionError(`${this.command} bake --print did not print JSON; is this buildx too old? (got: ${r.stdout.slice(0, 200)})`);
    }
  }
}
