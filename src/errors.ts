// Typed errors carrying a documented process exit code and the underlying cause (pure).

/** Exit codes of every hashall command (documented in README and --help). */
export const ExitCode = {
  Ok: 0,
  Error: 1,
  ChangesPending: 2,
  InvalidConfig: 3,
  LockHeld: 4,
  StalePlan: 5,
  /** The user answered anything but "yes" at the apply prompt: nothing was changed. */
  Cancelled: 6,
  /** apply stopped by Ctrl-C (SIGINT, 128 + 2) or SIGTERM (128 + 15): the current group rolled back or finished. */
  Interrupted: 130,
  Terminated: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What each exit code means, in general; `hashall --help`, each command's help and the README table come from here. */
export const EXIT_CODE_MEANING: Record<ExitCode, string> = {
  [ExitCode.Ok]: 'success (plan: no changes with --detailed-exitcode)',
  [ExitCode.Error]: 'error, or problems found (doctor, verify, a failed group in apply)',
  [ExitCode.ChangesPending]: 'changes pending (plan --detailed-exitcode)',
  [ExitCode.InvalidConfig]: 'invalid configuration',
  [ExitCode.LockHeld]: 'another hashall run holds the lock',
  [ExitCode.StalePlan]: 'saved plan is stale (re-plan)',
  [ExitCode.Cancelled]: 'apply declined at the prompt (nothing changed)',
  [ExitCode.Interrupted]: 'apply, reconcile, verify or scan stopped by Ctrl-C (SIGINT) at a safe point',
  [ExitCode.Terminated]: 'apply, reconcile, verify or scan stopped by SIGTERM at a safe point',
};

/** Base class: anything thrown on purpose by hashall. `hint` says what the user can do. */
export class HashallError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  constructor(message: string, opts: { exitCode?: ExitCode; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = opts.exitCode ?? ExitCode.Error;
    this.hint = opts.hint;
  }
}

/** An error as one line for run records, events and notifications: a HashallError's message with its hint, else the message. */
export function errorText(err: unknown): string {
  if (err instanceof HashallError) return err.hint ? `${err.message} (hint: ${err.hint})` : err.message;
  return err instanceof Error ? err.message : String(err);
}

/** One problem found in a config file, positioned for `file:line:col` output. */
export interface ConfigProblem {
  severity: 'error' | 'warning';
  file: string;
  line: number;
  col: number;
  /** Key path such as `placement.rules[1].place`. Empty for document-level problems. */
  path: string;
  message: string;
  hint?: string;
}

export class ConfigError extends HashallError {
  readonly problems: ConfigProblem[];
  constructor(message: string, problems: ConfigProblem[], opts: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...opts, exitCode: ExitCode.InvalidConfig });
    this.problems = problems;
  }
}

export class LockHeldError extends HashallError {
  constructor(message: string, opts: { hint?: string } = {}) {
    super(message, { ...opts, exitCode: ExitCode.LockHeld });
  }
}

export class StalePlanError extends HashallError {
  constructor(message: string, opts: { hint?: string } = {}) {
    super(message, { hint: opts.hint ?? 'run `hashall plan` again and apply the new plan', exitCode: ExitCode.StalePlan });
  }
}

/** A failure talking to the torrent client (transport, auth, protocol). URLs in messages are redacted. */
export class ClientError extends HashallError {
  readonly kind: 'network' | 'timeout' | 'auth' | 'http' | 'protocol' | 'unconfirmed';
  readonly status: number | undefined;
  constructor(kind: ClientError['kind'], message: string, opts: { status?: number; cause?: unknown; hint?: string } = {}) {
    super(message, { cause: opts.cause, hint: opts.hint });
    this.kind = kind;
    this.status = opts.status;
  }
}

/** A filesystem operation failed; `code` is the errno name (ENOSPC, EXDEV, EACCES, ...). */
export class FsError extends HashallError {
  readonly code: string | undefined;
  readonly path: string | undefined;
  constructor(message: string, opts: { code?: string; path?: string; cause?: unknown; hint?: string } = {}) {
    super(message, { cause: opts.cause, hint: opts.hint });
    this.code = opts.code;
    this.path = opts.path;
  }
}

/** apply was asked to stop (SIGINT/SIGTERM): thrown at a safe point so the group rolls back like any failure. */
export class InterruptedError extends HashallError {}

/** The catalog refuses to do something unsafe (empty root, root on another filesystem, ...). */
export class CatalogError extends HashallError {}

/** The catalog is of another schema than this hashall's: an older one not yet upgraded, or a newer hashall's. */
export class CatalogSchemaError extends CatalogError {}

export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof (err as { code: unknown }).code === 'string'
    ? (err as { code: string }).code
    : undefined;
}
