// Errors that tell an operator what was being done, to which object, why it failed, and
// what to do about it.

export interface ArcaErrorOptions {
  /** What to do about it, in the operator's terms. */
  hint?: string;
  cause?: unknown;
}

export class ArcaError extends Error {
  readonly hint: string | undefined;

  constructor(message: string, options: ArcaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** The message of any thrown value, for wrapping it into a message of our own. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The whole story for a terminal: message, then the hint. */
export function describeError(err: unknown): string {
  if (err instanceof ArcaError && err.hint) return `${err.message}\n  hint: ${err.hint}`;
  return messageOf(err);
}
