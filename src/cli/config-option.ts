// The shared `--config FILE` option and the config loading every command that needs hashall.yaml uses.
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import type { HashallConfig } from '../config/types.js';
import type { ConfigProblem } from '../errors.js';
import { loadConfig, resolveConfigPath } from '../config/load.js';
import { formatConfigProblem } from '../render/config-problem.js';

export interface ConfigOptionValues {
  config?: string;
}

export const CONFIG_OPTION_HELP = 'config file (default: $HASHALL_CONFIG, then ./hashall.yaml)';

export function addConfigOption(cmd: Command): Command {
  return cmd.option('-c, --config <file>', CONFIG_OPTION_HELP);
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

/** Loads the config named by `--config` / $HASHALL_CONFIG / ./hashall.yaml; prints warnings on stderr; throws ConfigError (exit 3). */
export function loadConfigForCommand(opts: ConfigOptionValues, ctx: CliContext): { config: HashallConfig; warnings: ConfigProblem[] } {
  const file = resolveConfigPath(opts.config, ctx.env, ctx.cwd);
  const result = loadConfig(file, { env: ctx.env, cwd: ctx.cwd });
  for (const w of result.warnings) ctx.stderr.write(formatConfigProblem(w) + '\n');
  return result;
}
