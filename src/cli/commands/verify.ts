// CLI command `hashall verify`: re-read catalogued files against their recorded SHA-256 (all, some paths, or the scheduled slice).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { exitCodesHelp, type ExitStatus } from '../exit.js';
import { openCatalog } from '../../catalog/db.js';
import { verifyCatalog, verifyFoundProblems } from '../../catalog/verify.js';
import { ExitCode, HashallError } from '../../errors.js';
import { renderRepair, renderVerify, repairStopped, verifyProgressLine } from '../../render/verify-text.js';
import { stopOnSignals } from '../stop-signals.js';
import { progressLine } from '../progress-line.js';
import type { RepairOutcome } from '../../reconcile/repair.js';

interface VerifyOpts extends ConfigOptionValues {
  scheduled?: boolean;
  repair?: boolean;
  json?: boolean;
  hashWorkers: string;
}

export function register(program: Command, ctx: CliContext, exit: ExitStatus): void {
  const cmd = program
    .command('verify [paths...]')
    .description('re-read catalogued files and compare them with their recorded SHA-256: corrupted, changed, missing, unreadable')
    .option('--scheduled', 'only the files least recently verified, up to `verify.budget` (every file once per `verify.every`)')
    .option('--repair', 'restore each corrupted file from a copy proven good (another inode with the recorded SHA-256, re-hashed first) through apply\'s journaled, verified copy; the damaged file goes to the trash. Without such a copy, the torrent holding the file is rechecked by its client so it re-downloads the damaged pieces from the swarm; with neither, nothing is changed')
    .option('--hash-workers <n>', 'hashing threads', '2')
    .option('--json', 'print the report as one JSON document on stdout')
    .addHelpText(
      'after',
      '\nCorrupted means the same size and mtime as recorded but different bytes (bit rot, a bad disk); it is kept as a\n' +
        'problem until resolved, and plans block every group that would copy, link or retire with it.\n' +
        exitCodesHelp([
          [ExitCode.Ok, 'every file verified ok (with --repair: every corrupted file repaired and nothing else found)'],
          [ExitCode.Error, 'problems found (or an error)'],
          ExitCode.InvalidConfig,
          [ExitCode.LockHeld, '(--repair) another hashall run holds the lock'],
          [ExitCode.Interrupted, 'stopped by Ctrl-C (SIGINT) at a safe point: a repair in flight was rolled back or finished'],
          [ExitCode.Terminated, 'stopped by SIGTERM at a safe point, the same way'],
        ]),
    );
  addConfigOption(cmd);
  cmd.action(async (paths: string[], opts: VerifyOpts) => {
    const workers = Number(opts.hashWorkers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new HashallError(`--hash-workers must be an integer 1..64 (got ${opts.hashWorkers})`);
    if (opts.repair && opts.scheduled) throw new HashallError('--repair and --scheduled do not go together', { hint: 'run `hashall verify --repair` (or with paths) after the scheduled run found the damage' });
    if (opts.scheduled && paths.length > 0) throw new HashallError('--scheduled verifies the catalog by age; give either paths or --scheduled', { hint: 'drop the paths, or drop --scheduled' });
    const { config } = loadConfigForCommand(opts, ctx);
    const catalog = openCatalog(config.catalog);
    // Like apply: the first SIGINT/SIGTERM stops at the next safe point (a repair in flight is rolled back or finished), exit 130/143.
    const stop = stopOnSignals((line) => ctx.stderr.write(`hashall: ${line}\n`));
    const line = progressLine(ctx, verifyProgressLine);
    try {
      const report = await verifyCatalog(catalog, config, {
        paths,
        ...(opts.scheduled ? { scheduled: config.verify } : {}),
        now: ctx.now,
        hashWorkers: workers,
        signal: stop.signal,
        ...(line ? { onProgress: line.draw } : {}),
      }).catch((err: unknown) => {
        if (stop.received() === null) throw err;
        return null;
      });
      line?.clear();
      if (report === null) {
        ctx.stderr.write(`hashall: verify interrupted by ${stop.received()!}: what it read so far is not recorded and nothing was changed; run it again\n`);
        exit.set(stop.exitCode()!);
        return;
      }
      let repairs: RepairOutcome[] | null = null;
      if (opts.repair) {
        // Only what this verify re-read and found corrupted (at these paths, or anywhere without paths).
        const damaged = report.findings.filter((f) => f.status === 'corrupted').map((f) => f.path);
        // The repair's code (executor, client adapters, scanner) loads only for --repair: a plain verify only reads.
        const [{ repairCorrupted }, { clientsFromConfig }, { closeAll }, { copySignalHookFromEnv, crashHookFromEnv }, { eventSink }, { makeRescanRoot }] = await Promise.all([
          import('../../reconcile/repair.js'),
          import('../../clients/from-config.js'),
          import('../../clients/client-set.js'),
          import('../../apply/crash-hook.js'),
          import('../event-sink.js'),
          import('../../reconcile/refresh.js'),
        ]);
        const clients = clientsFromConfig(config, { now: ctx.now });
        const sink = eventSink(ctx, false);
        try {
          repairs =
            damaged.length === 0
              ? []
              : await repairCorrupted({ catalog, config, clients, paths: damaged, now: ctx.now, emit: copySignalHookFromEnv(ctx.env, opts.json ? () => undefined : sink.emit), rescanRoot: makeRescanRoot(config, ctx.now), log: sink.warn, stop: stop.signal, onBoundary: crashHookFromEnv(ctx.env) });
        } finally {
          sink.end();
          await closeAll(clients);
        }
      }
      const sig = stop.received();
      if (opts.json) ctx.stdout.write(JSON.stringify(repairs ? { ...report, repairs, ...(sig ? { interrupted: sig } : {}) } : report, null, 2) + '\n');
      else ctx.stdout.write(renderVerify(report, repairs !== null) + (repairs ? renderRepair(repairs) : '') + (sig && repairs ? repairStopped(sig, repairs) : ''));
      // A payload that differed only because of a corrupted file is whole again once that file is repaired.
      const repairedAll =
        repairs !== null &&
        report.findings.every((f) => f.status === 'corrupted' && repairs!.some((r) => r.status === 'repaired' && r.paths.includes(f.path))) &&
        repairs.every((r) => r.status === 'repaired');
      if (verifyFoundProblems(report) && !repairedAll) exit.set(ExitCode.Error);
      if (sig) exit.set(stop.exitCode()!);
    } finally {
      stop.dispose();
      catalog.close();
    }
  });
}
