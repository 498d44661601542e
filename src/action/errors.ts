/**
 * An error the user can fix. main.ts prints only its message (never a stack trace) through
 * core.setFailed; any other error is a bug and keeps its stack in the debug log.
 */
export class ActionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ActionError';
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
