// orphans.action: retire on a real tmpfs and a real qBittorrent: plan shows the orphan groups, a torrent added or a hardlink made since makes the saved plan stale (exit 5), a symlink swapped in is refused, apply stages exactly the orphans into the trash and `trash restore` brings back the same inodes; kill -9 at every journal boundary then recover + apply converges. Every byte re-hashed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, lstatSync, readdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { qbtSandboxes } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent } from '../../../src/sandbox/torrent-file.js';
import { loadConfig } from '../../../src/config/load.js';
import { pathTextToBytes } from '../../../src/fs/path-encoding.js';
import type { Plan } from '../../../src/plan/types.js';
import { buildOrphanFixture, contentTree, type OrphanFixture } from './orphan-fixture.js';

const qbts = qbtSandboxes();
let w: OrphanFixture;
let before: Map<string, string>;

beforeAll(async () => {
  w = await buildOrphanFixture(qbts, ['orphans: { action: retire }']);
  before = all();
  inodes = orphanInodes();
}, 120_000);
afterAll(async () => {
  await w?.stop();
  await qbts.stopAll();
});

/** Every content byte on both filesystems, re-read (trash included): sha256 → how many files hold it. */
function all(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of contentTree(w.stash)) out.set(`stash/${k}`, v);
  for (const [k, v] of contentTree(w.pool)) out.set(`pool/${k}`, v);
  return out;
}

/** No content lost: every sha256 that existed is still somewhere (in place or in the trash). */
function nothingLost(): void {
  const now = new Set(all().values());
  for (const [rel, sha] of before) expect(now.has(sha), `content of ${rel} still exists`).toBe(true);
}

/** Everything outside the orphans is byte-identical and in place. */
function othersUntouched(): void {
  const now = all();
  const prefixes = w.expectedOrphans.map((o) => `stash/${pathTextToBytes(o).toString('latin1').slice(w.stash.length + 1)}`);
  const orphan = (rel: string) => prefixes.some((p) => rel === p || rel.startsWith(`${p}/`));
  for (const [rel, sha] of before) if (!orphan(rel)) expect(now.get(rel), `${rel} untouched`).toBe(sha);
}

/** Inode of every file of the orphan trees, by path. */
function orphanInodes(): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (p: Buffer): void => {
    const st = lstatSync(p);
    if (st.isDirectory()) for (const n of readdirSync(p, { encoding: 'buffer' })) walk(Buffer.concat([p, Buffer.from('/'), n]));
    else out.set(p.toString('latin1'), st.ino);
  };
  for (const o of w.expectedOrphans) walk(pathTextToBytes(o));
  return out;
}
let inodes: Map<string, number>;

async function planFile(name: string): Promise<Plan> {
  const r = await w.hashall('plan', '--json', '--out', path.join(w.base, name));
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Plan;
}

describe('orphans.action: retire', () => {
  it('plan: one retire group per orphan tree, with bytes freed and why', async () => {
    const plan = await planFile('p1.json');
    const orphanGroups = plan.groups.filter((g) => g.steps.some((s) => s.kind === 'retire-orphan'));
    expect(orphanGroups.map((g) => g.from!.path).sort()).toEqual([...w.expectedOrphans].sort());
    for (const g of orphanGroups) {
      expect(g.action).toBe('retire');
      expect(g.reasons[0]).toMatch(/^orphan: no torrent uses/);
      expect(g.fingerprint.clientTorrents?.count).toBe(w.torrents.size);
    }
    expect(plan.groups.filter((g) => g.key === 'orphans:blocked')).toEqual([]);
    const text = await w.hashall('plan', '--no-refresh');
    expect(text.stdout).toMatch(/Removed\.Torrent\.2010\/ {2}\(orphan: 3 file\(s\) into the trash on stash\)/);
  });

  it('a hardlink made since the plan (a library import) makes the saved plan stale: exit 5, nothing moved', async () => {
    const lib = path.join(w.library, 'Movies', 'r-imported.mkv');
    linkSync(path.join(w.movies, 'Removed.Torrent.2010', 'r.mkv'), lib);
    const r = await w.hashall('apply', path.join(w.base, 'p1.json'), '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(5);
    expect(r.stderr).toMatch(/link\(s\), planned with/);
    unlinkSync(lib);
    othersUntouched();
    for (const o of w.expectedOrphans) expect(existsSync(pathTextToBytes(o))).toBe(true);
  });

  it('a saved plan that recorded no link count (edited, or written by another hashall) and a hardlink made since: the file is not staged as an orphan — unknown is never orphan', async () => {
    await planFile('p-nlink.json');
    const file = path.join(w.base, 'p-nlink.json');
    const plan = JSON.parse(readFileSync(file, 'utf8')) as Plan;
    for (const g of plan.groups) if (g.action === 'retire') for (const f of g.fingerprint.files) delete f.nlink;
    writeFileSync(file, JSON.stringify(plan));
    const lib = path.join(w.library, 'Movies', 'r-imported.mkv');
    linkSync(path.join(w.movies, 'Removed.Torrent.2010', 'r.mkv'), lib);
    const r = await w.hashall('apply', file, '--auto-approve');
    unlinkSync(lib);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/recorded no link count of .*Removed\.Torrent\.2010\//);
    expect(r.stdout + r.stderr).toMatch(/Removed\.Torrent\.2010 was put back and stays/);
    expect(orphanInodes().get(path.join(w.movies, 'Removed.Torrent.2010', 'r.mkv'))).toBe(inodes.get(path.join(w.movies, 'Removed.Torrent.2010', 'r.mkv')));
    othersUntouched();
    nothingLost();
  });

  it('a torrent added since the plan makes the saved plan stale: exit 5, nothing moved', async () => {
    await planFile('p2.json');
    const extra = makeTorrent({ saveDir: path.join(w.base, 'elsewhere'), name: 'Later.Added', files: [{ size: 1000 }], trackers: ['http://127.0.0.1:1/announce'] });
    await addTorrent(w.qbt, extra, { savepath: path.join(w.base, 'elsewhere'), paused: true, skipChecking: true });
    const r = await w.hashall('apply', path.join(w.base, 'p2.json'), '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(5);
    expect(r.stderr).toMatch(/client's torrents changed since planning/);
    await w.qbt.api('POST', '/torrents/delete', { hashes: extra.infoHash, deleteFiles: 'false' });
    othersUntouched();
  });

  it('a symlink swapped in for an orphan tree after planning is never followed: refused, the real tree and the target untouched', async () => {
    await planFile('p3.json');
    const real = path.join(w.movies, 'Removed.Torrent.2010');
    const moved = path.join(w.stash, 'moved-away');
    renameSync(real, moved);
    symlinkSync(moved, real);
    const r = await w.hashall('apply', path.join(w.base, 'p3.json'), '--auto-approve');
    expect(r.code, r.stdout + r.stderr).not.toBe(0);
    expect(lstatSync(real).isSymbolicLink()).toBe(true);
    expect(readdirSync(moved).sort()).toEqual(['Extras', 'r.mkv']);
    unlinkSync(real);
    renameSync(moved, real);
    nothingLost();
  });

  it('a file of an orphan tree swapped after planning for a symlink to a payload file, or for a hardlink of one (another inode): the saved plan is stale (exit 5), nothing staged, the payload untouched', async () => {
    await planFile('p4.json');
    const victim = path.join(w.movies, 'Removed.Torrent.2010', 'Extras', 'copy-of-e01.mkv');
    const aside = path.join(w.stash, 'aside-copy-of-e01.mkv');
    const payload = path.join(w.movies, 'Show S01 (renamed)', 'e01.mkv');
    const payloadIno = lstatSync(payload).ino;
    for (const swap of [() => symlinkSync(payload, victim), () => linkSync(payload, victim)]) {
      renameSync(victim, aside);
      swap();
      const r = await w.hashall('apply', path.join(w.base, 'p4.json'), '--auto-approve');
      expect(r.code, r.stdout + r.stderr).toBe(5);
      expect(r.stderr).toMatch(/copy-of-e01\.mkv changed \(inode, size or mtime\)/);
      expect(lstatSync(payload)).toMatchObject({ ino: payloadIno });
      unlinkSync(victim);
      renameSync(aside, victim);
      expect(lstatSync(payload).nlink).toBe(1);
      expect(readdirSync(path.join(w.movies, 'Removed.Torrent.2010')).sort()).toEqual(['Extras', 'r.mkv']);
      othersUntouched();
      nothingLost();
    }
  });

  it('a folder of an orphan tree moved away and replaced by a symlink to it (every planned inode still reachable, so the plan is not stale): the staged tree is re-proven without following, put back, refused; the moved folder untouched', async () => {
    await planFile('p5.json');
    const extras = path.join(w.movies, 'Removed.Torrent.2010', 'Extras');
    const elsewhere = path.join(w.stash, 'extras-elsewhere');
    renameSync(extras, elsewhere);
    symlinkSync(elsewhere, extras);
    const inside = readdirSync(elsewhere).sort();
    const r = await w.hashall('apply', path.join(w.base, 'p5.json'), '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/Removed\.Torrent\.2010\/Extras is a symlink; hashall retires only the regular files it proved orphans/);
    expect(r.stdout + r.stderr).toMatch(/Removed\.Torrent\.2010 was put back and stays/);
    // The tree is back where it was, the symlink still a symlink, the folder it points to whole.
    expect(lstatSync(extras).isSymbolicLink()).toBe(true);
    expect(readdirSync(elsewhere).sort()).toEqual(inside);
    expect(existsSync(path.join(w.movies, 'Removed.Torrent.2010', 'r.mkv'))).toBe(true);
    unlinkSync(extras);
    renameSync(elsewhere, extras);
    othersUntouched();
    nothingLost();
  });

  it('a root-owned file of the same filesystem bind-mounted into an orphan tree after planning is a mount, never staged with it: refused naming the mount, nothing moved, the bound file re-hashed whole', async () => {
    await planFile('p6.json');
    const secret = path.join(w.stash, 'etc-like-secret');
    writeFileSync(secret, 'root only: a key bound into a seeding folder', { mode: 0o600 });
    const secretBefore = createHash('sha256').update(readFileSync(secret)).digest('hex');
    const mountPoint = path.join(w.movies, 'Removed.Torrent.2010', 'Extras', 'creds.txt');
    writeFileSync(mountPoint, '');
    execFileSync('mount', ['--bind', secret, mountPoint]);
    try {
      const r = await w.hashall('apply', path.join(w.base, 'p6.json'), '--auto-approve');
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout + r.stderr).toContain(`Removed.Torrent.2010 holds a mount point (${mountPoint})`);
      expect(r.stdout + r.stderr).toContain(`umount ${mountPoint}`);
      // Nothing was staged: the tree is in place with the mount in it, and no trash holds any of it.
      expect(readdirSync(path.join(w.movies, 'Removed.Torrent.2010')).sort()).toEqual(['Extras', 'r.mkv']);
      expect(readFileSync(mountPoint, 'utf8')).toBe('root only: a key bound into a seeding folder');
    } finally {
      execFileSync('umount', [mountPoint]);
    }
    unlinkSync(mountPoint);
    expect(createHash('sha256').update(readFileSync(secret)).digest('hex')).toBe(secretBefore);
    unlinkSync(secret);
    othersUntouched();
    nothingLost();
  });

  it('kill -9 at every journal boundary of an orphan retire, then recover + apply, converges: orphans staged, nothing lost', async () => {
    const { config } = loadConfig(w.configPath, { env: {}, cwd: w.base });
    const cfgFile = path.join(w.base, 'config.json');
    writeFileSync(cfgFile, JSON.stringify(config));
    let crashes = 0;
    for (let n = 1; n <= 12; n++) {
      const plan = await planFile(`crash-${n}.json`);
      if (!plan.groups.some((g) => g.action === 'retire')) break;
      const child = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgFile, path.join(w.base, `crash-${n}.json`), w.qbt.url], {
        encoding: 'utf8',
        env: { ...process.env, HASHALL_TEST_CRASH_AT: String(n) },
        timeout: 60_000,
      });
      if (child.signal === 'SIGKILL') crashes++;
      const rec = await w.hashall('recover');
      expect(rec.code, rec.stdout + rec.stderr).toBe(0);
      nothingLost();
    }
    expect(crashes).toBeGreaterThan(0);
    const fin = await w.hashall('apply', '--auto-approve');
    expect(fin.code, fin.stdout + fin.stderr).toBe(0);
    for (const o of w.expectedOrphans) expect(existsSync(pathTextToBytes(o)), o).toBe(false);
    othersUntouched();
    nothingLost();
    const again = await w.hashall('plan', '--detailed-exitcode');
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it('trash restore puts every orphan back at its path with the same inodes and bytes', async () => {
    const trash = path.join(w.stash, '.hashall-trash');
    const runs = readdirSync(trash);
    expect(runs.length).toBeGreaterThan(0);
    // Runs whose staging a recovery undid have nothing left to restore; the one that kept its orphans restores them.
    for (const run of runs) await w.hashall('trash', 'restore', run);
    const now = all();
    for (const [rel, sha] of before) expect(now.get(rel), `${rel} back in place`).toBe(sha);
    expect(orphanInodes()).toEqual(inodes);
  });
});
