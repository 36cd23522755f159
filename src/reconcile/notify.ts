// The orchestration's notifications: the catalog opened for their record (or not, when it cannot be), and the end of an apply.
import { openCatalog, type CatalogDb, type Db } from '../catalog/db.js';
import type { RunResult } from '../apply/executor.js';
import type { HashallConfig } from '../config/types.js';
import { ConfigError, ExitCode, HashallError, LockHeldError, errorText } from '../errors.js';
import { applyNotice, failureNotice, lockHeldNotice } from '../notify/notice.js';
import { describeHolder, LockRefusedError } from '../apply/lock.js';
import { LOCK_HELD_NOTIFY_AFTER, markStreakNotified, stuckHolderAdvice } from '../apply/lock-streak.js';
import { failureCleared, hostName, notify, notifyFailureOnce, type NotifyDeps } from '../notify/notify.js';

/**
 * Run `fn` with the catalog open (null when it cannot be opened: notifications then go unrecorded), closing it after.
 * Without notification targets there is nothing to record: the catalog is not opened at all (`fn` gets null).
 * `open`: the caller's open catalog, used (and left open) instead of opening another connection.
 */
export async function withCatalogDb<T>(config: Pick<HashallConfig, 'catalog' | 'notify'>, fn: (db: Db | null) => Promise<T>, open?: CatalogDb): Promise<T> {
  if (open !== undefined) return fn((config.notify ?? []).length > 0 ? open.db : null);
  let catalog: CatalogDb | null = null;
  try {
    catalog = (config.notify ?? []).length > 0 ? openCatalog(config.catalog) : null;
  } catch {
    catalog = null;
  }
  try {
    return await fn(catalog?.db ?? null);
  } finally {
    catalog?.close();
  }
}

/** Tell the targets that an apply ended: its result on its run record, or a failure that came before or outside a run. */
export async function notifyApplyEnd(config: HashallConfig, deps: NotifyDeps, end: { result: RunResult } | { error: unknown; what: string }): Promise<void> {
  if ((config.notify ?? []).length === 0) return;
  const ctx = { host: hostName(), at: deps.now() };
  if ('result' in end) {
    await withCatalogDb(config, (db) => {
      failureCleared(config, db, ctx.at);
      return notify(config, db, applyNotice(end.result, ctx), deps);
    });
    return;
  }
  const err = end.error;
  if (err instanceof LockRefusedError) {
    await notifyLockRefused(config, deps, err, end.what);
    return;
  }
  // A lock of a run that is gone (not taken over here): said on stderr and by doctor; a declined prompt or a signal is a person's choice.
  if (err instanceof LockHeldError || (err instanceof HashallError && err.exitCode === ExitCode.Cancelled) || err instanceof ConfigError) return;
  // Told once while the same failure lasts: `apply` from cron every night against a client that stays down.
  await withCatalogDb(config, (db) => notifyFailureOnce(config, db, failureNotice(end.what, errorText(err), ctx), deps));
}

/**
 * A run (`what`) refused because another run holds the lock: the targets are told once the streak of runs refused by
 * that holder (counted on disk by the refusal, src/apply/lock-streak.ts) reaches LOCK_HELD_NOTIFY_AFTER, and not again
 * for that streak once every target took it (a failed target: the next refused run tries again). Fewer refusals: the
 * holder is most likely a long run that reports itself.
 */
export async function notifyLockRefused(config: HashallConfig, deps: NotifyDeps, err: LockRefusedError, what: string): Promise<void> {
  const { streak, file, lockFile } = err.refusal;
  if ((config.notify ?? []).length === 0 || streak === null || streak.count < LOCK_HELD_NOTIFY_AFTER || streak.notifiedAt !== null) return;
  const holder = err.holder ? describeHolder(err.holder) : `a process holding ${lockFile} that recorded no run`;
  const notice = lockHeldNotice(what, streak, { holder, advice: stuckHolderAdvice(streak.holder, lockFile) }, { host: hostName(), at: deps.now() });
  const outcomes = await notify(config, null, notice, deps);
  if (!outcomes.every((o) => o.status === 'sent')) return;
  try {
    markStreakNotified(file, streak, deps.now());
  } catch (e) {
    deps.report({ target: 'lock streak', event: 'failed', status: 'failed', attempts: 1, error: `could not note the notice in ${file} (the next refused run tells again): ${(e as Error).message}` });
  }
}
