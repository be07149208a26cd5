/**
 * The CLI's one error type: a sentence, a stable code and the process exit code. `main.ts` prints
 * it as the single line `crucible: <message> (<code>)`; nothing else prints errors.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: string,
    /** 2 for usage errors, 1 for API and network errors (README "CLI"). */
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A mistake in how the CLI was called: exit code 2, like most Unix tools. */
export const usageError = (message: string) => new CliError(message, 'usage', 2);
