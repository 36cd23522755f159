// Group commit for the apply journal: each write commits at once (a kill -9 loses none) and the writes made since the last change are fsynced together, in one fsync of the WAL, right before the next change on disk or in the client.
// The write-ahead rule is what crash recovery needs: every journal record describing a change is durable before that
// change can happen. The executor used synchronous=FULL instead (one WAL fsync per journal write, 6–7 per dedupe
// group); with this, a group pays one WAL fsync before its first change and none for the writes between two changes
// (planned, running, undo data) or after its last change (done, bookkeeping: durable before the next group's first
// change, or at the end of the run). What the WAL sync does not cover — the change itself (a rename) — is fsynced by
// the step where a crash could otherwise lose track of it.
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { checkpointWal, totalChangesReader, type CatalogDb } from '../catalog/db.js';
import type { TorrentClient } from '../clients/types.js';
import { FsError, errnoCode, errorText } from '../errors.js';
import type { FsPort } from './fs-port.js';

export interface WriteAhead {
  /** Make every committed journal write durable (one fsync of the WAL), unless nothing was written since the last sync. */
  sync(): void;
  /**
   * The same before a change, off the main thread: resolves once an fsync that began after every journal write
   * committed so far has ended. Callers at the same time share one fsync (group commit); a write committed while an
   * fsync is in flight waits for the next one. With `upTo` (a {@link WriteAhead.mark} taken right after the caller's own
   * last journal write), only the writes up to it need be covered: other groups' later writes do not make it fsync again.
   */
  syncBefore(upTo?: number): Promise<void>;
  /** The position of the journal now: every write committed so far is at or before it. */
  mark(): number;
}

/** fsync of the catalog's write-ahead log; without one (not in WAL mode), a checkpoint that syncs the database. */
function fsyncWal(catalog: CatalogDb): void {
  let fd: number;
  try {
    fd = openSync(`${catalog.path}-wal`, 'r');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    checkpointWal(catalog.db);
    return;
  }
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncWal on a thread of libuv's pool: the main thread goes on serving the other groups meanwhile. */
async function fsyncWalAsync(catalog: CatalogDb): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(`${catalog.path}-wal`, 'r');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    checkpointWal(catalog.db);
    return;
  }
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Syncs when this connection changed rows since the last sync (`total_changes()` counts every insert, update and
 * delete on it: the journal's and the bookkeeping's alike). `fsync` replaces the WAL fsync in tests (called at once,
 * synchronously, by syncBefore too).
 */
export function writeAhead(catalog: CatalogDb, fsync?: (catalog: CatalogDb) => void | Promise<void>): WriteAhead {
  const count = totalChangesReader(catalog.db);
  let synced = -1;
  let inFlight: { covers: number; done: Promise<void> } | null = null;
  // Fail-stop: after one failed fsync nothing is durable any more as far as this run can tell — Linux marks the pages it
  // could not write clean, so a later fsync can succeed without them — and every later sync fails, naming the first error.
  let broken: unknown = null;
  const fail = (err: unknown): never => {
    broken ??= err;
    throw err;
  };
  const check = (): void => {
    if (broken === null) return;
    throw new FsError(
      `the journal in ${catalog.path}-wal could not be made durable (${errorText(broken)}): no further change is made in this run — a later fsync may report success for pages the disk never got`,
      { code: errnoCode(broken) ?? 'EIO', path: `${catalog.path}-wal`, cause: broken, hint: 'check the disk that holds the catalog (dmesg), then `hashall recover`' },
    );
  };
  return {
    sync() {
      check();
      const n = count();
      if (n <= synced) return;
      try {
        if (fsync) void Promise.resolve(fsync(catalog)).catch((err: unknown) => void (broken ??= err));
        else fsyncWal(catalog);
      } catch (err) {
        fail(err);
      }
      synced = Math.max(synced, n);
    },
    mark: count,
    async syncBefore(upTo) {
      check();
      const n = upTo ?? count();
      // Bounded: each turn either returns or waits out an fsync begun before this call (at most one), then starts its own.
      for (let turn = 0; turn < 3; turn++) {
        if (n <= synced) return;
        const shared = inFlight;
        if (shared) {
          await shared.done.catch(() => undefined);
          check();
          if (shared.covers >= n && synced >= n) return;
          continue;
        }
        const covers = count();
        const done = (async () => (fsync ? fsync(catalog) : fsyncWalAsync(catalog)))().then(() => {
          synced = Math.max(synced, covers);
        }, fail);
        const mine = { covers, done };
        inFlight = mine;
        try {
          await done;
        } finally {
          if (inFlight === mine) inFlight = null;
        }
        return;
      }
      // Still not covered (fsyncs in flight kept failing for others): one more, synchronously.
      this.sync();
    },
  };
}

/** FsPort calls that change the disk; every one is preceded by a journal sync. Reads (lstat, hash, compare, readdir) are not. */
const CHANGES = ['copyFileVerified', 'link', 'rename', 'renameAt', 'unlink', 'rmdir', 'rmdirAt', 'rmTree', 'mkdirUnder', 'mkdirAt', 'holdPrivateDir'] as const satisfies readonly (keyof FsPort)[];

/**
 * The FsPort with the journal synced before every change it makes: every write committed so far, or with `upTo`, every
 * write up to the mark it returns (the caller's own last journal write: see WriteAhead.syncBefore).
 */
export function writeAheadFs(fs: FsPort, wa: WriteAhead, upTo?: () => number): FsPort {
  return fsChangesAfter(fs, () => wa.syncBefore(upTo?.()));
}

/** The FsPort with `before` awaited before every change it makes (a throw of `before` fails the change, which is not made). */
export function fsChangesAfter(fs: FsPort, before: () => Promise<void>): FsPort {
  const out: FsPort = { ...fs };
  for (const op of CHANGES) {
    const real = fs[op] as (...args: unknown[]) => Promise<unknown>;
    (out as unknown as Record<string, unknown>)[op] = async (...args: unknown[]) => {
      await before();
      return real(...args);
    };
  }
  return out;
}

/**
 * TorrentClient calls that change nothing in the client: they need no sync. Every other call (a pause, a new location,
 * a recheck — and any method not listed here) is preceded by one. With several groups in flight a read of one group's
 * torrent came after another group's journal write almost every time: one WAL fsync per poll, on the main thread.
 */
const READS = new Set<string>(['version', 'listTorrents', 'getTorrent', 'listFiles', 'listTorrentsWithFiles', 'listHashes', 'checkingLimit', 'renamesIncompleteFiles', 'ownFolders', 'waitFor', 'close', 'usesStopStart'] satisfies (keyof TorrentClient | 'usesStopStart')[]);

/**
 * The client with the journal synced before every call that may change something in it: every write committed so far,
 * or with `upTo`, every write up to the mark it returns (the step's own last journal write: see WriteAhead.syncBefore).
 */
export function writeAheadClient(client: TorrentClient, wa: WriteAhead, upTo?: () => number): TorrentClient {
  return clientChangesAfter(client, () => wa.syncBefore(upTo?.()));
}

/** The client with `before` awaited before every call that may change something in it (a throw of `before` fails the call, which is not sent). */
export function clientChangesAfter(client: TorrentClient, before: () => Promise<void>): TorrentClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if (typeof prop === 'string' && READS.has(prop)) return (...args: unknown[]) => (v as (...a: unknown[]) => unknown).apply(target, args);
      return async (...args: unknown[]) => {
        await before();
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
