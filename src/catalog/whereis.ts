// The `hashall whereis` report: every copy and hardlink of some content, which torrents use which copy, its consumers.
import type { HashallConfig } from '../config/types.js';
import { dirName, isAtOrUnder } from '../domain/path-string.js';
import { compareBytes } from '../domain/payload-hash.js';
import { HashallError } from '../errors.js';
import type { CatalogDb } from './db.js';
import { filesystemByMount, hostPathContext, locateHostPath, relToMount } from './host-paths.js';
import type { FilesystemRow } from './filesystems.js';
import { payloadReader, toCatalogFile, type FileRowOut } from './payload-rows.js';
import { snapshotRoots } from './snapshot.js';
import { payloadHash } from '../domain/payload-hash.js';

export interface WhereisCopy {
  fs: string | null;
  fsId: number;
  ino: number;
  nlink: number;
  /** Every active catalog path of this inode (its hardlinks). */
  paths: string[];
  /** Torrents whose content path holds one of these paths. */
  torrents: { hash: string; name: string }[];
  /** Paths of this inode outside every seeding root. */
  external: string[];
}

export interface WhereisFile {
  relpath: string;
  size: number;
  sha256: string | null;
  copies: WhereisCopy[];
}

export interface WhereisResult {
  query: string;
  matched: 'torrent' | 'payload-hash' | 'path';
  /** The payload roots the query resolved to (canonical). */
  roots: string[];
  payloadHash: string | null;
  files: WhereisFile[];
  /** Every active torrent whose payload is one of the roots, or has the same payload hash. */
  torrents: { hash: string; name: string; hostContentPath: string | null; payloadHash: string | null }[];
}

const HEX = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

export function whereis(catalog: CatalogDb, config: HashallConfig, query: string, cwd: string): WhereisResult {
  const db = catalog.db;
  const fsRows = db.prepare(`SELECT * FROM filesystems`).all() as FilesystemRow[];
  const fsById = new Map(fsRows.map((r) => [r.id, r]));
  const active = db.prepare(`SELECT hash, name, host_content_path, payload_hash FROM torrents WHERE status = 'active'`).all() as {
    hash: string;
    name: string;
    host_content_path: string | null;
    payload_hash: string | null;
  }[];
  let matched: WhereisResult['matched'];
  let roots: string[];
  const q = query.trim();
  if (HEX.test(q) && active.some((t) => t.hash === q.toLowerCase())) {
    matched = 'torrent';
    const t = active.find((x) => x.hash === q.toLowerCase())!;
    if (t.host_content_path === null) throw new HashallError(`torrent ${t.hash} (${t.name}) has no host path: run \`hashall torrents\` to see why`);
    roots = [t.host_content_path];
  } else if (/^[0-9a-f]{64}$/i.test(q) && active.some((t) => t.payload_hash === q.toLowerCase())) {
    matched = 'payload-hash';
    roots = [...new Set(active.filter((t) => t.payload_hash === q.toLowerCase() && t.host_content_path !== null).map((t) => t.host_content_path as string))];
  } else if (q.startsWith('/') || q.startsWith('.') || q.includes('/')) {
    matched = 'path';
    const where = locateHostPath(hostPathContext(config), q.startsWith('/') ? q : `${cwd}/${q}`);
    if (!where.ok) throw new HashallError(`${q} cannot be resolved on this host (${where.code})`);
    roots = [where.loc.path];
  } else {
    throw new HashallError(`nothing matches ${JSON.stringify(q)}: not a synced torrent's info-hash, a known payload hash, or a path`, {
      hint: 'run `hashall sync` first; pass an absolute path, an info-hash (40/64 hex) or a payload hash (64 hex)',
    });
  }
  const reader = payloadReader(catalog);
  const first = roots.map((r) => {
    const fs = filesystemByMount(fsRows, r);
    return fs && isAtOrUnder(r, fs.preferred_mount) ? reader.resolve(fs.id, fs.preferred_mount, relToMount(r, fs.preferred_mount)) : null;
  });
  const payload = first.find((p) => p !== null) ?? null;
  if (!payload) throw new HashallError(`${roots.join(', ') || q} has no files in the catalog`, { hint: 'scan the root that holds it (`hashall scan`)' });
  const pHash = payloadHash(payload.files);
  const seedingRoots = snapshotRoots(catalog, config, hostPathContext(config))
    .filter((r) => r.kind === 'seeding')
    .map((r) => r.path);
  const byContent = new Map<string, typeof active>();
  for (const t of active) if (t.host_content_path) byContent.set(t.host_content_path, [...(byContent.get(t.host_content_path) ?? []), t]);
  const usersOf = (p: string) => {
    const out: { hash: string; name: string }[] = [];
    for (let a = p; a !== '' && a !== '/'; a = dirName(a)) for (const t of byContent.get(a) ?? []) out.push({ hash: t.hash, name: t.name });
    return out;
  };
  const bySha = db.prepare(`SELECT id, fs_id, path, ino, size, mtime_ns, nlink, sha256 FROM files WHERE sha256 = ? AND size = ? AND status = 'active'`);
  const byInode = db.prepare(`SELECT id, fs_id, path, ino, size, mtime_ns, nlink, sha256 FROM files INDEXED BY files_fs_ino WHERE fs_id = ? AND ino = ? AND status = 'active'`);
  const files: WhereisFile[] = payload.files.map((f) => {
    const rows = (f.sha256 !== null ? bySha.all(f.sha256, f.size) : byInode.all(f.fsId, f.ino)) as FileRowOut[];
    const copies = new Map<string, WhereisCopy>();
    for (const r of rows) {
      const fs = fsById.get(r.fs_id)!;
      const abs = toCatalogFile(r, fs.preferred_mount).path;
      const key = `${r.fs_id}:${r.ino}`;
      const c = copies.get(key) ?? { fs: fs.name, fsId: r.fs_id, ino: r.ino, nlink: r.nlink, paths: [], torrents: [], external: [] };
      c.paths.push(abs);
      for (const u of usersOf(abs)) if (!c.torrents.some((x) => x.hash === u.hash)) c.torrents.push(u);
      if (!seedingRoots.some((s) => isAtOrUnder(abs, s))) c.external.push(abs);
      copies.set(key, c);
    }
    for (const c of copies.values()) {
      c.paths.sort(compareBytes);
      c.external.sort(compareBytes);
    }
    return { relpath: f.relpath, size: f.size, sha256: f.sha256, copies: [...copies.values()].sort((a, b) => a.fsId - b.fsId || a.ino - b.ino) };
  });
  const torrents = active
    .filter((t) => (t.host_content_path !== null && roots.includes(t.host_content_path)) || (pHash !== null && t.payload_hash === pHash))
    .map((t) => ({ hash: t.hash, name: t.name, hostContentPath: t.host_content_path, payloadHash: t.payload_hash }))
    .sort((a, b) => compareBytes(a.name, b.name) || compareBytes(a.hash, b.hash));
  return { query, matched, roots, payloadHash: pHash, files, torrents };
}
