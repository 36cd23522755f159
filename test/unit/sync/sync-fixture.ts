// Test support for sync tests: two real tmpfs filesystems plus a bind alias, a hashall.yaml, a catalog, a clock.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openCatalog, type CatalogDb } from '../../../src/catalog/db.js';
import { scanRoots } from '../../../src/catalog/scan/scan-roots.js';
import type { ScanRootSpec } from '../../../src/catalog/scan/types.js';
import { loadConfig } from '../../../src/config/load.js';
import type { HashallConfig } from '../../../src/config/types.js';
import { payloadHash } from '../../../src/domain/payload-hash.js';
import { bindMount, makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';

export interface SyncFixture {
  tmp: TempDir;
  stash: string;
  pool: string;
  /** Bind mount of `stash`: the same filesystem under another spelling. */
  alias: string;
  seedS: string;
  seedP: string;
  /** The library as stored canonically (stash spelling) and as configured (alias spelling). */
  library: string;
  libraryAliasSpelling: string;
  configFile: string;
  clock: { t: number };
  now: () => number;
}

export function makeSyncFixture(prefix: string): SyncFixture {
  const tmp = makeTempDir(prefix);
  const stash = path.join(tmp.path, 'stash');
  const pool = path.join(tmp.path, 'pool');
  const alias = path.join(tmp.path, 'stash-alias');
  mountTmpfs(stash, 64 * 1024 * 1024, `${prefix}stash`);
  mountTmpfs(pool, 64 * 1024 * 1024, `${prefix}pool`);
  bindMount(stash, alias);
  const seedS = path.join(stash, 'media/torrents/seeding');
  const seedP = path.join(pool, 'media/torrents/seeding');
  const library = path.join(stash, 'media/movies');
  for (const d of [seedS, seedP, library]) mkdirSync(d, { recursive: true });
  const clock = { t: 1_700_000_000_000 };
  return {
    tmp,
    stash,
    pool,
    alias,
    seedS,
    seedP,
    library,
    libraryAliasSpelling: path.join(alias, 'media/movies'),
    configFile: path.join(tmp.path, 'hashall.yaml'),
    clock,
    now: () => (clock.t += 1000),
  };
}

/** Write hashall.yaml for the world (client url and path maps given) and load it like the CLI does. */
export function writeConfig(w: SyncFixture, o: { url: string; pathMaps?: { client: string; host: string }[]; extraLibraries?: string[] }): HashallConfig {
  const maps = o.pathMaps ?? [];
  const text = [
    'version: 1',
    'catalog: ./catalog.db',
    'filesystems:',
    `  stash: { path: ${JSON.stringify(path.join(w.stash, 'media'))}, aliases: [${JSON.stringify(path.join(w.alias, 'media'))}] }`,
    `  pool: { path: ${JSON.stringify(path.join(w.pool, 'media'))} }`,
    'seeding:',
    `  stash: [${JSON.stringify(w.seedS)}]`,
    `  pool: [${JSON.stringify(w.seedP)}]`,
    'libraries:',
    ...[w.libraryAliasSpelling, ...(o.extraLibraries ?? [])].map((l) => `  - ${JSON.stringify(l)}`),
    'client:',
    '  type: qbittorrent',
    `  url: ${o.url}`,
    ...(maps.length > 0 ? ['  pathMaps:', ...maps.flatMap((m) => [`    - client: ${JSON.stringify(m.client)}`, `      host: ${JSON.stringify(m.host)}`])] : []),
    'placement:',
    '  default: keep',
    '  rules:',
    '    - name: movies-go-cold',
    '      match: { categories: [movies] }',
    '      place: pool',
    'dedupe:',
    '  filesystems: [stash]',
    '  minSize: 1',
    'safety:',
    '  retire: { mode: never }',
    '  minFree: 1MiB',
  ].join('\n');
  writeFileSync(w.configFile, text + '\n');
  return loadConfig(w.configFile, { env: {}, cwd: w.tmp.path }).config;
}

export function openFixtureCatalog(config: HashallConfig): CatalogDb {
  return openCatalog(config.catalog);
}

/** Scan the given roots (default: every configured root) with the world's clock. */
export async function scan(w: SyncFixture, catalog: CatalogDb, config: HashallConfig, roots?: ScanRootSpec[], quickOnly = false) {
  const specs = roots ?? [...Object.values(config.seeding).flat().map((p) => ({ path: p, kind: 'seeding' as const })), ...config.libraries.map((p) => ({ path: p, kind: 'library' as const }))];
  return scanRoots(catalog, specs, { drift: 'metadata', filesystems: config.filesystems, now: w.now, quickOnly, hashWorkers: 2 });
}

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** Payload hash computed independently from the bytes on disk. */
export function expectedPayloadHash(root: string, relpaths: string[] | null): string {
  if (relpaths === null) {
    const b = readFileSync(root);
    return payloadHash([{ relpath: path.basename(root), size: b.length, sha256: sha256(b) }]) as string;
  }
  return payloadHash(
    relpaths.map((r) => {
      const b = readFileSync(path.join(root, r));
      return { relpath: r, size: b.length, sha256: sha256(b) };
    }),
  ) as string;
}

/**
 * An unretired stash → pool relocation row from `source` (a canonical path) to `target`, as apply records one: it
 * puts the source payload into the snapshot without a client. The payload hash is a placeholder (never retired here).
 */
export function insertRelocationRow(catalog: CatalogDb, source: string, target: string, at: number): void {
  catalog.db
    .prepare(`INSERT INTO relocations (payload_hash, source_fs, source_root, target_fs, target_root, torrent_hashes, run_id, repointed_at) VALUES (?, 'stash', ?, 'pool', ?, '[]', NULL, ?)`)
    .run('0'.repeat(64), source, target, at);
}

export interface TorrentRowSpec {
  hash: string;
  name: string;
  category: string;
  /** Client spellings of the save and content paths. */
  savePath: string;
  contentPath: string;
  /** Canonical host path of the content and the catalog filesystem holding it. */
  hostPath: string;
  fsId: number;
  files: number;
  bytes: number;
  syncedAt: number;
}

/**
 * A complete, seeding torrent row as a sync records it (columns of migration 2 only, so it fits a catalog of any
 * version; of the instance `default` from migration 11 on), without its file list: the snapshot can be read with no client.
 */
export function insertTorrentRow(catalog: CatalogDb, t: TorrentRowSpec): void {
  const keyed = (catalog.db.pragma('table_info(torrents)') as { name: string }[]).some((c) => c.name === 'client');
  catalog.db
    .prepare(
      `INSERT INTO torrents (${keyed ? 'client, ' : ''}hash, name, category, tags, tracker, raw_state, phase, running, progress, amount_left, size, auto_tmm, added_on, completion_on,
        seeding_time, client_save_path, client_content_path, client_download_path, host_content_path, fs_id, unmapped_reason, data_status, payload_kind,
        payload_files, payload_bytes, payload_hash, status, first_seen, synced_at)
       VALUES (${keyed ? "'default', " : ''}?, ?, ?, '[]', NULL, 'stalledUP', 'seeding', 1, 1, 0, ?, 0, 1, 2, 100, ?, ?, '', ?, ?, NULL, 'ok', 'dir', ?, ?, NULL, 'active', 1, ?)`,
    )
    .run(t.hash, t.name, t.category, t.bytes, t.savePath, t.contentPath, t.hostPath, t.fsId, t.files, t.bytes, t.syncedAt);
}

