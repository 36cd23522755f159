// Builds the commander program, registers every command, and maps any thrown error to an exit code.
import { Command, CommanderError } from 'commander';
import { ExitCode, HashallError, ConfigError } from '../errors.js';
import type { CliContext } from './context.js';
import { registerCommands } from './commands/index.js';
import { formatConfigProblem } from '../render/config-problem.js';
import { printableLines } from '../render/escape.js';
import { sourceMappedStack } from './stack-map.js';
import { catalogErrorOf } from '../catalog/sqlite-errors.js';
import { allExitCodesHelp, newExitStatus, type ExitStatus } from './exit.js';
import { CONFIG_OPTION_HELP, configOnce, passGlobalConfig } from './config-flag.js';

/** The program with the commands `argv` needs (all of them by default). */
export async function buildProgram(ctx: CliContext, exit: ExitStatus = newExitStatus(), argv: readonly string[] = []): Promise<Command> {
  const program = new Command();
  program
    .name('hashall')
    .description('Declarative reconciler: keep every torrent payload on the right filesystem, safely.')
    .version('0.1.0')
    // A usage error is one line (commander adds "Did you mean …?" for a mistyped command), not the whole help.
    .showHelpAfterError('(add --help for usage)')
    .allowExcessArguments(false)
    // `hashall --config FILE plan` as well as `hashall plan --config FILE`: before the command it belongs to the
    // program (positional options), and is handed to the command that runs.
    .enablePositionalOptions()
    .option('-c, --config <file>', CONFIG_OPTION_HELP, configOnce)
    .hook('preAction', passGlobalConfig)
    .addHelpText('after', allExitCodesHelp())
    .configureOutput({
      writeOut: (s) => void ctx.stdout.write(s),
      writeErr: (s) => void ctx.stderr.write(s),
    })
    .exitOverride();
  await registerCommands(program, ctx, exit, argv);
  return program;
}

/** Run the CLI with `argv` (without node and script) and return the exit code; never calls process.exit. */
export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const exit = newExitStatus();
  try {
    const program = await buildProgram(ctx, exit, argv);
    await program.parseAsync(argv, { from: 'user' });
    return exit.code;
  } catch (err) {
    return reportError(err, ctx);
  }
}

export function reportError(thrown: unknown, ctx: CliContext): number {
  // An SQLite error the user can act on (a full disk, a damaged catalog) is said as such, not as an unexpected error.
  const err = catalogErrorOf(thrown) ?? thrown;
  if (err instanceof CommanderError) {
    // help and version are "errors" to commander; usage errors were already printed. Help shown *for* an error (no
    // command, a command group without its subcommand) carries commander's exit code 1: a script must not read it as done.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.Ok;
    if (err.code === 'commander.help') return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Error;
    return ExitCode.Error;
  }
  if (err instanceof ConfigError) {
    for (const p of err.problems) ctx.stderr.write(formatConfigProblem(p) + '\n');
    ctx.stderr.write(`hashall: ${printableLines(err.message)}\n`);
    if (err.hint) ctx.stderr.write(`  hint: ${printableLines(err.hint)}\n`);
    return err.exitCode;
  }
  if (err instanceof HashallError) {
    ctx.stderr.write(`hashall: ${printableLines(err.message)}\n`);
    if (err.hint) ctx.stderr.write(`  hint: ${printableLines(err.hint)}\n`);
    if (ctx.env.HASHALL_DEBUG && err.cause) ctx.stderr.write(`  cause: ${sourceMappedStack(String((err.cause as Error).stack ?? err.cause))}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  ctx.stderr.write(`hashall: unexpected error: ${printableLines(e?.message ?? String(err))}\n`);
  if (ctx.env.HASHALL_DEBUG) ctx.stderr.write(`${sourceMappedStack(e?.stack ?? '')}\n`);
  ctx.stderr.write('  hint: rerun with HASHALL_DEBUG=1 for a stack trace and report it\n');
  return ExitCode.Error;
}
