// The `factory` command line. Parses arguments, wires the pure core to the filesystem, and maps
// outcomes to documented exit codes. Never prints a stack trace for a user error.
import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { buildFactory, error } from '../core/index.js';
import { FactoryError, type Diagnostic, type ResolvedFactory, type SourceFile } from '../core/types.js';
import { OutputWriteError, readTree, SOURCE_FILES } from '../io/tree.js';
import { paint, printDiagnostics, printJson, processIo, type Io } from './output.js';
import { COMMANDS, type Command, type CommandContext } from './commands.js';
import { EXIT, UserError } from './errors.js';

const GLOBAL_HELP = `factory — manifest-driven container image factory

Usage: factory [--root DIR] [--json] [--no-color] <command> [options]

Commands:
${Object.values(COMMANDS)
  .map((c) => (c.usage.length > 34 ? `  ${c.usage}\n  ${''.padEnd(34)} ${c.summary}` : `  ${c.usage.padEnd(34)} ${c.summary}`))
  .join('\n')}

Global options:
  --root DIR     the factory repository (default: current directory)
  --json         machine-readable output on stdout
  --no-color     no ANSI colours (also NO_COLOR=1)
  -h, --help     help for the command

Exit codes: 0 ok, 1 factory errors or failed build, 2 usage error,
            3 stale generated files or lock (--check), 4 internal/environment error.

Run 'factory <command> --help' for a command's options.`;

function commandHelp(c: Command): string {
  const opts = Object.entries(c.options ?? {})
    .map(([name, o]) => `  --${name}${o.type === 'string' ? ' VALUE' : ''}`.padEnd(26) + (o.description ?? ''))
    .join('\n');
  return `Usage: factory ${c.usage}\n\n${c.summary}\n${c.details ? `\n${c.details}\n` : ''}${opts ? `\nOptions:\n${opts}\n` : ''}`;
}

export async function run(argv: string[], io: Io = processIo()): Promise<number> {
  const globalOptions = {
    root: { type: 'string' as const },
    json: { type: 'boolean' as const, default: false },
    'no-color': { type: 'boolean' as const, default: false },
    help: { type: 'boolean' as const, short: 'h', default: false },
  };
  const commandIndex = argv.findIndex((a) => !a.startsWith('-') && !isOptionValue(argv, a));
  const name = commandIndex >= 0 ? argv[commandIndex] : undefined;
  if (!name) {
    io[argv.includes('--help') || argv.includes('-h') ? 'out' : 'err'](GLOBAL_HELP);
    return argv.includes('--help') || argv.includes('-h') ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`factory: unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(', ')}. See 'factory --help'.`);
    return EXIT.usage;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.filter((_, i) => i !== commandIndex),
      options: { ...globalOptions, ...(command.options ?? {}) },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.err(`factory ${name}: ${(e as Error).message}. See 'factory ${name} --help'.`);
    return EXIT.usage;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    io.out(commandHelp(command));
    return EXIT.ok;
  }
  if (values['no-color']) io = { ...io, color: false };
  const positionals = parsed.positionals;
  if (positionals.length < (command.positionals?.min ?? 0) || positionals.length > (command.positionals?.max ?? 0)) {
    io.err(`factory ${name}: expected ${command.usage}. See 'factory ${name} --help'.`);
    return EXIT.usage;
  }
  const root = path.resolve(typeof values.root === 'string' ? values.root : process.cwd());
  const ctx: CommandContext = {
    io,
    root,
    json: Boolean(values.json),
    values,
    positionals,
    load: (edit) => loadFactory(root, edit),
  };
  try {
    return await command.run(ctx);
  } catch (e) {
    if (e instanceof FactoryError) {
      report(ctx, e.diagnostics);
      return EXIT.failed;
    }
    if (e instanceof OutputWriteError) {
      io.err(`factory ${name}: ${e.message}`);
      return EXIT.internal;
    }
    if (e instanceof UserError) {
      io.err(`factory ${name}: ${e.message}`);
      return e.exitCode;
    }
    io.err(`factory ${name}: internal error: ${(e as Error).message ?? String(e)}`);
    if (process.env.FACTORY_DEBUG) io.err(String((e as Error).stack));
    else io.err(paint(io, 'dim', 'Set FACTORY_DEBUG=1 for the stack trace, and please report it.'));
    return EXIT.internal;
  }
}

// The command is the first word that is not an option; only the global --root takes a value
// before it.
function isOptionValue(argv: string[], arg: string): boolean {
  const i = argv.indexOf(arg);
  return i > 0 && argv[i - 1] === '--root';
}

export function report(ctx: CommandContext, diagnostics: Diagnostic[]): void {
  if (ctx.json) printJson(ctx.io, { ok: !diagnostics.some((d) => d.severity === 'error'), diagnostics });
  else printDiagnostics(ctx.io, diagnostics);
}

async function loadFactory(root: string, edit?: (files: SourceFile[]) => SourceFile[]): Promise<ResolvedFactory> {
  const read = await readTree(root);
  const files = edit ? edit(read) : read;
  const { factory, diagnostics } = buildFactory(files);
  const all = [...(await sourceFileKinds(root)), ...diagnostics];
  if (!factory || all.some((d) => d.severity === 'error')) throw new FactoryError(all);
  return factory;
}

/**
 * The tree reader skips a source file that is not a regular file (it cannot be read as one), so
 * the core sees a missing lock; `generate` and `lock` would then fail with EISDIR writing it.
 * Saying so here makes `validate` report it too.
 */
async function sourceFileKinds(root: string): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  for (const rel of SOURCE_FILES) {
    const st = await fs.lstat(path.join(root, rel)).catch(() => undefined);
    if (!st || st.isFile() || st.isSymbolicLink()) continue;
    out.push(
      error('not-a-file', `${rel} is ${st.isDirectory() ? 'a directory' : 'not a regular file'}`, {
        location: { file: rel, line: 1, column: 1 },
        hint: `remove it (rm -r ${rel}) and run 'factory lock' to write the lock file`,
      }),
    );
  }
  return out;
}
