/**
 * Errors. `UserError` is for anything the user can fix (a flag, a file, a dataset layout): the CLI prints
 * its one-line message and exits with `exitCode` (2) — no stack trace. Everything else is a bug and is
 * raised through `assert`, which is never swallowed.
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** Internal invariant violated: a bug in mic-train, not a user mistake. */
export class InternalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InternalError';
  }
}

export function assert(cond: unknown, msg: string | (() => string)): asserts cond {
  if (!cond) throw new InternalError(typeof msg === 'string' ? msg : msg());
}
