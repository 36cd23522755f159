// The list of hashall commands and their modules, loaded when run: a command pays only for its own code at start-up.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { ExitStatus } from '../exit.js';

/** Registers one command; `exit` receives the code a command ends with when it does not throw. */
export type RegisterCommand = (program: Command, ctx: CliContext, exit: ExitStatus) => void;

type CommandModule = () => Promise<{ register: RegisterCommand }>;

/** Every command in help order: its name on the command line → its module (each file registers itself). */
const COMMANDS: ReadonlyArray<readonly [string, CommandModule]> = [
  ['validate', () => import('./validate.js')],
  ['init', () => import('./init.js')],
  ['scan', () => import('./scan.js')],
  ['catalog', () => import('./catalog.js')],
  ['dupes', () => import('./dupes.js')],
  ['sync', () => import('./sync.js')],
  ['torrents', () => import('./torrents.js')],
  ['whereis', () => import('./whereis.js')],
  ['plan', () => import('./plan.js')],
  ['show', () => import('./show.js')],
  ['apply', () => import('./apply.js')],
  ['runs', () => import('./runs.js')],
  ['unlock', () => import('./unlock.js')],
  ['recover', () => import('./recover.js')],
  ['verify', () => import('./verify.js')],
  ['doctor', () => import('./doctor.js')],
  ['orphans', () => import('./orphans.js')],
  ['trash', () => import('./trash.js')],
  ['reconcile', () => import('./reconcile.js')],
  ['reclaim', () => import('./reclaim.js')],
];

/**
 * The commands `argv` needs: the one it names (its first word), none for a bare `--version`, and every command
 * otherwise (`--help`, `help`, a mistyped name: commander lists them or suggests the nearest).
 */
export function commandsFor(argv: readonly string[]): string[] {
  // The program's own `-c/--config FILE` may come first: its value is no command name.
  const first = argv.find((a, i) => !a.startsWith('-') && !(i > 0 && (argv[i - 1] === '-c' || argv[i - 1] === '--config')));
  if (first !== undefined && COMMANDS.some(([name]) => name === first)) return [first];
  if (first === undefined && argv.length > 0 && argv.every((a) => a === '--version' || a === '-V')) return [];
  return COMMANDS.map(([name]) => name);
}

export async function registerCommands(program: Command, ctx: CliContext, exit: ExitStatus, argv: readonly string[]): Promise<void> {
  const wanted = new Set(commandsFor(argv));
  const modules = await Promise.all(COMMANDS.filter(([name]) => wanted.has(name)).map(([, load]) => load()));
  for (const m of modules) m.register(program, ctx, exit);
}
