// The orchestration's notifications: the catalog opened for their record (or not, when it cannot be), and the end of an apply.
import { openCatalog, type CatalogDb, type Db } from '../catalog/db.js';
import type { RunResult } from '../apply/executor.js';
import type { HashallConfig } from '../config/types.js';
import { ConfigError, ExitCode, HashallError, LockHeldError, errorText } from '../errors.js';
import { applyNotice, failureNotice } from '../notify/notice.js';
import { hostName, notify, type NotifyDeps } from '../notify/notify.js';

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
    await withCatalogDb(config, (db) => notify(config, db, applyNotice(end.result, ctx), deps));
    return;
  }
  // Another run holds the lock (it notifies itself); a declined prompt or a signal is a person's choice.
  const err = end.error;
  if (err instanceof LockHeldError || (err instanceof HashallError && err.exitCode === ExitCode.Cancelled) || err instanceof ConfigError) return;
  await notify(config, null, failureNotice(end.what, errorText(err), ctx), deps);
}
