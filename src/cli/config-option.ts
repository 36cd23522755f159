// The shared `--config FILE` option and the config loading every command that needs hashall.yaml uses.
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import type { HashallConfig } from '../config/types.js';
import type { ConfigProblem } from '../errors.js';
import { loadConfig, resolveConfigPath } from '../config/load.js';
import { formatConfigProblem } from '../render/config-problem.js';
import { CONFIG_OPTION_HELP, configOnce, type ConfigOptionValues } from './config-flag.js';

export type { ConfigOptionValues } from './config-flag.js';

export function addConfigOption(cmd: Command): Command {
  return cmd.option('-c, --config <file>', CONFIG_OPTION_HELP, configOnce);
}

/** Loads the config named by `--config` / $HASHALL_CONFIG / ./hashall.yaml; prints warnings on stderr; throws ConfigError (exit 3). */
export function loadConfigForCommand(opts: ConfigOptionValues, ctx: CliContext): { config: HashallConfig; warnings: ConfigProblem[] } {
  const file = resolveConfigPath(opts.config, ctx.env, ctx.cwd);
  const result = loadConfig(file, { env: ctx.env, cwd: ctx.cwd });
  for (const w of result.warnings) ctx.stderr.write(formatConfigProblem(w) + '\n');
  return result;
}
