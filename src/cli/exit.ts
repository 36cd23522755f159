// The exit status a command reports without throwing (e.g. plan: 2 = changes pending), and exit-code help text from the one table.
import { EXIT_CODE_MEANING, ExitCode } from '../errors.js';

/** Created once per CLI invocation by `main` and handed to every command; the last `set` wins. */
export interface ExitStatus {
  set(code: ExitCode): void;
  readonly code: ExitCode;
}

export function newExitStatus(): ExitStatus {
  let code: ExitCode = ExitCode.Ok;
  return {
    set(c) {
      code = c;
    },
    get code() {
      return code;
    },
  };
}

/** One help line for the codes a command can end with; a pair overrides the general meaning with the command's own. */
export function exitCodesHelp(codes: Array<ExitCode | readonly [ExitCode, string]>): string {
  const parts = codes.map((c) => (Array.isArray(c) ? `${c[0]} ${c[1]}` : `${c as ExitCode} ${EXIT_CODE_MEANING[c as ExitCode]}`));
  return `\nExit codes: ${parts.join('; ')}.`;
}

/** The full table, for `hashall --help`. */
export function allExitCodesHelp(): string {
  const rows = Object.values(ExitCode).map((c) => `  ${String(c).padEnd(4)} ${EXIT_CODE_MEANING[c]}`);
  return `\nExit codes:\n${rows.join('\n')}`;
}
