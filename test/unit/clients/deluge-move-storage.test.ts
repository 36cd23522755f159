// The study hashall's Deluge repoint relies on: what core.move_storage (Deluge 2.0.3, libtorrent dont_replace) does to source and target, on two real filesystems.
//
// Deluge has no "set the save path without moving" call; its Torrent.move_storage always passes libtorrent's
// dont_replace (flags=2, in 2.0.0 through 2.2) and libtorrent's move_storage then keeps every file that already exists
// at the target, moves only the missing ones, and never deletes a source file it did not move. These tests re-hash every
// byte and compare (device, inode, links, mtime) of source and target around each call, so a Deluge or libtorrent that
// behaves otherwise fails here before hashall relies on it.
import { copyFileSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { recheckConfirmed } from '../../../src/clients/confirm.js';
import { createDelugeClient } from '../../../src/clients/deluge/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import { delugeSandboxes, type DelugeSandbox } from '../../../src/sandbox/deluge-sandbox.js';
import { makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { hashTreeSync } from '../../support/apply-fixture.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';

const TRACKER = 'http://127.0.0.1:1/announce';
const sandboxes = delugeSandboxes();
let sb: DelugeSandbox;
let client: TorrentClient;
let tmp: TempDir;
let stash: string;
let pool: string;

beforeAll(async () => {
  sb = await sandboxes.start();
  client = createDelugeClient({ url: sb.url, password: () => sb.password, timeoutMs: 10_000 });
}, 90_000);
afterAll(() => sandboxes.stopAll());
beforeEach(() => {
  tmp = makeTempDir('hashall-deluge-move-');
  stash = path.join(tmp.path, 'stash');
  pool = path.join(tmp.path, 'pool');
  mountTmpfs(stash, 64 << 20, 'hashall-stash');
  mountTmpfs(pool, 64 << 20, 'hashall-pool');
});
afterEach(() => tmp.cleanup());

/** Every entry under `dir` (files and folders): relative path → identity and, for files, the sha256 of its bytes. */
function snapshot(dir: string): Record<string, string> {
  const hashes = hashTreeSync(dir);
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      out[r] = st.isDirectory() ? 'dir' : `${st.dev}:${st.ino} links=${st.nlink} size=${st.size} mtime=${st.mtimeMs} sha=${hashes[r]}`;
      if (st.isDirectory()) walk(p, r);
    }
  };
  walk(dir, '');
  return out;
}

/** A multi-file torrent seeded from stash, and on pool a verified copy (the donor) with a hardlinked view of it. */
async function world(name: string): Promise<{ t: MadeTorrent; from: string; to: string; donor: string; view: string }> {
  const from = path.join(stash, 'seeding', 'movies');
  const to = path.join(pool, 'seeding', 'movies');
  const t = makeTorrent({ saveDir: from, name, files: [{ path: 'movie.mkv', size: 200_000 }, { path: 'subs/en.srt', content: `subs of ${name}\n` }], trackers: [TRACKER], pieceLength: 16 * 1024 });
  await sb.add(t, { dir: from });
  const donor = path.join(pool, 'archive', name);
  const view = path.join(to, name);
  for (const p of t.paths) {
    const rel = path.relative(path.join(from, name), p);
    mkdirSync(path.dirname(path.join(donor, rel)), { recursive: true });
    copyFileSync(p, path.join(donor, rel));
    mkdirSync(path.dirname(path.join(view, rel)), { recursive: true });
    linkSync(path.join(donor, rel), path.join(view, rel));
  }
  expect(hashTreeSync(view)).toEqual(hashTreeSync(path.join(from, name)));
  return { t, from, to, donor, view };
}

/** core.move_storage as hashall's adapter sends it, then wait (bounded) until Deluge reports the new save path and no move. */
async function moveStorage(hash: string, dest: string): Promise<Record<string, unknown>> {
  await sb.call('core.move_storage', [[hash], dest]);
  for (let i = 0; i < 400; i++) {
    const s = (await sb.call('core.get_torrent_status', [hash, ['save_path', 'state', 'progress']])) as Record<string, unknown>;
    if (s.save_path === dest && s.state !== 'Moving') return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`move_storage to ${dest} did not show within 20 s\n${sb.logTail()}`);
}

describe('Deluge 2.0.3 core.move_storage onto files that already exist (the hardlink views hashall builds)', () => {
  test('the daemon under study is Deluge 2.x: move_storage passes dont_replace there', async () => {
    expect((await client.version()).app).toMatch(/^Deluge 2\./);
  });

  test('a complete view on another filesystem: nothing is moved, copied, replaced or deleted at source or target; only the save path changes (progress 0 until a recheck); moving back is the same', async () => {
    const w = await world('Movie.A');
    const src = path.join(w.from, 'Movie.A');
    const before = { src: snapshot(src), pool: snapshot(pool) };
    const s = await moveStorage(w.t.infoHash, w.to);
    expect(s).toMatchObject({ save_path: w.to, state: 'Paused', progress: 0 });
    expect(snapshot(src)).toEqual(before.src);
    expect(snapshot(pool)).toEqual(before.pool);
    expect(lstatSync(path.join(w.view, 'movie.mkv')).ino).toBe(lstatSync(path.join(w.donor, 'movie.mkv')).ino);
    expect(await recheckConfirmed(client, w.t.infoHash, { timeoutMs: 20_000 })).toMatchObject({ progress: 1, savePath: w.to });
    // The undo direction: back onto the source, which still holds every file.
    const back = await moveStorage(w.t.infoHash, w.from);
    expect(back).toMatchObject({ save_path: w.from });
    expect(snapshot(src)).toEqual(before.src);
    expect(snapshot(pool)).toEqual(before.pool);
  });

  test('a target file with other bytes of the same size is kept (never replaced by the source), the source is untouched, and the recheck ends incomplete', async () => {
    const w = await world('Movie.B');
    const src = path.join(w.from, 'Movie.B');
    // Break the view's link and put other bytes there.
    const bad = path.join(w.view, 'movie.mkv');
    unlinkSync(bad);
    // Other bytes in its first half only: the pieces of the second half still match, so the check's end shows as a
    // progress change (Deluge has no trace of a check that ends at the progress it started from).
    const bytes = readFileSync(path.join(src, 'movie.mkv'));
    bytes.fill(9, 0, 100_000);
    writeFileSync(bad, bytes);
    const before = { src: snapshot(src), pool: snapshot(pool) };
    await moveStorage(w.t.infoHash, w.to);
    expect(snapshot(src)).toEqual(before.src);
    expect(snapshot(pool)).toEqual(before.pool);
    await expect(recheckConfirmed(client, w.t.infoHash, { timeoutMs: 20_000 })).rejects.toThrow(/ended incomplete/);
    expect(snapshot(src)).toEqual(before.src);
  });

  test('the hazard hashall guards against: a file MISSING at the target is moved there from the source (copied across filesystems, then deleted at the source)', async () => {
    const w = await world('Movie.C');
    const src = path.join(w.from, 'Movie.C');
    unlinkSync(path.join(w.view, 'subs', 'en.srt'));
    const srcBefore = snapshot(src);
    await moveStorage(w.t.infoHash, w.to);
    // The existing file stayed as it was; the missing one now exists only at the target.
    expect(snapshot(src)['movie.mkv']).toBe(srcBefore['movie.mkv']);
    expect(snapshot(src)['subs/en.srt']).toBeUndefined();
    expect(hashTreeSync(w.view)['subs/en.srt']).toBe(hashTreeSync(w.donor)['subs/en.srt']);
    // This is why the repoint step proves the torrent's whole file list at the target, on the target filesystem,
    // right before it calls setLocation (src/apply/steps/repoint.ts), and the adapter refuses torrents with skipped
    // files, whose part file libtorrent would move the same way.
  });

  test('the adapter refuses to repoint a torrent with skipped files (its part file would be moved) and changes nothing', async () => {
    const w = await world('Movie.D');
    await sb.call('core.set_torrent_options', [[w.t.infoHash], { file_priorities: [4, 0] }]);
    const before = { src: snapshot(path.join(w.from, 'Movie.D')), pool: snapshot(pool) };
    await expect(client.setLocation([w.t.infoHash], w.to)).rejects.toThrow(/skipped files/);
    expect((await client.getTorrent(w.t.infoHash))?.savePath).toBe(w.from);
    expect(snapshot(path.join(w.from, 'Movie.D'))).toEqual(before.src);
    expect(snapshot(pool)).toEqual(before.pool);
  });
});
