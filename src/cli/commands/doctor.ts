// CLI command `hashall doctor`: config, catalog, filesystems, hardlinks, free space, client, path maps, lock, runs, trash.
import { ExitCode } from '../../errors.js';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, type ConfigOptionValues } from '../config-option.js';
import { exitCodesHelp, type ExitStatus } from '../exit.js';
import { runDoctor } from '../../doctor/checks.js';
import { renderDoctor } from '../../render/doctor-text.js';
import { loadConfig, resolveConfigPath } from '../../config/load.js';
import { notifyDoctorFindings } from '../../notify/notify.js';
import { eventSink } from '../event-sink.js';
import { notifyDeps } from '../notify-deps.js';
import { withCatalogDb } from '../../reconcile/notify.js';

export function register(program: Command, ctx: CliContext, exit: ExitStatus): void {
  const cmd = program
    .command('doctor')
    .description('check everything hashall depends on and say how to fix what is wrong')
    .option('--json', 'print one JSON document on stdout')
    .option('--no-notify', 'do not tell the `notify:` targets about new problems')
    .addHelpText(
      'after',
      '\nChecks: config; catalog integrity (PRAGMA quick_check) and schema; every filesystem mounted with the identity the\n' +
        'catalog recorded, and its free space against safety.minFree; a hardlink probe in each seeding root; the client\n' +
        '(reachable, authenticated, version) and its path maps; scan and sync freshness; the lock (its age, and the runs\n' +
        'it refused in a row); unfinished or needs-attention runs; damaged files; staged trash.\n' +
        exitCodesHelp([[ExitCode.Ok, 'healthy (warnings allowed)'], [ExitCode.Error, 'at least one problem']]),
    );
  addConfigOption(cmd);
  cmd.action(async (opts: ConfigOptionValues & { json?: boolean; notify?: boolean }) => {
    const configPath = resolveConfigPath(opts.config, ctx.env, ctx.cwd);
    const report = await runDoctor({ configPath, env: ctx.env, cwd: ctx.cwd, now: ctx.now });
    if (opts.json) ctx.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else ctx.stdout.write(renderDoctor(report));
    if (!report.healthy && opts.notify !== false) {
      // Only a config that loads names the targets (a broken config is itself the problem doctor reports).
      let config = null;
      try {
        config = loadConfig(configPath, { env: ctx.env, cwd: ctx.cwd }).config;
      } catch {
        config = null;
      }
      if (config) {
        const deps = notifyDeps(ctx, eventSink(ctx, false));
        // Remember what was notified only in a catalog doctor found sound and current (never create or migrate one here).
        const sound = report.checks.some((c) => c.id === 'catalog' && c.status === 'ok');
        if (sound) await withCatalogDb(config, (db) => notifyDoctorFindings(config, db, report, deps));
        else await notifyDoctorFindings(config, null, report, deps);
      }
    }
    if (!report.healthy) exit.set(ExitCode.Error);
  });
}
