// The `-c, --config FILE` flag itself: its help text, its value's shape, and the program-level flag handed to the command
// that runs. Imports only commander at run time, so the program (and `--version`) can use it without loading the config code.
import { InvalidArgumentError, type Command } from 'commander';

export interface ConfigOptionValues {
  config?: string;
}

export const CONFIG_OPTION_HELP = 'config file (default: $HASHALL_CONFIG, then ./hashall.yaml)';

/** The option's value parser: `--config A --config B` is a usage error, never B silently winning over A. */
export function configOnce(value: string, previous: string | undefined): string {
  if (previous !== undefined) throw new InvalidArgumentError(`--config given twice (${previous}, then ${value}): give it once`);
  return value;
}

/**
 * The program's `--config FILE` (given before the command) handed to the command that runs: an error when that
 * command reads no config or was given `--config` itself too — never silently dropped or overridden.
 */
export function passGlobalConfig(program: Command, action: Command): void {
  const file = program.opts<ConfigOptionValues>().config;
  if (file === undefined) return;
  if (!action.options.some((o) => o.long === '--config')) {
    action.error(`error: '${action.name()}' reads no config file: remove --config`);
  }
  if (action.opts<ConfigOptionValues>().config !== undefined) {
    action.error('error: --config given twice (before and after the command): give it once');
  }
  action.setOptionValueWithSource('config', file, 'cli');
}
