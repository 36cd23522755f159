// SIGINT / SIGTERM sent to a real `hashall verify --repair` child process at every journal boundary of its repair, and in
// the middle of its copy: like apply, it stops at the next safe point, rolls back (or finishes) the repair in flight,
// records the run, says so and exits 130/143 — the damaged file is either restored or untouched, never lost.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../support/cli.js';
import { rot } from '../../support/bit-rot.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { bytesFor } from '../../support/apply-fixture.js';
import { openCatalog } from '../../../src/catalog/db.js';
import { inodeTreeSnapshot } from '../../support/tree-snapshot.js';
import { stashPoolConfigText } from '../../../src/sandbox/stash-pool-config.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface World {
  tmp: TempDir;
  config: string;
  stash: string;
  pool: string;
  movie: string;
  lib: string;
  good: Buffer;
}

let open: TempDir | null = null;
afterEach(() => {
  open?.cleanup();
  open = null;
});

/** stash holds a 9 MiB file (hardlinked into the library) whose byte was flipped; pool holds a good copy. */
async function makeWorld(n: number): Promise<World> {
  const tmp = makeTempDir('hashall-repair-sig-');
  open = tmp;
  const stash = path.join(tmp.path, 'stash');
  const pool = path.join(tmp.path, 'pool');
  mountTmpfs(stash, 48 << 20, 'stash');
  mountTmpfs(pool, 24 << 20, 'pool');
  const good = bytesFor(`film${n}`, 9 << 20);
  const movie = path.join(stash, 'torrents', 'Film', 'film.mkv');
  const lib = path.join(stash, 'media', 'Film (2020)', 'film.mkv');
  const copy = path.join(pool, 'torrents', 'Film', 'film.mkv');
  for (const f of [movie, copy]) {
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, good);
  }
  mkdirSync(path.dirname(lib), { recursive: true });
  linkSync(movie, lib);
  const config = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(
    config,
    stashPoolConfigText({ catalog: './state/catalog.db', stash, pool, seeding: { stash: [`${stash}/torrents`], pool: [`${pool}/torrents`] }, libraries: [`${stash}/media`] }),
  );
  expect((await runCli(['scan', '--hash-all', '--config', config])).code).toBe(0);
  rot(movie, 5_000_001);
  return { tmp, config, stash, pool, movie, lib, good };
}

function runChild(w: World, env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'src/cli/bin.ts', 'verify', '--repair', w.movie, '--config', w.config], {
    cwd: repo,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 180_000,
  });
}

/** Repaired (the good bytes at both links, the damaged inode whole in the trash) or untouched (the damaged inode at both links); nothing else. */
function expectRepairedOrUntouched(w: World, rotten: Buffer, oldIno: number, poolBefore: Record<string, string>): 'repaired' | 'untouched' {
  expect(inodeTreeSnapshot(w.pool)).toEqual(poolBefore);
  const now = lstatSync(w.movie);
  expect(lstatSync(w.lib).ino).toBe(now.ino);
  const stash = inodeTreeSnapshot(w.stash);
  const leftovers = Object.keys(stash).filter((p) => path.basename(p).startsWith('.hashall-'));
  expect(leftovers).toEqual([]);
  const trashed = Object.keys(stash).filter((p) => p.includes('.hashall-trash'));
  if (now.ino === oldIno) {
    expect(readFileSync(w.movie).equals(rotten)).toBe(true);
    expect(trashed).toEqual([]);
    return 'untouched';
  }
  expect(sha(readFileSync(w.movie))).toBe(sha(w.good));
  expect(trashed).toHaveLength(1);
  expect(lstatSync(trashed[0]!).ino).toBe(oldIno);
  expect(readFileSync(trashed[0]!).equals(rotten)).toBe(true);
  return 'repaired';
}

function runStatuses(w: World): string[] {
  const c = openCatalog(path.join(w.tmp.path, 'state', 'catalog.db'), { readonly: true });
  try {
    return c.db.prepare(`SELECT status FROM runs ORDER BY started_at`).pluck().all() as string[];
  } finally {
    c.close();
  }
}

describe('SIGINT/SIGTERM during verify --repair (real child process)', () => {
  it('at every journal boundary: exits 130/143, the repair in flight rolled back or finished, the run recorded, nothing lost; a rerun repairs', async () => {
    let fired = 0;
    const outcomes = new Set<string>();
    let finished = false;
    for (let n = 1; n <= 40 && !finished; n++) {
      const w = await makeWorld(n);
      const oldIno = lstatSync(w.movie).ino;
      const rotten = readFileSync(w.movie);
      const poolBefore = inodeTreeSnapshot(w.pool);
      const sig = n % 2 === 0 ? 'SIGTERM' : 'SIGINT';
      const r = runChild(w, { HASHALL_TEST_CRASH_AT: String(n), HASHALL_TEST_CRASH_SIGNAL: sig });
      expect(r.signal, r.stderr).toBeNull(); // handled, not killed by it
      if (r.status === 0) {
        // The signal would have come after the last boundary: the repair ran to its end.
        finished = true;
        expect(expectRepairedOrUntouched(w, rotten, oldIno, poolBefore)).toBe('repaired');
      } else {
        fired++;
        expect(r.status, r.stdout + r.stderr).toBe(sig === 'SIGTERM' ? 143 : 130);
        expect(r.stderr).toContain(`${sig} received`);
        const got = expectRepairedOrUntouched(w, rotten, oldIno, poolBefore);
        // Rolled back (or not started) and said so; or it arrived after the repair was done and said that.
        expect(r.stdout).toContain(got === 'untouched' ? `Repair interrupted by ${sig}` : `${sig} arrived when nothing was left to stop`);
        outcomes.add(got);
        const statuses = runStatuses(w);
        expect(statuses).toHaveLength(1);
        expect(['interrupted', 'succeeded']).toContain(statuses[0]);
        if (got === 'untouched') {
          // A rerun finishes the job.
          const again = await runCli(['verify', '--repair', w.movie, '--config', w.config]);
          expect(again.code, again.stdout + again.stderr).toBe(0);
          expect(expectRepairedOrUntouched(w, rotten, oldIno, poolBefore)).toBe('repaired');
        }
      }
      open?.cleanup();
      open = null;
    }
    expect(finished).toBe(true);
    expect(fired).toBeGreaterThan(3);
    expect(outcomes.has('untouched')).toBe(true);
  }, 900_000);

  it('in the middle of the copy of the good bytes: exits 130, nothing half done, the damaged file untouched', async () => {
    const w = await makeWorld(99);
    const oldIno = lstatSync(w.movie).ino;
    const rotten = readFileSync(w.movie);
    const poolBefore = inodeTreeSnapshot(w.pool);
    const r = runChild(w, { HASHALL_TEST_SIGNAL_ON_COPY: 'SIGINT' });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stdout + r.stderr).toBe(130);
    expect(expectRepairedOrUntouched(w, rotten, oldIno, poolBefore)).toBe('untouched');
    expect(r.stdout).toContain('Repair interrupted by SIGINT: 0 of 1 done');
    expect(runStatuses(w)).toEqual(['interrupted']);
  }, 300_000);
});
