// Symlinks into payloads (a library linking by symlink, cross-seed's symlink mode, a linked folder): plan keeps what they reach, orphans never counts it, on real tmpfs and a real qBittorrent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DemoSeedbox } from '../../../src/demo/seedbox.js';
import { addTorrent, makeTorrent } from '../../../src/sandbox/torrent-file.js';
import type { Plan } from '../../../src/plan/types.js';
import { demoSeedboxOnTmpfs } from '../../support/demo-on-tmpfs.js';
import { makeTempDir, type TempDir } from '../../support/mounts.js';
import { runCli } from '../../support/cli.js';
import Database from 'better-sqlite3';

let tmp: TempDir;
let w: DemoSeedbox;

async function hashall(...args: string[]) {
  return runCli([...args, '--config', w.configPath], { cwd: w.base });
}

async function plan(): Promise<Plan> {
  const r = await hashall('plan', '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Plan;
}

const groupOf = (p: Plan, title: string) => {
  const g = p.groups.find((x) => x.title === title);
  expect(g, `group ${title} in ${p.groups.map((x) => x.title).join(', ')}`).toBeDefined();
  return g!;
};

beforeAll(async () => {
  tmp = makeTempDir('hashall-symlinks-');
  w = await demoSeedboxOnTmpfs(tmp.path);
}, 120_000);
afterAll(async () => {
  await w?.qbt.stop();
  tmp?.cleanup();
});

describe('symlinks reaching a payload hold it as a hardlink does', () => {
  it('a library symlink (absolute) to a movie file and a cross-seed folder of relative symlinks: both payloads stay; a removed link lets the movie move', async () => {
    const old = w.torrents.old;
    const libDir = path.join(w.library, 'Old Movie (2009)');
    mkdirSync(libDir);
    const libLink = path.join(libDir, 'Old Movie (2009).mkv');
    symlinkSync(old.paths[0]!, libLink);
    // cross-seed's symlink mode: the cross-seed's folder holds relative links to the original's files, and its own torrent.
    const show = w.torrents.show;
    const xsParent = path.join(w.seedStash, 'cross-seed-links');
    const xsDir = path.join(xsParent, 'Some.Show.S01.OTHER');
    mkdirSync(xsDir, { recursive: true });
    for (const p of show.paths) symlinkSync(path.relative(xsDir, p), path.join(xsDir, path.basename(p)));
    const other = makeTorrent({ saveDir: xsParent, name: 'Some.Show.S01.OTHER', files: show.paths.map((p) => ({ path: path.basename(p) })), write: false, trackers: ['http://127.0.0.1:2/announce'] });
    await addTorrent(w.qbt, other, { savepath: xsParent, category: 'cross-seed', tags: ['archive'], paused: false });

    const p1 = await plan();
    const movie = groupOf(p1, 'Old.Movie.2009');
    expect(movie.action).toBe('stay');
    expect(movie.reasons.join('\n')).toContain(`a symlink reaches its files by path (${libLink})`);
    const shows = p1.groups.find((g) => g.torrents.some((t) => t.name === 'Some.Show.S01'))!;
    expect(shows.action).toBe('stay');
    expect(shows.reasons.join('\n')).toContain(path.join(xsDir, 'e01.mkv'));
    // The cross-seed of links itself is no payload hashall can move (its files are links): blocked, never moved.
    const links = groupOf(p1, 'Some.Show.S01.OTHER');
    expect(links.action).toBe('blocked');
    expect(links.reasons.join('\n')).toContain(`payload ${xsDir} of "Some.Show.S01.OTHER" is made of symlinks (${path.join(xsDir, 'e01.mkv')})`);
    // Nothing that would move the linked bytes is planned.
    expect(p1.groups.filter((g) => g.action === 'move' || g.action === 'reuse').map((g) => g.title)).toEqual(['Album.2015.FLAC']);

    // The next complete scan drops a link that is gone: the movie moves again.
    rmSync(libLink);
    const p2 = await plan();
    expect(groupOf(p2, 'Old.Movie.2009').action).toBe('move');
    expect(groupOf(p2, 'Some Show S01 [other tracker]').action).toBe('stay');
  }, 120_000);

  it('a folder no torrent uses, reached through a library symlink to it, is never an orphan; without the link it is', async () => {
    const dir = path.join(w.seedStash, 'movies', 'Kept.By.Link');
    mkdirSync(dir);
    const file = path.join(dir, 'kept.mkv');
    writeFileSync(file, Buffer.alloc(300_000, 3));
    const past = new Date(Date.now() - 60 * 86_400_000);
    utimesSync(file, past, past);
    const link = path.join(w.library, 'Kept');
    symlinkSync(dir, link);
    await plan(); // refresh: scan + sync
    const held = await hashall('orphans', '--json');
    expect(held.code, held.stderr).toBe(0);
    const r1 = JSON.parse(held.stdout) as { blockers: string[]; trees: { path: string }[] };
    expect(r1.blockers).toEqual([]);
    expect(r1.trees.map((t) => t.path)).not.toContain(dir);

    rmSync(link);
    await plan();
    const free = await hashall('orphans', '--json');
    const r2 = JSON.parse(free.stdout) as { trees: { path: string }[] };
    expect(r2.trees.map((t) => t.path)).toContain(dir);
  }, 120_000);

  it('whereis of a library symlink shows what it names and says it is a link; the copy lists the links that reach it', async () => {
    const old = w.torrents.old;
    const link = path.join(w.library, 'Old Movie link.mkv');
    symlinkSync(old.paths[0]!, link);
    await plan(); // refresh: the scan records the link
    const r = await hashall('whereis', link, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { via?: { link: string; target: string }; roots: string[]; files: { copies: { paths: string[]; symlinks?: string[] }[] }[] };
    expect(out.via).toEqual({ link, target: old.paths[0] });
    expect(out.roots).toEqual([old.paths[0]]);
    expect(out.files[0]!.copies[0]!.symlinks).toEqual([link]);
    const text = await hashall('whereis', link);
    expect(text.stdout).toContain(`${link} is a symlink to ${old.paths[0]}`);
    expect(text.stdout).toContain(`reached by symlink ${link}`);
    rmSync(link);
  }, 120_000);

  it('a root last scanned by an older hashall (no links recorded) makes every consumer verdict unknown until it is scanned again', async () => {
    await plan(); // refresh: every root scanned by this version
    const db = new Database(path.join(w.base, 'catalog.db'));
    db.prepare(`UPDATE scan_roots SET links_known = 0 WHERE kind = 'library'`).run(); // as migration 16 leaves an older version's scans
    db.close();
    const r = await hashall('plan', '--no-refresh', '--json');
    expect(r.code, r.stderr).toBe(0);
    const movie = groupOf(JSON.parse(r.stdout) as Plan, 'Old.Movie.2009');
    expect(movie.action).toBe('blocked');
    expect(movie.reasons.join('\n')).toMatch(/was last scanned by an older hashall, which recorded no symlinks/);
    const orphans = JSON.parse((await hashall('orphans', '--json')).stdout) as { blockers: string[] };
    expect(orphans.blockers.join('\n')).toMatch(/recorded no symlinks/);
    const doctor = JSON.parse((await hashall('doctor', '--json', '--no-notify')).stdout) as { checks: { id: string; status: string; detail: string }[] };
    expect(doctor.checks.find((c) => c.id === 'freshness:symlinks')).toMatchObject({ status: 'warn', detail: expect.stringContaining(w.library) });
    // The refresh scans it again: known, the movie moves.
    expect(groupOf(await plan(), 'Old.Movie.2009').action).toBe('move');
  }, 120_000);
});
