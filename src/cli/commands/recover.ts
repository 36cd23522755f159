// CLI command `hashall recover`: roll back (or finish) the open group of apply runs interrupted on this host.
import { ExitCode } from '../../errors.js';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { exitCodesHelp, type ExitStatus } from '../exit.js';
import { runRecover } from '../../reconcile/apply.js';
import { eventSink } from '../event-sink.js';
import { makeRescanRoot } from '../../reconcile/refresh.js';
import { clientsFromConfig } from '../../clients/from-config.js';
import { closeAll } from '../../clients/client-set.js';
import { jsonDocument } from '../../render/json.js';
import { renderRecover } from '../../render/recover-text.js';

interface RecoverOptions extends ConfigOptionValues {
  json?: boolean;
}

export function register(program: Command, ctx: CliContext, exit: ExitStatus): void {
  const cmd = program
    .command('recover')
    .description('roll back the half-done group of an interrupted apply (kill -9, power loss) using its journal')
    .option('--json', 'one JSON document on stdout')
    .addHelpText('after', exitCodesHelp([[ExitCode.Ok, 'nothing to recover, or every run recovered'], [ExitCode.Error, 'a run needs attention, or an error'], ExitCode.InvalidConfig, ExitCode.LockHeld]));
  addConfigOption(cmd);
  cmd.action(async (opts: RecoverOptions) => {
    const { config } = loadConfigForCommand(opts, ctx);
    const clients = clientsFromConfig(config, { now: ctx.now });
    const sink = eventSink(ctx, false);
    try {
      const out = await runRecover({
        config,
        clients,
        command: 'hashall recover',
        now: ctx.now,
        emit: sink.emit,
        rescanRoot: makeRescanRoot(config, ctx.now),
        log: sink.warn,
      });
      ctx.stdout.write(opts.json ? jsonDocument({ recovered: out }) : renderRecover(out));
      exit.set(out.some((r) => r.status === 'needs-attention') ? ExitCode.Error : ExitCode.Ok);
    } finally {
      await closeAll(clients);
    }
  });
}
