// CLI command `hashall trash [--json]`, `trash restore <RUN|PATH>` and `trash purge [--older-than D]`: the staged trash of retires, listed, put back, or removed.
import { isAtOrUnder } from '../../domain/path-string.js';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { exitCodesHelp, type ExitStatus } from '../exit.js';
import { makeRescanRoot } from '../../reconcile/refresh.js';
import { openCatalog } from '../../catalog/db.js';
import { parseDuration } from '../../config/units.js';
import { ExitCode, HashallError } from '../../errors.js';
import { crashHookFromEnv } from '../../apply/crash-hook.js';
import { realFsPort } from '../../apply/fs-port.js';
import { listTrash } from '../../apply/trash-list.js';
import { restoreFromTrash } from '../../apply/trash-restore.js';
import { runTrashCommand } from '../../apply/trash-run.js';
import { purgeTrash } from '../../apply/trash.js';
import { jsonDocument } from '../../render/json.js';
import { RESTORE_NOTE, renderTrashList, purgeProgressLine, renderTrashPurge, renderTrashRestore, restoreNotRefreshedLine } from '../../render/trash-text.js';
import { progressLine } from '../progress-line.js';
import { refuseUnknownSubcommands } from '../unknown-subcommand.js';

interface TrashOptions extends ConfigOptionValues {
  json?: boolean;
}

export function register(program: Command, ctx: CliContext, exit: ExitStatus): void {
  const trash = program.command('trash').description('what retires staged in .hashall-trash: run, original path, size, when it is purged, why').option('--json', 'one JSON document on stdout');
  addConfigOption(trash);
  trash.action(async (opts: TrashOptions) => {
    const { config } = loadConfigForCommand(opts, ctx);
    const catalog = openCatalog(config.catalog, { readonly: true });
    try {
      const items = await listTrash({ catalog, config, fs: realFsPort() });
      if (opts.json) {
        ctx.stdout.write(jsonDocument({ items }));
        return;
      }
      ctx.stdout.write(renderTrashList(items));
    } finally {
      catalog.close();
    }
  });

  const restore = trash
    .command('restore')
    .description('put what a run staged back exactly where it was (same inodes), refusing to overwrite anything')
    .argument('<run-or-path>', 'a run id (everything it staged), the original path, or the path inside .hashall-trash')
    .option('--json', 'one JSON document on stdout')
    .addHelpText('after', exitCodesHelp([[ExitCode.Ok, 'everything restored (or already back)'], [ExitCode.Error, 'something was in the way or failed; nothing was overwritten'], ExitCode.InvalidConfig, ExitCode.LockHeld]));
  addConfigOption(restore);
  restore.action(async (target: string, opts: TrashOptions) => {
    const merged = { ...trash.opts<TrashOptions>(), ...opts };
    const { config } = loadConfigForCommand(merged, ctx);
    const rescanRoot = makeRescanRoot(config, ctx.now);
    const run = { config, command: `hashall trash restore ${target}`, now: ctx.now, onBoundary: crashHookFromEnv(ctx.env) };
    const { runId, result } = await runTrashCommand(run, async ({ catalog, runId, journal }) => {
      const out = await restoreFromTrash({ catalog, config, fs: realFsPort(), now: ctx.now, runId, journal }, path.isAbsolute(target) ? target : target.includes('/') ? path.resolve(ctx.cwd, target) : target);
      const refreshed: string[] = [];
      for (const o of out.filter((x) => x.action === 'restored')) {
        const fsName = Object.entries(config.filesystems).find(([, f]) => o.origin !== f.path && isAtOrUnder(o.origin, f.path))?.[0];
        if (!fsName) continue;
        try {
          await rescanRoot(catalog, path.dirname(o.origin), fsName);
          refreshed.push(o.origin);
        } catch (err) {
          ctx.stderr.write(restoreNotRefreshedLine(path.dirname(o.origin), (err as Error).message));
        }
      }
      const bad = out.filter((o) => o.action === 'refused' || o.action === 'missing');
      return { result: out, status: bad.length ? (bad.length === out.length ? 'failed' : 'partial') : 'succeeded', error: bad.length ? bad.map((o) => o.reason).join('; ') : null };
    });
    ctx.stdout.write(merged.json ? jsonDocument({ runId, restored: result, note: RESTORE_NOTE }) : renderTrashRestore(runId, result));
    exit.set(result.every((o) => o.action === 'restored' || o.action === 'already-restored') ? ExitCode.Ok : ExitCode.Error);
  });

  const purge = trash
    .command('purge')
    .description('remove staged trash whose run ended more than safety.retire.observeHours (or --older-than) ago; only what hashall recorded')
    .option('--older-than <duration>', 'instead of observeHours: how long ago the run that staged it must have ended (e.g. 7d, 12h)')
    .option('--json', 'one JSON document on stdout');
  addConfigOption(purge);
  purge.action(async (opts: TrashOptions & { olderThan?: string }) => {
    const merged = { ...trash.opts<TrashOptions>(), ...opts };
    const { config } = loadConfigForCommand(merged, ctx);
    let olderThanMs: number | undefined;
    if (opts.olderThan !== undefined) {
      // A plain number is hours, as `safety.retire.observeHours` (the string form alone needs a unit).
      const ms = parseDuration(/^[0-9]+(\.[0-9]+)?$/.test(opts.olderThan.trim()) ? Number(opts.olderThan) : opts.olderThan, 'h');
      if (ms === null) throw new HashallError(`--older-than ${JSON.stringify(opts.olderThan)} is not a duration`, { hint: 'write it like 72h, 7d or 1d12h (a plain number is hours)' });
      olderThanMs = ms;
    }
    // Reading kept copies again (safety.retire.purgeCheck: full) takes as long as reading what is freed: a line on a terminal.
    const line = progressLine(ctx, purgeProgressLine);
    const { runId, result } = await runTrashCommand({ config, command: `hashall trash purge${opts.olderThan === undefined ? '' : ` --older-than ${opts.olderThan}`}`, now: ctx.now }, async ({ catalog, runId }) => {
      const out = await purgeTrash({ catalog, config, fs: realFsPort(), now: ctx.now, emit: () => undefined, runId, olderThanMs, ...(line ? { onProgress: line.draw } : {}) }).finally(() => line?.clear());
      const failed = out.filter((o) => o.action === 'failed');
      const freed = out.filter((o) => o.action === 'removed').reduce((n, o) => n + o.bytes, 0);
      return { result: out, status: failed.length ? 'partial' : 'succeeded', error: failed.length ? failed.map((o) => o.reason).join('; ') : null, bytesFreed: freed };
    });
    ctx.stdout.write(merged.json ? jsonDocument({ runId, trash: result }) : renderTrashPurge(runId, result));
    exit.set(result.some((o) => o.action === 'failed') ? ExitCode.Error : ExitCode.Ok);
  });
  refuseUnknownSubcommands(trash);
}
