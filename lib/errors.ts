/**
 * Errors a user can act on. The CLI prints `message` as one line (no stack trace) and exits non-zero;
 * anything that is not a CxrError is a bug and is printed with its stack.
 */
export class CxrError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;
  constructor(message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CxrError';
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A problem with one input file: the message always starts with the file's path. */
export class InputFileError extends CxrError {
  constructor(readonly file: string, readonly reason: string, options: { cause?: unknown } = {}) {
    super(`${file}: ${reason}`, { ...options, exitCode: 2 });
    this.name = 'InputFileError';
  }
}

/** Wrong arguments or configuration (exit code 64, like EX_USAGE). */
export class UsageError extends CxrError {
  constructor(message: string) {
    super(message, { exitCode: 64 });
    this.name = 'UsageError';
  }
}

/** One line describing any thrown value, for messages and problem lists. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0];
  return String(err);
}
