// Test support for apply: two real tmpfs filesystems (stash, pool) + a bind alias, a catalog, a config, hand-built plans.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openCatalog, type CatalogDb } from '../../src/catalog/db.js';
import { recordRootFilesystems } from '../../src/catalog/scan/scan-roots.js';
import type { HashallConfig } from '../../src/config/types.js';
import { payloadHash } from '../../src/domain/payload-hash.js';
import { PLAN_FORMAT_VERSION, type DedupeFile, type FileFingerprint, type Plan, type PlanGroup, type PlanStep } from '../../src/plan/types.js';
import { bindMount, detachLoop, makeTempDir, mountExt4Image, mountTmpfs, type TempDir } from './mounts.js';
import { fixtureBytes } from '../../src/sandbox/torrent-file.js';
import { stashPoolConfigText } from '../../src/sandbox/stash-pool-config.js';

export interface ApplyFixture {
  tmp: TempDir;
  root: string;
  stash: string;
  pool: string;
  /** A bind mount of `stash` (same filesystem, another mount: link() across it gives EXDEV). */
  stashAlias: string;
  /** With `poolExt4`: the loop device of the pool's ext4 (for writing its blocks underneath it, test/support/bit-rot.ts). */
  poolDevice: string | null;
  config: HashallConfig;
  catalog: CatalogDb;
  cleanup(): void;
}

/** `poolExt4`: the pool is an ext4 image on a loop device (a real disk's blocks) instead of a tmpfs. */
export function makeApplyFixture(opts: { poolBytes?: number; stashBytes?: number; poolExt4?: boolean } = {}): ApplyFixture {
  const tmp = makeTempDir('hashall-apply-');
  const root = tmp.path;
  const stash = path.join(root, 'stash');
  const pool = path.join(root, 'pool');
  const stashAlias = path.join(root, 'stash-alias');
  mountTmpfs(stash, opts.stashBytes ?? 64 << 20, 'hashall-stash');
  const poolDevice = opts.poolExt4 ? mountExt4Image(path.join(root, 'pool.img'), pool, opts.poolBytes ?? 32 << 20) : null;
  if (!poolDevice) mountTmpfs(pool, opts.poolBytes ?? 64 << 20, 'hashall-pool');
  bindMount(stash, stashAlias);
  const config: HashallConfig = {
    version: 1,
    configPath: path.join(root, 'hashall.yaml'),
    configHash: 'cfg-hash-1',
    catalog: path.join(root, 'catalog', 'catalog.db'),
    filesystems: {
      stash: { name: 'stash', path: stash, aliases: [stashAlias] },
      pool: { name: 'pool', path: pool, aliases: [] },
    },
    seeding: { stash: [path.join(stash, 'seeding')], pool: [path.join(pool, 'seeding')] },
    libraries: [path.join(stash, 'library')],
    clients: {},
    categories: {},
    placement: { default: 'keep', rules: [] },
    dedupe: { filesystems: ['stash', 'pool'], minSize: 0 },
    verify: { everyMs: 30 * 86_400_000, budgetBytes: 200 * 2 ** 30 },
    safety: { verify: 'full', retire: { mode: 'staged', observeHours: 0 }, minFree: 0, maxScanAgeHours: 24 },
  };
  const catalog = openCatalog(config.catalog);
  // As a scan would: apply proves every path is on the filesystem the catalog knows under the plan's name.
  recordRootFilesystems(catalog, [stash, pool].map((p) => ({ path: p, kind: 'adhoc' as const })), { filesystems: config.filesystems, now: () => Date.now() });
  return {
    tmp,
    root,
    stash,
    pool,
    stashAlias,
    poolDevice,
    config,
    catalog,
    cleanup() {
      try {
        catalog.close();
      } catch {
        /* already closed */
      }
      tmp.cleanup();
      if (poolDevice) detachLoop(poolDevice);
    },
  };
}

/** Deterministic pseudo-random bytes (so tests never depend on luck, and content differs per seed). */
export const bytesFor = fixtureBytes;

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** Write files (relpath → content) under `root`, with a fixed old mtime. */
export function writeTree(root: string, files: Record<string, Buffer>): void {
  for (const [rel, data] of Object.entries(files)) {
    const p = path.join(root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, data, { mode: 0o640 });
    utimesSync(p, 1_600_000_000, 1_600_000_000.123456);
  }
}

/** Every regular file under `dir` (relpath → sha256), hidden files included. */
export function hashTreeSync(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p, r);
      else out[r] = sha256(readFileSync(p));
    }
  };
  walk(dir, '');
  return out;
}

export function fingerprint(p: string): FileFingerprint {
  const st = lstatSync(p, { bigint: true });
  return { path: p, ino: Number(st.ino), size: Number(st.size), mtimeNs: st.mtimeNs.toString(), nlink: Number(st.nlink) };
}

/** A dedupe step's file as the planner would record it: fingerprint, SHA-256 and the owner, group and mode on disk. */
export function dedupeFile(p: string, sha: string): DedupeFile {
  const st = lstatSync(p);
  const { nlink: _nlink, ...f } = fingerprint(p);
  return { ...f, sha256: sha, meta: { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 } };
}

export function fileList(root: string): { relpath: string; size: number; sha256: string }[] {
  return Object.entries(hashTreeSync(root)).map(([relpath, sha]) => ({ relpath, size: lstatSync(path.join(root, relpath)).size, sha256: sha }));
}

export function payloadHashOf(root: string): string {
  return payloadHash(fileList(root))!;
}

/** A move group copying `fromRoot` (dir) to `toRoot` on another filesystem, plus optional extra steps. */
export function moveGroup(id: string, w: ApplyFixture, fromRoot: string, toRoot: string, extra: PlanStep[] = [], torrents: PlanGroup['torrents'] = []): PlanGroup {
  const files = fileList(fromRoot);
  const bytes = files.reduce((n, f) => n + f.size, 0);
  return {
    id,
    key: `key-${id}`,
    action: 'move',
    title: path.basename(fromRoot),
    payloadHash: payloadHash(files),
    torrents,
    from: { fs: 'stash', path: fromRoot },
    to: { fs: 'pool', path: toRoot },
    reasons: ['test: demote to pool'],
    rule: null,
    bytesToCopy: bytes,
    bytesToFree: 0,
    steps: [{ kind: 'copy', fromFs: 'stash', toFs: 'pool', fromRoot, toRoot, files, bytes }, ...extra],
    fingerprint: { files: files.map((f) => fingerprint(path.join(fromRoot, f.relpath))), torrents: [] },
  };
}

/** A dedupe group as the planner makes one: each duplicate becomes a hardlink of `keeper` (files fingerprinted as they are now). */
/** A keeper `seeding/a/f.bin` and a duplicate `seeding/b/f.bin` on stash holding `data`, and their dedupe group `d1`, planned. */
export function dedupePairOnStash(w: ApplyFixture, data: Buffer): { keeper: string; dup: string; group: PlanGroup } {
  writeTree(w.stash, { 'seeding/a/f.bin': data, 'seeding/b/f.bin': data });
  const keeper = path.join(w.stash, 'seeding/a/f.bin');
  const dup = path.join(w.stash, 'seeding/b/f.bin');
  return { keeper, dup, group: dedupeGroup('d1', keeper, [dup], sha256(data), data.length) };
}

export function dedupeGroup(id: string, keeper: string, dups: string[], sha: string, size: number): PlanGroup {
  return {
    id,
    key: `dedupe:${sha}`,
    action: 'dedupe',
    title: path.basename(keeper),
    payloadHash: null,
    torrents: [],
    // As the planner makes it (from and to: the keeper's place), so a plan file and the run journal hold it short.
    from: { fs: 'stash', path: keeper },
    to: { fs: 'stash', path: keeper },
    reasons: ['test dedupe'],
    rule: null,
    bytesToCopy: 0,
    bytesToFree: size * dups.length,
    steps: dups.map((d) => ({ kind: 'dedupe-link' as const, fs: 'stash', keeper: dedupeFile(keeper, sha), duplicate: dedupeFile(d, sha) })),
    fingerprint: { files: [keeper, ...dups].map((p) => fingerprint(p)), torrents: [] },
  };
}

export function makePlan(w: ApplyFixture, groups: PlanGroup[]): Plan {
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    createdAt: new Date(0).toISOString(),
    configPath: w.config.configPath,
    configHash: w.config.configHash,
    catalog: { lineage: w.catalog.lineage, serial: w.catalog.serial() },
    groups,
    summary: { move: 0, reuse: 0, dedupe: 0, retire: 0, keep: 0, stay: 0, pending: 0, blocked: 0, bytesToCopy: 0, bytesToFree: {} },
  };
}

/** Every `.hashall-*` temp or trash entry anywhere under `dir` (none may survive a finished or recovered run). */
export function hashallLeftovers(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      if (n.startsWith('.hashall-')) out.push(p);
      if (lstatSync(p).isDirectory()) walk(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/**
 * The world as a hashall.yaml beside it (stash and pool, their seeding roots, keep placement, no free-space margin), for
 * CLI tests; `extra` lines are appended (further top-level keys such as `dedupe:`, `notify:` or `libraries:`).
 */
export function writeFixtureConfig(w: ApplyFixture, extra: string[] = []): string {
  const cfg = path.join(w.root, 'hashall.yaml');
  writeFileSync(
    cfg,
    stashPoolConfigText({ catalog: w.config.catalog, stash: w.stash, pool: w.pool, seeding: { stash: [path.join(w.stash, 'seeding')], pool: [path.join(w.pool, 'seeding')] } }, [
      'placement: { default: keep }',
      'safety: { minFree: 0 }',
      ...extra,
    ]),
  );
  return cfg;
}
