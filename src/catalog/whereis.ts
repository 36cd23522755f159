// The `hashall whereis` report: every copy and hardlink of some content, which torrents use which copy, its consumers.
import { torrentKey, torrentLabel } from '../domain/instance.js';
import path from 'node:path';
import type { HashallConfig } from '../config/types.js';
import { dirName, isAtOrUnder } from '../domain/path-string.js';
import { compareBytes } from '../domain/payload-hash.js';
import { HashallError } from '../errors.js';
import type { CatalogDb } from './db.js';
import { filesystemByMount, hostPathContext, locateEntry, relToMount } from './host-paths.js';
import type { FilesystemRow } from './filesystems.js';
import { payloadReader, toCatalogFile, type FileRowOut } from './payload-rows.js';
import { snapshotRoots } from './snapshot.js';
import { lastSyncedAt } from './sync.js';
import { payloadHash } from '../domain/payload-hash.js';
import { readLink, readSymlinkTargets, resolveSymlink } from './symlinks.js';
import { symlinkHolderOf } from '../domain/symlink-holds.js';
import type { WhereisCopy, WhereisFile, WhereisResult } from './whereis-report.js';
import { matchHashPrefix, MIN_HASH_PREFIX, type HashCandidate } from '../domain/hash-prefix.js';

export type { WhereisCopy, WhereisFile, WhereisResult } from './whereis-report.js';

type ActiveTorrent = { client: string; hash: string; name: string; host_content_path: string | null; payload_hash: string | null };

function describeCandidate(c: HashCandidate<'torrent' | 'payload-hash'>): string {
  return c.kind === 'torrent' ? `torrent ${c.hash} (${c.label})` : `payload hash ${c.hash} (${c.label})`;
}

/**
 * What the user asked about: an info-hash or payload hash (full, or a unique prefix of ≥ 8 hex digits), else a
 * path (absolute, or relative to `cwd`), canonicalized like the scanner stores it.
 */
function resolveQuery(config: HashallConfig, active: ActiveTorrent[], q: string, cwd: string): { matched: WhereisResult['matched']; roots: string[]; via?: WhereisResult['via'] } {
  const candidates: HashCandidate<'torrent' | 'payload-hash'>[] = [
    ...active.map((t) => ({ kind: 'torrent' as const, hash: t.hash, label: t.name })),
    ...active.filter((t) => t.payload_hash !== null).map((t) => ({ kind: 'payload-hash' as const, hash: t.payload_hash as string, label: t.name })),
  ];
  const m = matchHashPrefix(q, candidates);
  if (m.status === 'ambiguous') {
    throw new HashallError(`${JSON.stringify(q)} is the start of ${m.matches.length} hashes: ${m.matches.map(describeCandidate).join('; ')}`, {
      hint: 'type more digits of the one you mean',
    });
  }
  if (m.status === 'unique') {
    const hash = m.match.hash;
    if (m.match.kind === 'torrent') {
      // The same info-hash may be seeded by several instances: every one's payload.
      const ts = active.filter((x) => x.hash === hash);
      const t = ts.find((x) => x.host_content_path === null);
      if (t) throw new HashallError(`torrent ${torrentLabel(t)} (${t.name}) has no host path: run \`hashall torrents\` to see why`);
      return { matched: 'torrent', roots: [...new Set(ts.map((x) => x.host_content_path as string))] };
    }
    return { matched: 'payload-hash', roots: [...new Set(active.filter((t) => t.payload_hash === hash && t.host_content_path !== null).map((t) => t.host_content_path as string))] };
  }
  const abs = path.resolve(cwd, q);
  const ctx = hostPathContext(config);
  const where = locateEntry(ctx, abs);
  if (where.ok) {
    // A library that links by symlink: the content is where the link points (read as the scan reads it, never followed to act).
    const target = readLink(where.loc.realPath); // null for anything but a symlink
    if (target !== null) return { matched: 'path', roots: [resolveSymlink(ctx, where.loc.path, target)], via: { link: where.loc.path, target } };
    return { matched: 'path', roots: [where.loc.path] };
  }
  if (m.status === 'too-short') {
    throw new HashallError(`${JSON.stringify(q)} is too short for a hash: give at least ${MIN_HASH_PREFIX} hex digits (and it is no path here either)`, {
      hint: 'the 8-digit short hashes hashall prints are enough',
    });
  }
  if (m.status === 'none') {
    throw new HashallError(`nothing matches ${JSON.stringify(q)}: no synced torrent's info-hash or known payload hash starts with it, and it is no path here`, {
      hint: 'run `hashall sync` first, or check the hash with `hashall torrents`',
    });
  }
  throw new HashallError(`nothing matches ${JSON.stringify(q)}: ${abs} ${where.code === 'ENOENT' ? 'does not exist' : `cannot be resolved (${where.code})`}`, {
    hint: 'pass a path (absolute or relative to the current directory), an info-hash or a payload hash (8 or more hex digits)',
  });
}

export function whereis(catalog: CatalogDb, config: HashallConfig, query: string, cwd: string): WhereisResult {
  const db = catalog.db;
  const fsRows = db.prepare(`SELECT * FROM filesystems`).all() as FilesystemRow[];
  const fsById = new Map(fsRows.map((r) => [r.id, r]));
  const instances = new Set(Object.keys(config.clients));
  const active = (db.prepare(`SELECT client, hash, name, host_content_path, payload_hash FROM torrents WHERE status = 'active'`).all() as ActiveTorrent[]).filter((t) =>
    instances.has(t.client),
  );
  const { matched, roots, via } = resolveQuery(config, active, query.trim(), cwd);
  const reader = payloadReader(catalog);
  const first = roots.map((r) => {
    const fs = filesystemByMount(fsRows, r);
    return fs && isAtOrUnder(r, fs.preferred_mount) ? reader.resolve(fs.id, fs.preferred_mount, relToMount(r, fs.preferred_mount)) : null;
  });
  const payload = first.find((p) => p !== null) ?? null;
  if (!payload) {
    const what = via ? `${via.link} is a symlink to ${via.target}, and ${roots.join(', ')}` : roots.join(', ') || query;
    throw new HashallError(`${what} has no files in the catalog`, { hint: 'scan the root that holds it (`hashall scan`)' });
  }
  const links = new Map(readSymlinkTargets(catalog).map((t) => [t.resolved, t.link]));
  const pHash = payloadHash(payload.files);
  const seedingRoots = snapshotRoots(catalog, config, hostPathContext(config))
    .filter((r) => r.kind === 'seeding')
    .map((r) => r.path);
  const byContent = new Map<string, typeof active>();
  for (const t of active) if (t.host_content_path) byContent.set(t.host_content_path, [...(byContent.get(t.host_content_path) ?? []), t]);
  const usersOf = (p: string) => {
    const out: { client: string; hash: string; name: string }[] = [];
    for (let a = p; a !== '' && a !== '/'; a = dirName(a)) for (const t of byContent.get(a) ?? []) out.push({ client: t.client, hash: t.hash, name: t.name });
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
      for (const u of usersOf(abs)) if (!c.torrents.some((x) => torrentKey(x) === torrentKey(u))) c.torrents.push(u);
      if (!seedingRoots.some((s) => isAtOrUnder(abs, s))) c.external.push(abs);
      copies.set(key, c);
    }
    for (const c of copies.values()) {
      c.paths.sort(compareBytes);
      c.external.sort(compareBytes);
      const reached = [...new Set(c.paths.map((x) => symlinkHolderOf(links, x)).filter((l): l is string => l !== null))].sort(compareBytes);
      if (reached.length > 0) c.symlinks = reached;
    }
    return { relpath: f.relpath, size: f.size, sha256: f.sha256, copies: [...copies.values()].sort((a, b) => a.fsId - b.fsId || a.ino - b.ino) };
  });
  // A library file (or any single hardlink) is used by every torrent seeding one of its copies, whatever its name.
  const usingCopies = new Set(files.flatMap((f) => f.copies.flatMap((c) => c.torrents.map((t) => torrentKey(t)))));
  const torrents = active
    .filter((t) => (t.host_content_path !== null && roots.includes(t.host_content_path)) || (pHash !== null && t.payload_hash === pHash) || usingCopies.has(torrentKey(t)))
    .map((t) => ({ client: t.client, hash: t.hash, name: t.name, hostContentPath: t.host_content_path, payloadHash: t.payload_hash }))
      .sort((a, b) => compareBytes(a.name, b.name) || compareBytes(a.hash, b.hash) || compareBytes(a.client, b.client));
  const syncs = Object.keys(config.clients).sort(compareBytes).map((client) => ({ client, syncedAt: lastSyncedAt(catalog, client) }));
  return { query, matched, roots, ...(via ? { via } : {}), payloadHash: pHash, files, torrents, syncs };
}
