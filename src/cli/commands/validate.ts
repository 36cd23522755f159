// CLI command `hashall validate`: checks hashall.yaml and reports every problem (exit 0 valid, 3 invalid).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { checkConfig, resolveConfigPath } from '../../config/load.js';
import { formatConfigProblem } from '../format-problem.js';
import { addConfigOption, type ConfigOptionValues } from '../config-option.js';
import { exitCodesHelp, type ExitStatus } from '../exit.js';
import { ExitCode } from '../../errors.js';
import { jsonDocument } from '../../render/json.js';

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
    const errors = problems.filter((p) => p.severity === 'error');
    const warnings = problems.filter((p) => p.severity === 'warning');
    const ok = errors.length === 0;
    if (opts.json) {
      ctx.stdout.write(jsonDocument({ ok, file, errors, warnings, ...(offline ? { offline, unresolvedReferences } : {}) }));
    } else {
      for (const p of problems) ctx.stderr.write(formatConfigProblem(p) + '\n');
      const scope = offline ? `; offline: schema and cross-field checks only, ${unresolvedReferences} environment reference(s) not resolved, no filesystem or client checked` : '';
      const counts = `${errors.length} error${errors.length === 1 ? '' : 's'}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}${scope}`;
      ctx.stdout.write(ok ? `${file}: valid (${counts})\n` : `${file}: invalid (${counts})\n`);
    }
    if (!ok) exit.set(ExitCode.InvalidConfig);
  });
}
