// End to end: a saved plan whose payload files changed on disk after planning (another inode, or other bytes; rescanned or not) is refused as stale (exit 5) and nothing is changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSeedboxOnTmpfs } from '../../support/demo-on-tmpfs.js';
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DemoSeedbox } from '../../../src/demo/seedbox.js';
import type { Plan } from '../../../src/plan/types.js';
import { runCli } from '../../support/cli.js';
import { makeTempDir, type TempDir } from '../../support/mounts.js';
import { inodeTreeSnapshot } from '../../support/tree-snapshot.js';

let tmp: TempDir;
let seedbox: DemoSeedbox;

async function hashall(...args: string[]) {
  return runCli([...args, '--config', seedbox.configPath], { cwd: seedbox.base });
}

async function savePaths(): Promise<string[]> {
  const res = await seedbox.qbt.api('GET', '/torrents/info');
  return (JSON.parse(res.text) as { hash: string; save_path: string }[]).sort((a, b) => (a.hash < b.hash ? -1 : 1)).map((t) => t.save_path);
}

/** A saved plan of the moves only (the dedupe and reuse groups have their own staleness tests). */
async function savedMovePlan(name: string): Promise<string> {
  const file = path.join(seedbox.base, name);
  const r = await hashall('plan', '--out', file);
  expect(r.code, r.stderr).toBe(0);
  const plan = JSON.parse(readFileSync(file, 'utf8')) as Plan;
  plan.groups = plan.groups.filter((g) => g.action === 'move');
  expect(plan.groups.map((g) => g.title).sort()).toEqual(['Old.Movie.2009', 'Some Show S01 [other tracker]']);
  writeFileSync(file, JSON.stringify(plan));
  return file;
}

/** Apply `file`: exit 5 naming the changed file, and not one byte, inode or torrent location changed. */
async function expectStale(file: string, changed: string): Promise<void> {
  const before = inodeTreeSnapshot(seedbox.stash, seedbox.pool);
  const torrents = await savePaths();
  const r = await hashall('apply', file, '--auto-approve');
  expect(r.code, r.stdout + r.stderr).toBe(5);
  expect(r.stderr).toMatch(/stale/);
  expect(r.stderr).toContain(changed);
  expect(inodeTreeSnapshot(seedbox.stash, seedbox.pool)).toEqual(before);
  expect(await savePaths()).toEqual(torrents);
}

beforeAll(async () => {
  tmp = makeTempDir('hashall-stale-plan-');
  seedbox = await demoSeedboxOnTmpfs(tmp.path);
});

afterAll(async () => {
  await seedbox?.qbt.stop();
  tmp?.cleanup();
});

describe('a saved plan lists its payloads\' files by reference to the catalog', () => {
  it('the file names the payloads, and `show --json` lists every file read back from the catalog, as apply reads them', async () => {
    const file = path.join(seedbox.base, 'plan-show.json');
    expect((await hashall('plan', '--out', file)).code).toBe(0);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Plan;
    const old = saved.groups.find((g) => g.title === 'Old.Movie.2009')!;
    const oldRoot = path.dirname(seedbox.torrents.old.paths[0]!);
    expect(old.fingerprint).toMatchObject({ files: [], payloads: [{ fs: 'stash', root: oldRoot }] });
    expect(old.steps[0]).toMatchObject({ kind: 'copy', catalogFiles: 2 });
    expect(old.steps[0]).not.toHaveProperty('files');
    const r = await hashall('show', file, '--json');
    expect(r.code, r.stderr).toBe(0);
    const shown = JSON.parse(r.stdout) as Plan;
    const shownOld = shown.groups.find((g) => g.title === 'Old.Movie.2009')!;
    expect(shownOld.fingerprint).not.toHaveProperty('payloads');
    expect(shownOld.fingerprint.files.map((f) => [f.path, f.ino])).toEqual(seedbox.torrents.old.paths.map((p) => [p, statSync(p).ino]));
    expect(shownOld.steps[0]).toMatchObject({ kind: 'copy', files: [{ relpath: 'Old.Movie.2009.mkv' }, { relpath: 'Old.Movie.2009.srt' }] });
    // The show and its cross-seed: both payloads' files (two roots, shared inodes), once each, in path order.
    const pair = shown.groups.find((g) => g.title === 'Some Show S01 [other tracker]')!;
    const paths = pair.fingerprint.files.map((f) => f.path);
    expect(paths).toHaveLength(4);
    expect(paths).toEqual([...paths].sort());
  });

  it('a plan file whose by-reference copy was edited (another file count) is stale: exit 5, nothing changed', async () => {
    const file = await savedMovePlan('plan-edited.json');
    const plan = JSON.parse(readFileSync(file, 'utf8')) as Plan;
    const copy = plan.groups[0]!.steps.find((s) => s.kind === 'copy')!;
    if (copy.kind !== 'copy') throw new Error('a move starts with a copy');
    copy.catalogFiles = (copy.catalogFiles ?? 0) + 1;
    writeFileSync(file, JSON.stringify(plan));
    await expectStale(file, 'the plan copies');
  });
});

describe('a saved plan whose payload files changed on disk since planning', () => {
  it('a payload file replaced by another inode with the same bytes, size and mtime, not rescanned: exit 5, nothing changed', async () => {
    const file = await savedMovePlan('plan-inode.json');
    const mkv = seedbox.torrents.old.paths[0]!;
    const st = statSync(mkv, { bigint: true });
    const tmpCopy = `${mkv}.tmp`;
    execFileSync('cp', ['-p', mkv, tmpCopy]); // timestamps kept to the nanosecond
    renameSync(tmpCopy, mkv);
    const now = statSync(mkv, { bigint: true });
    expect(now.ino).not.toBe(st.ino);
    expect([now.size, now.mtimeNs]).toEqual([st.size, st.mtimeNs]);
    await expectStale(file, mkv);
  });

  it('a payload file rewritten in place (other bytes, same size), then rescanned: exit 5 (the catalog changed), nothing changed', async () => {
    const file = await savedMovePlan('plan-rescanned.json');
    // A file of the show, which its cross-seed shares by hardlink (two payload roots, one inode).
    const ep = seedbox.torrents.show.paths[1]!;
    const bytes = readFileSync(ep);
    bytes[0] = bytes[0]! ^ 0xff;
    writeFileSync(ep, bytes);
    const scan = await hashall('scan');
    expect(scan.code, scan.stderr).toBe(0);
    await expectStale(file, 'the catalog changed since planning');
  });

  it('a payload file rewritten in place (other bytes, same size), not rescanned: exit 5, nothing changed', async () => {
    const file = await savedMovePlan('plan-rewritten.json');
    const srt = seedbox.torrents.old.paths[1]!;
    const bytes = readFileSync(srt);
    bytes[0] = bytes[0]! ^ 0xff;
    writeFileSync(srt, bytes);
    utimesSync(srt, new Date(), new Date(Date.now() + 5_000));
    await expectStale(file, srt);
  });
});
