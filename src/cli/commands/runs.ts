// CLI command `hashall runs [--json]` and `hashall runs show ID [--json]`: the apply run records.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { HashallError } from '../../errors.js';
import { getRun, listRuns } from '../../apply/run-store.js';
import { RUN_FORMAT_VERSION } from '../../apply/journal.js';
import { formatRunDetail, formatRunList } from '../../render/apply-text.js';

interface RunsOptions extends ConfigOptionValues {
  json?: boolean;
}

function withCatalog<T>(opts: RunsOptions, ctx: CliContext, fn: (db: ReturnType<typeof openCatalog>) => T): T {
  const { config } = loadConfigForCommand(opts, ctx);
  const catalog = openCatalog(config.catalog, { readonly: true });
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
      ctx.stdout.write(opts.json ? JSON.stringify({ formatVersion: RUN_FORMAT_VERSION, runs: list }, null, 2) + '\n' : formatRunList(list));
    });
  });
  const show = runs.command('show').description('show one run with every group and step, its outcome, reason and error').argument('<id>', 'run id (see `hashall runs`)').option('--json', 'one JSON document on stdout');
  addConfigOption(show);
  show.action((id: string, opts: RunsOptions) => {
    const merged = { ...runs.opts<RunsOptions>(), ...opts };
    withCatalog(merged, ctx, (catalog) => {
      const run = getRun(catalog.db, id);
      if (!run) throw new HashallError(`no run with id ${id}`, { hint: 'list runs with `hashall runs`' });
      ctx.stdout.write(merged.json ? JSON.stringify(run, null, 2) + '\n' : formatRunDetail(run));
    });
  });
}
