// CLI command `hashall unlock RUN_ID [--force]`: clear the apply lock record of a run whose process is gone.
import os from 'node:os';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { describeHolder, unlockRun } from '../../apply/lock.js';
import { unlockView } from '../../render/status-view.js';
import { writeView } from '../write-view.js';

interface UnlockOptions extends ConfigOptionValues {
  force?: boolean;
  json?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('unlock')
    .description('clear the apply lock held by RUN_ID when its process is gone (then `hashall recover` rolls back its open group)')
    .argument('<run-id>', 'the run holding the lock (named in the "lock held" error)')
    .option('--force', 'clear it even if hashall cannot prove the holder is gone (only its pid runs on this host, or the lock file cannot be read); never a holder of the lock file')
    .option('--json', 'print one JSON document { unlocked: { runId, pid, host, command, startedAt } } on stdout');
  addConfigOption(cmd);
  cmd.action((runId: string, opts: UnlockOptions) => {
    const { config } = loadConfigForCommand(opts, ctx);
    const catalog = openCatalog(config.catalog);
    try {
      const holder = unlockRun(catalog.db, runId, { host: os.hostname(), force: Boolean(opts.force) });
      writeView(ctx, unlockView(holder, describeHolder(holder), opts.json === true));
    } finally {
      catalog.close();
    }
  });
}
