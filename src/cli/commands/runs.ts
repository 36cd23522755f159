// CLI command `hashall runs [--json]` and `hashall runs show ID [--json]`: the apply run records.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { HashallError } from '../../errors.js';
import os from 'node:os';
import { ackRun, getRun, listRuns } from '../../apply/run-store.js';
import { RUN_FORMAT_VERSION } from '../../apply/journal.js';
import { runUser } from '../../apply/run-lock.js';
import { formatRunDetail, formatRunList } from '../../render/apply-text.js';
import { jsonDocument } from '../../render/json.js';
import { runAckView } from '../../render/status-view.js';
import { writeView } from '../write-view.js';
import { refuseUnknownSubcommands } from '../unknown-subcommand.js';

interface RunsOptions extends ConfigOptionValues {
  json?: boolean;
}

function withCatalog<T>(opts: RunsOptions, ctx: CliContext, fn: (db: ReturnType<typeof openCatalog>) => T, readonly = true): T {
  const { config } = loadConfigForCommand(opts, ctx);
  const catalog = openCatalog(config.catalog, { readonly });
  try {
    return fn(catalog);
  } finally {
    catalog.close();
  }
}

export function register(program: Command, ctx: CliContext): void {
  const runs = program.command('runs').description('list apply runs (who, when, which plan, outcome, bytes)').option('--json', 'one JSON document on stdout');
  addConfigOption(runs);
  runs.action((opts: RunsOptions) => {
    withCatalog(opts, ctx, (catalog) => {
      const list = listRuns(catalog.db);
      ctx.stdout.write(opts.json ? jsonDocument({ formatVersion: RUN_FORMAT_VERSION, runs: list }) : formatRunList(list));
    });
  });
  const show = runs.command('show').description('show one run with every group and step, its outcome, reason and error').argument('<id>', 'run id (see `hashall runs`)').option('--json', 'one JSON document on stdout');
  addConfigOption(show);
  show.action((id: string, opts: RunsOptions) => {
    const merged = { ...runs.opts<RunsOptions>(), ...opts };
    withCatalog(merged, ctx, (catalog) => {
      const run = getRun(catalog.db, id);
      if (!run) throw new HashallError(`no run with id ${id}`, { hint: 'list runs with `hashall runs`' });
      ctx.stdout.write(merged.json ? jsonDocument(run) : formatRunDetail(run));
    });
  });
  const ack = runs
    .command('ack')
    .description('acknowledge a needs-attention run you resolved by hand: records who and when; plan stops blocking its paths')
    .argument('<id>', 'run id (see `hashall runs`)')
    .option('--json', 'one JSON document on stdout');
  addConfigOption(ack);
  ack.action((id: string, opts: RunsOptions) => {
    const merged = { ...runs.opts<RunsOptions>(), ...opts };
    withCatalog(
      merged,
      ctx,
      (catalog) => {
        const run = getRun(catalog.db, id);
        if (!run) throw new HashallError(`no run with id ${id}`, { hint: 'list runs with `hashall runs`' });
        if (run.status !== 'needs-attention') {
          throw new HashallError(`run ${id} is ${run.status}, not needs-attention: there is nothing to acknowledge`, {
            hint: run.status === 'running' || run.status === 'interrupted' ? 'an unfinished run is resolved by `hashall recover`' : undefined,
          });
        }
        if (run.ackedAt !== null) {
          writeView(ctx, runAckView({ runId: id, ackedBy: run.ackedBy, ackedAt: run.ackedAt, already: true }, merged.json === true));
          return;
        }
        const by = `${runUser()}@${os.hostname()}`;
        const at = ctx.now();
        ackRun(catalog.db, id, by, at);
        writeView(ctx, runAckView({ runId: id, ackedBy: by, ackedAt: at, already: false }, merged.json === true));
      },
      false,
    );
  });
  refuseUnknownSubcommands(runs);
}
