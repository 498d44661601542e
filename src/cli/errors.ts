// Exit codes and the error type for problems the user can act on, shared by every command.
export const EXIT = {
  ok: 0,
  /** the factory has errors (diagnostics printed) or a build/test failed */
  failed: 1,
  /** the command line is wrong */
  usage: 2,
  /** --check found stale or missing generated files / lock pins */
  stale: 3,
  /** a bug or an environment problem (missing tool, unreadable file) */
  internal: 4,
} as const;

/** An error the user can act on that is not about a factory file (bad id, missing tool...). */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
