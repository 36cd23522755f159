// The relocations table (migration 3; torrent_clients since migration 12; unhealthy_* since 21), its one owner: what apply moved, when its
// torrents were repointed and when a sync last saw one unhealthy on the target — recorded by apply's bookkeeping and the sync, read by the plan snapshot and the retire step.
import { DEFAULT_INSTANCE } from '../domain/instance.js';
import type { SnapshotRelocation } from '../domain/snapshot.js';
import { tableExists, type CatalogDb, type Db } from './db.js';
import type { FilesystemRow } from './filesystems.js';
import { moveUndone, observedSince, relocatedTorrentState, type RelocatedTorrentState } from '../domain/move-undone.js';
import { isAtOrUnder } from '../domain/path-string.js';
import { isSettled, type TorrentPhase } from '../domain/torrent-phase.js';

interface RelocationRow {
  id: number;
  payload_hash: string;
  source_fs: string;
  source_root: string;
  target_fs: string;
  target_root: string;
  torrent_hashes: string;
  torrent_clients?: string | null;
  repointed_at: number;
  /** When it stopped waiting for a retire: its source retired, or the move reverted (see recordRelocation). */
  retired_at: number | null;
  /** The last sync that saw one of its torrents at the target and not settled (migration 21; absent before it), and what it saw. */
  unhealthy_at?: number | null;
  unhealthy_what?: string | null;
}

/** The relocation's torrents, hashes and instances side by side; NULL instances (recorded before migration 12): every torrent was of the single instance. */
function torrentsOf(r: Pick<RelocationRow, 'torrent_hashes' | 'torrent_clients'>): { hashes: string[]; clients: string[] } {
  const hashes = JSON.parse(r.torrent_hashes) as string[];
  return { hashes, clients: r.torrent_clients ? (JSON.parse(r.torrent_clients) as string[]) : hashes.map(() => DEFAULT_INSTANCE) };
}

/** Relocations recorded by apply (migration 3; none in older catalogs). source_fs / target_fs are config names, mapped to catalog ids (-1 = unknown). */
export function readRelocations(catalog: CatalogDb, named: readonly FilesystemRow[]): SnapshotRelocation[] {
  if (!tableExists(catalog.db, 'relocations')) return [];
  const idOf = (name: string): number => named.find((r) => r.name === name)?.id ?? -1;
  const rows = catalog.db.prepare(`SELECT * FROM relocations ORDER BY id`).all() as RelocationRow[];
  return rows.map((r) => {
    const { hashes, clients } = torrentsOf(r);
    return {
      id: r.id,
      payloadHash: r.payload_hash,
      sourceFsId: idOf(r.source_fs),
      sourceRoot: r.source_root,
      targetFsId: idOf(r.target_fs),
      targetRoot: r.target_root,
      torrentHashes: hashes,
      torrentClients: clients,
      repointedAt: r.repointed_at,
      retiredAt: r.retired_at,
      unhealthy: r.unhealthy_at == null ? null : { at: r.unhealthy_at, what: r.unhealthy_what ?? 'a torrent not settled' },
    };
  });
}

/** The source roots of the open moves (not retired, not reverted): each waits for its own retire, never an orphan. Sorted, distinct. */
export function openMoveSources(db: Db): string[] {
  if (!tableExists(db, 'relocations')) return [];
  return db.prepare(`SELECT DISTINCT source_root FROM relocations WHERE retired_at IS NULL ORDER BY source_root`).pluck().all() as string[];
}

/** The torrents relocation `id` moved (null: no such relocation). */
export function relocationTorrents(db: Db, id: number): { hashes: string[]; clients: string[] } | null {
  const r = db.prepare(`SELECT torrent_hashes, torrent_clients FROM relocations WHERE id = ?`).get(id) as Pick<RelocationRow, 'torrent_hashes' | 'torrent_clients'> | undefined;
  return r ? torrentsOf(r) : null;
}

/**
 * Since when relocation `id` has been observed healthy: its repoint, or the last sync that saw one of its torrents
 * unhealthy on the target, whichever is later (null: unknown; undefined: no such relocation).
 */
export function relocationObservedSince(db: Db, id: number): number | null | undefined {
  const r = db.prepare(`SELECT * FROM relocations WHERE id = ?`).get(id) as RelocationRow | undefined;
  if (!r) return undefined;
  if (r.repointed_at === null) return null;
  return observedSince({ repointedAt: r.repointed_at, unhealthy: r.unhealthy_at == null ? null : { at: r.unhealthy_at, what: '' } });
}

export interface NewRelocation {
  payloadHash: string;
  sourceFs: string;
  sourceRoot: string;
  targetFs: string;
  targetRoot: string;
  torrents: { client: string; hash: string }[];
  runId: string;
  repointedAt: number;
}

/**
 * Record a relocation unless the same payload's move from `sourceRoot` to `targetRoot` is already recorded and not
 * retired. A move back closes the open move of the same payload the other way (from `targetRoot` to `sourceRoot`):
 * its source is live again — torrents were just repointed onto it — so it is never to be retired, and its target is
 * this move's source, retired by this one in its time. Closed means retired_at set: the column says when a relocation
 * stopped waiting for a retire (its source retired, or the move reverted). The same move recorded again by a group
 * that `repointed` restarts its observation window. Returns whether anything was written.
 */
export function recordRelocation(db: Db, rel: NewRelocation, opts: { repointed?: boolean } = {}): boolean {
  const reverted = db
    .prepare(`UPDATE relocations SET retired_at = ? WHERE payload_hash = ? AND source_root = ? AND target_root = ? AND retired_at IS NULL`)
    .run(rel.repointedAt, rel.payloadHash, rel.targetRoot, rel.sourceRoot).changes;
  const exists = db
    .prepare(`SELECT id FROM relocations WHERE payload_hash = ? AND source_root = ? AND target_root = ? AND retired_at IS NULL`)
    .get(rel.payloadHash, rel.sourceRoot, rel.targetRoot) as { id: number } | undefined;
  if (exists) {
    // Its torrents were repointed onto the target again (they had been moved back by hand): the observation window
    // counts from this repoint. A group that changed nothing leaves it as it was.
    const again = opts.repointed ? db.prepare(`UPDATE relocations SET repointed_at = ? WHERE id = ? AND repointed_at < ?`).run(rel.repointedAt, exists.id, rel.repointedAt).changes : 0;
    return reverted > 0 || again > 0;
  }
  db.prepare(
    `INSERT INTO relocations (payload_hash, source_fs, source_root, target_fs, target_root, torrent_hashes, torrent_clients, run_id, repointed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    rel.payloadHash,
    rel.sourceFs,
    rel.sourceRoot,
    rel.targetFs,
    rel.targetRoot,
    JSON.stringify(rel.torrents.map((t) => t.hash)),
    JSON.stringify(rel.torrents.map((t) => t.client)),
    rel.runId,
    rel.repointedAt,
  );
  return true;
}

/** Mark relocation `id` retired at `at` (its source is gone). Returns whether it was open. */
export function markRelocationRetired(db: Db, id: number, at: number): boolean {
  return db.prepare(`UPDATE relocations SET retired_at = ? WHERE id = ? AND retired_at IS NULL`).run(at, id).changes > 0;
}

/**
 * Close every open relocation whose move the torrents' rows show undone by hand (moveUndone: each torrent it moved is
 * known removed, re-added elsewhere, or seeds from its source again, at least one does; a row synced before the repoint
 * is no witness), at `at`. Called by the sync, in its transaction,
 * after it recorded its instance's torrents: were it left open, a move onto the target again by hand would inherit
 * the old observation window and the source could be retired before the torrent had seeded from the target for it.
 * Closing only ever keeps a source (never retired by this move); the copy on the target is left to the orphan rules.
 * Returns how many were closed.
 */
export function closeUndoneRelocations(db: Db, at: number): number {
  if (!tableExists(db, 'relocations')) return 0;
  const open = db.prepare(`SELECT id, payload_hash, source_fs, source_root, target_fs, target_root, torrent_hashes, torrent_clients, repointed_at FROM relocations WHERE retired_at IS NULL`).all() as Omit<RelocationRow, 'retired_at'>[];
  if (open.length === 0) return 0;
  const row = db.prepare(`SELECT status, host_content_path, fs_id, payload_hash, synced_at, removed_at FROM torrents WHERE client = ? AND hash = ?`);
  const fsIds = db.prepare(`SELECT id FROM filesystems WHERE name = ?`).pluck();
  // A row marked removed proves the removal only while its instance's syncs succeed (as the planner's knownRemoved).
  const answered = db.prepare(`SELECT synced_at IS NOT NULL AND failed_at IS NULL FROM client_status WHERE client = ?`).pluck();
  const close = db.prepare(`UPDATE relocations SET retired_at = ? WHERE id = ? AND retired_at IS NULL`);
  let closed = 0;
  for (const r of open) {
    const { hashes, clients } = torrentsOf(r);
    const sourceIds = new Set(fsIds.all(r.source_fs) as number[]);
    const targetIds = new Set(fsIds.all(r.target_fs) as number[]);
    const fs = { isSource: (id: number) => sourceIds.has(id), isTarget: (id: number) => targetIds.has(id) };
    const move = { sourceRoot: r.source_root, targetRoot: r.target_root, payloadHash: r.payload_hash };
    const states: RelocatedTorrentState[] = hashes.map((hash, i) => {
      const t = row.get(clients[i], hash) as { status: string; host_content_path: string | null; fs_id: number | null; payload_hash: string | null; synced_at: number; removed_at: number | null } | undefined;
      // A row last synced (or marked removed) before the repoint says where the torrent was, not where it is: another
      // instance's sync (one after the other, apply's re-read included) must not read its torrent, not yet re-read, as
      // moved back by hand.
      if (t === undefined || (t.status === 'removed' ? (t.removed_at ?? 0) : t.synced_at) < r.repointed_at) return 'other';
      if (t.status === 'removed') return answered.get(clients[i]) === 1 ? 'removed' : 'other';
      return relocatedTorrentState(move, fs, { hostContentPath: t.host_content_path, fsId: t.fs_id, payloadHash: t.payload_hash });
    });
    if (moveUndone(states)) closed += close.run(at, r.id).changes;
  }
  return closed;
}

/**
 * Restart the observation window of every open relocation one of whose torrents of instance `client` the sync just
 * recorded at the move's target and not settled (checking, downloading, paused incomplete, missing files, errored,
 * moving — anything but complete and at rest): its source may be retired only after observeHours of healthy seeding
 * from the target, and this sync saw otherwise. Called by the sync, in its transaction, after it recorded the
 * instance's torrents. A torrent elsewhere is the retire planner's business (it blocks, or the move was left or undone).
 * Returns how many relocations it marked.
 */
export function noteUnhealthyRelocations(db: Db, client: string, at: number): number {
  if (!tableExists(db, 'relocations')) return 0;
  const open = db.prepare(`SELECT id, target_root, torrent_hashes, torrent_clients FROM relocations WHERE retired_at IS NULL`).all() as Pick<RelocationRow, 'id' | 'target_root' | 'torrent_hashes' | 'torrent_clients'>[];
  if (open.length === 0) return 0;
  const row = db.prepare(`SELECT name, raw_state, phase, progress, amount_left, host_content_path FROM torrents WHERE client = ? AND hash = ? AND status = 'active'`);
  const mark = db.prepare(`UPDATE relocations SET unhealthy_at = ?, unhealthy_what = ? WHERE id = ? AND (unhealthy_at IS NULL OR unhealthy_at < ?)`);
  let marked = 0;
  for (const r of open) {
    const { hashes, clients } = torrentsOf(r);
    for (const [i, hash] of hashes.entries()) {
      if (clients[i] !== client) continue;
      const t = row.get(client, hash) as { name: string; raw_state: string; phase: TorrentPhase; progress: number; amount_left: number; host_content_path: string | null } | undefined;
      if (!t || t.host_content_path === null) continue;
      if (!isAtOrUnder(t.host_content_path, r.target_root) && !isAtOrUnder(r.target_root, t.host_content_path)) continue;
      if (isSettled({ phase: t.phase, progress: t.progress, amountLeft: t.amount_left })) continue;
      const left = t.amount_left > 0 ? `, ${t.amount_left} bytes left` : '';
      marked += mark.run(at, `torrent "${t.name}" was ${t.phase} (${t.raw_state}${left})`, r.id, at).changes;
      break;
    }
  }
  return marked;
}
