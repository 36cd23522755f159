// CLI command `hashall validate`: checks hashall.yaml and reports every problem (exit 0 valid, 3 invalid).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { checkConfig, resolveConfigPath } from '../../config/load.js';
import { addConfigOption, type ConfigOptionValues } from '../config-option.js';
import { exitCodesHelp, type ExitStatus } from '../exit.js';
import { ExitCode } from '../../errors.js';
import { validateView } from '../../render/status-view.js';
import { writeView } from '../write-view.js';

export function register(program: Command, ctx: CliContext, exit: ExitStatus): void {
  const cmd = program
    .command('validate')
    .description('check hashall.yaml (YAML, schema, cross-field rules, paths) and report every problem')
    .option('--json', 'print one JSON document { ok, file, errors, warnings } on stdout')
    .option('--offline', 'schema and cross-field checks only: no environment variable is read (${VAR} is checked for syntax), no filesystem, no client — for CI without secrets or mounts')
    .addHelpText('after', exitCodesHelp([[ExitCode.Ok, 'valid (warnings allowed)'], [ExitCode.InvalidConfig, 'invalid'], [ExitCode.Error, 'unexpected error']]));
  addConfigOption(cmd);
  cmd.action((opts: ConfigOptionValues & { json?: boolean; offline?: boolean }) => {
    const file = resolveConfigPath(opts.config, ctx.env, ctx.cwd);
    const offline = opts.offline === true;
    const { problems, unresolvedReferences } = checkConfig(file, { env: ctx.env, cwd: ctx.cwd, offline });
    writeView(ctx, validateView({ file, problems, offline, unresolvedReferences }, opts.json === true));
    if (problems.some((p) => p.severity === 'error')) exit.set(ExitCode.InvalidConfig);
  });
}
