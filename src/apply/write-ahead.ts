// Group commit for the apply journal: each write commits at once (a kill -9 loses none) and the writes made since the last change are fsynced together, in one fsync of the WAL, right before the next change on disk or in the client.
// The write-ahead rule is what crash recovery needs: every journal record describing a change is durable before that
// change can happen. The executor used synchronous=FULL instead (one WAL fsync per journal write, 6–7 per dedupe
// group); with this, a group pays one WAL fsync before its first change and none for the writes between two changes
// (planned, running, undo data) or after its last change (done, bookkeeping: durable before the next group's first
// change, or at the end of the run). What the WAL sync does not cover — the change itself (a rename) — is fsynced by
// the step where a crash could otherwise lose track of it.
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { checkpointWal, totalChangesReader, type CatalogDb } from '../catalog/db.js';
import type { TorrentClient } from '../clients/types.js';
import { errnoCode } from '../errors.js';
import type { FsPort } from './fs-port.js';

export interface WriteAhead {
  /** Make every committed journal write durable (one fsync of the WAL), unless nothing was written since the last sync. */
  sync(): void;
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

/**
 * Syncs when this connection changed rows since the last sync (`total_changes()` counts every insert, update and
 * delete on it: the journal's and the bookkeeping's alike). `fsync` replaces the WAL fsync in tests.
 */
export function writeAhead(catalog: CatalogDb, fsync: (catalog: CatalogDb) => void = fsyncWal): WriteAhead {
  const count = totalChangesReader(catalog.db);
  let synced = -1;
  return {
    sync() {
      const n = count();
      if (n === synced) return;
      fsync(catalog);
      synced = n;
    },
  };
}

/** FsPort calls that change the disk; every one is preceded by a journal sync. Reads (lstat, hash, compare, readdir) are not. */
const CHANGES = ['copyFileVerified', 'link', 'rename', 'unlink', 'rmdir', 'rmTree', 'mkdirUnder', 'mkdirp', 'holdPrivateDir'] as const satisfies readonly (keyof FsPort)[];

/** The FsPort with the journal synced before every change it makes. */
export function writeAheadFs(fs: FsPort, wa: WriteAhead): FsPort {
  const out: FsPort = { ...fs };
  for (const op of CHANGES) {
    const real = fs[op] as (...args: unknown[]) => Promise<unknown>;
    (out as unknown as Record<string, unknown>)[op] = (...args: unknown[]) => {
      wa.sync();
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
const READS = new Set<string>(['version', 'listTorrents', 'getTorrent', 'listFiles', 'checkingLimit', 'renamesIncompleteFiles', 'waitFor', 'close', 'usesStopStart'] satisfies (keyof TorrentClient | 'usesStopStart')[]);

/** The client with the journal synced before every call that may change something in it. */
export function writeAheadClient(client: TorrentClient, wa: WriteAhead): TorrentClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (typeof prop !== 'string' || !READS.has(prop)) wa.sync();
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
