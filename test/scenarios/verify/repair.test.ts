// `hashall verify --repair` on real tmpfs with real flipped bytes: restore only from a copy proven good, through the
// executor (journal, verify, rollback, run record); without one nothing changes; a file another process changed, or
// a directory a local user swapped for a symlink, is never written through; every byte re-hashed afterwards.
import { singleClient } from '../../../src/clients/client-set.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, linkSync, lstatSync, mkdirSync, readFileSync, renameSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../../support/cli.js';
import { rot } from '../../support/bit-rot.js';
import { faultyFsPort } from '../../support/faulty-fs.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { openCatalog } from '../../../src/catalog/db.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { repairCorrupted } from '../../../src/reconcile/repair.js';
import { loadConfig } from '../../../src/config/load.js';
import { inodeTreeSnapshot } from '../../support/tree-snapshot.js';
import { stashPoolConfigText } from '../../../src/sandbox/stash-pool-config.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
let tmp: TempDir;
let config: string;
let stash: string;
let pool: string;
let outside: string;
let catalogFile: string;
const A = randomBytes(3 << 20);
const B = randomBytes(1 << 20);
const C = randomBytes(256 << 10);

const movie = (): string => path.join(stash, 'torrents', 'movies', 'Film.2020', 'film.mkv');
const libLink = (): string => path.join(stash, 'media', 'movies', 'Film (2020)', 'film.mkv');
const poolMovie = (): string => path.join(pool, 'torrents', 'movies', 'Film.2020', 'film.mkv');
const solo = (): string => path.join(stash, 'torrents', 'movies', 'Solo', 'solo.bin');
const twinA = (): string => path.join(stash, 'torrents', 'music', 'a.flac');
const twinB = (): string => path.join(pool, 'torrents', 'music', 'a.flac');

async function hashall(...args: string[]) {
  return runCli([...args, '--config', config]);
}

function problemRows(): { path: string; resolution: string | null }[] {
  const c = openCatalog(catalogFile, { readonly: true });
  try {
    return c.db.prepare(`SELECT path, resolution FROM integrity_problems ORDER BY id`).all() as { path: string; resolution: string | null }[];
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  tmp = makeTempDir('hashall-repair-');
  stash = path.join(tmp.path, 'stash');
  pool = path.join(tmp.path, 'pool');
  outside = path.join(tmp.path, 'outside');
  mountTmpfs(stash, 32 << 20, 'stash');
  mountTmpfs(pool, 16 << 20, 'pool');
  for (const [f, b] of [
    [movie(), A],
    [poolMovie(), A],
    [solo(), B],
    [twinA(), C],
    [twinB(), C],
  ] as const) {
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, b);
  }
  mkdirSync(path.dirname(libLink()), { recursive: true });
  linkSync(movie(), libLink());
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'film.mkv'), 'a decoy that must never be written');
  catalogFile = path.join(tmp.path, 'state', 'catalog.db');
  config = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(
    config,
    stashPoolConfigText({ catalog: './state/catalog.db', stash, pool, seeding: { stash: [`${stash}/torrents`], pool: [`${pool}/torrents`] }, libraries: [`${stash}/media`] }),
  );
  const r = await hashall('scan', '--hash-all', '--json');
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => tmp?.cleanup());

describe('hashall verify --repair', () => {
  it('without a good copy nothing is changed, and it says what the user can do', async () => {
    rot(solo(), 777);
    const before = { ...inodeTreeSnapshot(stash), ...inodeTreeSnapshot(pool) };
    const r = await hashall('verify', '--repair', solo());
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`NO GOOD COPY ${solo()}: hashall knows no other file with its recorded SHA-256 that reads back right; nothing was changed`);
    expect(r.stdout).toContain('restore it from a backup or download it again');
    expect({ ...inodeTreeSnapshot(stash), ...inodeTreeSnapshot(pool) }).toEqual(before);
    expect(existsSync(path.join(stash, '.hashall-trash'))).toBe(false);
    expect(JSON.parse((await hashall('runs', '--json')).stdout).runs).toEqual([]);
  });

  it('a copy that is damaged too is no good copy: both stay as they are', async () => {
    rot(twinA(), 10);
    rot(twinB(), 20);
    const before = { ...inodeTreeSnapshot(stash), ...inodeTreeSnapshot(pool) };
    const r = await hashall('verify', '--repair', twinA(), twinB());
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`NO GOOD COPY ${twinA()}`);
    expect(r.stdout).toContain(`NO GOOD COPY ${twinB()}`);
    expect({ ...inodeTreeSnapshot(stash), ...inodeTreeSnapshot(pool) }).toEqual(before);
  });

  it('restores the exact bytes from a proven copy on another filesystem, every link of the inode, the damaged file kept in the trash, recorded as a run', async () => {
    const oldIno = lstatSync(movie()).ino;
    const poolBefore = inodeTreeSnapshot(pool);
    rot(movie(), 1_234_567);
    const rotten = readFileSync(movie());
    const r = await hashall('verify', '--repair', movie());
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/REPAIRED {3}.*film\.mkv.* from .*pool.*film\.mkv/);
    // Both paths: the recorded bytes, one new inode (the library link still shares it); the good copy untouched.
    expect(sha(readFileSync(movie()))).toBe(sha(A));
    expect(lstatSync(libLink()).ino).toBe(lstatSync(movie()).ino);
    expect(lstatSync(movie()).ino).not.toBe(oldIno);
    expect(lstatSync(movie()).nlink).toBe(2);
    expect(inodeTreeSnapshot(pool)).toEqual(poolBefore);
    // The damaged inode waits in the trash of its own filesystem, every (bad) byte of it.
    const runs = JSON.parse((await hashall('runs', '--json')).stdout).runs as { id: string; status: string; command: string }[];
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'succeeded', command: 'hashall verify --repair' });
    const inTrash = Object.keys(inodeTreeSnapshot(path.join(stash, '.hashall-trash', runs[0]!.id)));
    expect(inTrash).toHaveLength(1);
    const trashed = inTrash[0]!;
    expect(lstatSync(trashed).ino).toBe(oldIno);
    expect(readFileSync(trashed).equals(rotten)).toBe(true);
    const shown = await hashall('runs', 'show', runs[0]!.id, '--json');
    expect(shown.stdout).toContain('"repair"');
    expect(shown.stdout).toContain('restored');
    // The problem is closed as repaired; a fresh verify of the catalog's new rows finds nothing.
    expect(problemRows().find((p) => p.path === libLink() || p.path === movie())?.resolution).toBe('repaired');
    const again = await hashall('verify', movie(), libLink());
    expect(again.code, again.stdout).toBe(0);
    // No temp file left anywhere.
    expect(Object.keys(inodeTreeSnapshot(stash)).filter((p) => p.endsWith('.part'))).toEqual([]);
  });

  it('a file another process changed since verify is never touched: the group rolls back, nothing lost', async () => {
    rot(movie(), 99);
    expect((await hashall('verify', movie())).code).toBe(1);
    const { config: cfg } = loadConfig(config, { env: {}, cwd: tmp.path });
    const catalog = openCatalog(catalogFile);
    const edited = Buffer.concat([A.subarray(0, 1000), Buffer.from('edited by someone else')]);
    // Right after the good copy is re-hashed inside the step, another process rewrites the damaged file (an edit).
    const fs = faultyFsPort(realFsPort(), [
      {
        op: 'hashFile',
        nth: 1,
        pathIncludes: '/proc/self/fd/', // the good copy, read through its held folder
        after: () => {
          writeFileSync(movie(), edited);
          utimesSync(movie(), new Date(), new Date());
        },
      },
    ]);
    const poolBefore = inodeTreeSnapshot(pool);
    try {
      const out = await repairCorrupted({ catalog, config: cfg, clients: singleClient(null), paths: [movie()], now: () => Date.now(), emit: () => undefined, fs });
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({ status: 'failed' });
      expect(out[0]!.error).toMatch(/changed since verify found it corrupted/);
    } finally {
      catalog.close();
    }
    expect(readFileSync(movie()).equals(edited)).toBe(true);
    expect(lstatSync(libLink()).ino).toBe(lstatSync(movie()).ino);
    expect(inodeTreeSnapshot(pool)).toEqual(poolBefore);
    expect(Object.keys(inodeTreeSnapshot(stash)).filter((p) => p.endsWith('.part'))).toEqual([]);
  });

  it('a directory swapped for a symlink by another local user mid-repair: nothing is written through it, the damaged file stays whole', async () => {
    // Start again from a corrupted file the catalog knows.
    writeFileSync(movie(), A);
    expect((await hashall('scan', '--hash-all', '--json')).code).toBe(0);
    rot(libLink(), 4242);
    const rotten = readFileSync(movie());
    expect((await hashall('verify', movie())).code).toBe(1);
    const { config: cfg } = loadConfig(config, { env: {}, cwd: tmp.path });
    const catalog = openCatalog(catalogFile);
    const dir = path.dirname(movie());
    const moved = `${dir}.real`;
    const decoy = inodeTreeSnapshot(outside);
    // After the good bytes are copied beside the damaged file, the attacker swaps its folder for a symlink to theirs.
    const fs = faultyFsPort(realFsPort(), [
      {
        op: 'copyFileVerified',
        nth: 1,
        after: () => {
          renameSync(dir, moved);
          symlinkSync(outside, dir);
        },
      },
    ]);
    try {
      const out = await repairCorrupted({ catalog, config: cfg, clients: singleClient(null), paths: [movie()], now: () => Date.now(), emit: () => undefined, fs });
      expect(out[0]).toMatchObject({ status: 'failed' });
    } finally {
      catalog.close();
    }
    expect(inodeTreeSnapshot(outside)).toEqual(decoy);
    // The damaged inode is where the attacker moved it and still has every byte; the library link still shares it.
    const movedFile = path.join(moved, 'film.mkv');
    expect(readFileSync(movedFile).equals(rotten)).toBe(true);
    expect(lstatSync(movedFile).ino).toBe(lstatSync(libLink()).ino);
    const runs = JSON.parse((await hashall('runs', '--json')).stdout).runs as { status: string }[];
    expect(runs.length).toBe(3);
    expect(runs.map((x) => x.status)).not.toContain('needs-attention');
  });

  it("the good copy's folder swapped for a symlink to a root-only folder just before the copy: root never reads the file found there", async () => {
    // A payload of its own, on both filesystems (the earlier cases used up the others).
    const D = randomBytes(200 << 10);
    const bad = path.join(stash, 'torrents', 'docs', 'd.bin');
    const good = path.join(pool, 'torrents', 'docs', 'd.bin');
    for (const f of [bad, good]) {
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(f, D);
    }
    expect((await hashall('scan', '--hash-all', '--json')).code).toBe(0);
    rot(bad, 777);
    expect((await hashall('verify', bad)).code).toBe(1);
    const { config: cfg } = loadConfig(config, { env: {}, cwd: tmp.path });
    const catalog = openCatalog(catalogFile);
    const goodDir = path.dirname(good);
    const secretDir = path.join(pool, 'private');
    mkdirSync(secretDir, { mode: 0o700 });
    const secret = randomBytes(D.length);
    writeFileSync(path.join(secretDir, 'd.bin'), secret, { mode: 0o644 });
    // The good copy was proven (inode, hash); right before its bytes are copied, the user points its folder elsewhere.
    const fs = faultyFsPort(realFsPort(), [
      {
        op: 'copyFileVerified',
        nth: 1,
        before: () => {
          renameSync(goodDir, `${goodDir}.real`);
          symlinkSync(secretDir, goodDir);
        },
      },
    ]);
    let out: unknown;
    try {
      out = await repairCorrupted({ catalog, config: cfg, clients: singleClient(null), paths: [bad], now: () => Date.now(), emit: () => undefined, fs });
    } finally {
      catalog.close();
    }
    expect(fs.fired.length, JSON.stringify(out)).toBe(1);
    // Nothing of the secret reached the repaired file, nor any message (its hash).
    expect(JSON.stringify(out)).not.toContain(sha(secret));
    expect(readFileSync(bad).equals(secret)).toBe(false);
    const runs = JSON.stringify(JSON.parse((await hashall('runs', '--json')).stdout));
    expect(runs).not.toContain(sha(secret));
  });
});
