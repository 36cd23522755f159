// Scenario: two hashall.yaml entries that are one filesystem (two folders of one disk, two bind mounts of it), and a library on a filesystem's device outside its path — never a plan apply refuses on every run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bindMount, makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { runCli } from '../../support/cli.js';
import type { Plan } from '../../../src/plan/types.js';

let tmp: TempDir;
beforeAll(() => {
  tmp = makeTempDir('hashall-shared-device-');
});
afterAll(() => tmp?.cleanup());

const DATA = Buffer.alloc(200 * 1024, 7);
const ino = (p: string): number => Number(lstatSync(p).ino);

/** A fresh tmpfs at `<name>/disk` with the given folders; returns the world's base folder and the disk. */
function disk(name: string, folders: string[]): { base: string; disk: string } {
  const base = path.join(tmp.path, name);
  const d = path.join(base, 'disk');
  mountTmpfs(d, 16 << 20, `hashall-${name}`);
  for (const f of folders) mkdirSync(path.join(d, f), { recursive: true });
  return { base, disk: d };
}

function config(base: string, file: string, lines: string[]): (...args: string[]) => ReturnType<typeof runCli> {
  const cfg = path.join(base, file);
  writeFileSync(cfg, ['version: 1', 'catalog: catalog.db', ...lines, ''].join('\n'));
  return (...args: string[]) => runCli([...args, '--config', cfg], { cwd: base });
}

describe('two filesystem entries on one device', () => {
  it('two folders of one disk as stash and pool: a config error at the second entry (file:line:col) before anything runs; one entry with both seeding roots dedupes across them', async () => {
    const { base, disk: d } = disk('folders', ['stash/seeding/movies', 'pool/seeding/movies']);
    const files = [`${d}/stash/seeding/movies/a.bin`, `${d}/stash/seeding/movies/b.bin`, `${d}/pool/seeding/movies/a.bin`];
    for (const f of files) writeFileSync(f, DATA);
    const before = files.map(ino);
    const two = config(base, 'two.yaml', [
      'filesystems:',
      `  stash: { path: ${d}/stash }`,
      `  pool: { path: ${d}/pool }`,
      'seeding:',
      `  stash: [${d}/stash/seeding]`,
      `  pool: [${d}/pool/seeding]`,
      'dedupe: { filesystems: [stash, pool], minSize: 1 }',
    ]);
    const v = await two('validate');
    expect(v.code).toBe(3);
    expect(v.stdout + v.stderr).toContain(`two.yaml:5:17: error: filesystem "pool" (${d}/pool) is on the same device`);
    expect(v.stdout + v.stderr).toContain(`as filesystem "stash" (${d}/stash): one filesystem cannot be two entries [filesystems.pool.path]`);
    expect(v.stdout + v.stderr).toContain(`make them one entry whose path holds both (e.g. ${d}, where that filesystem is mounted)`);
    // Old code: scan recorded pool's root as stash's, plan proposed linking pool's copy with stash's, apply refused it (exit 1) on every run.
    for (const cmd of [['scan'], ['plan'], ['apply', '--auto-approve']]) {
      const r = await two(...cmd);
      expect(r.code, `${cmd.join(' ')}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toContain('one filesystem cannot be two entries');
    }
    expect(files.map(ino)).toEqual(before);

    // What the hint says: one entry, both seeding roots. The three copies become one inode; the next apply has nothing to do.
    const one = config(base, 'one.yaml', ['filesystems:', `  disk: { path: ${d} }`, 'seeding:', `  disk: [${d}/stash/seeding, ${d}/pool/seeding]`, 'dedupe: { filesystems: [disk], minSize: 1 }']);
    expect((await one('validate')).code).toBe(0);
    const apply = await one('apply', '--auto-approve');
    expect(apply.code, apply.stderr).toBe(0);
    expect(new Set(files.map(ino)).size).toBe(1);
    const again = await one('plan', '--detailed-exitcode');
    expect(again.code, again.stdout).toBe(0);
  }, 60_000);

  it('two bind mounts of one filesystem as stash and pool: the same error, saying they are two mounts of it', async () => {
    const { base, disk: d } = disk('binds', ['a/seeding', 'b/seeding']);
    bindMount(`${d}/a`, `${base}/stash`);
    bindMount(`${d}/b`, `${base}/pool`);
    const two = config(base, 'binds.yaml', ['filesystems:', `  stash: { path: ${base}/stash }`, `  pool: { path: ${base}/pool }`, 'seeding:', `  stash: [${base}/stash/seeding]`, `  pool: [${base}/pool/seeding]`]);
    const v = await two('validate');
    expect(v.code).toBe(3);
    expect(v.stdout + v.stderr).toContain(`binds.yaml:5:17: error: filesystem "pool" (${base}/pool) is on the same device`);
    expect(v.stdout + v.stderr).toContain('they are two mounts (bind mounts?) of one filesystem: mount it once');
  }, 60_000);
});

describe('a library on a filesystem\'s device but outside its path', () => {
  it('validate warns; plan shows the dedupe group blocked with the reason instead of one apply refuses; apply exits 0 and links nothing there', async () => {
    const { base, disk: d } = disk('library', ['stash/seeding/movies', 'library']);
    const seeded = `${d}/stash/seeding/movies/a.bin`;
    const lib = `${d}/library/a.bin`;
    for (const f of [seeded, lib]) writeFileSync(f, DATA);
    const before = [seeded, lib].map(ino);
    const h = config(base, 'hashall.yaml', ['filesystems:', `  stash: { path: ${d}/stash }`, 'seeding:', `  stash: [${d}/stash/seeding]`, `libraries: [${d}/library]`, 'dedupe: { filesystems: [stash], minSize: 1 }']);
    const v = await h('validate');
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout + v.stderr).toContain(`hashall.yaml:7:13: warning: library root ${d}/library is on the device of filesystem "stash"`);
    const p = await h('plan', '--json');
    expect(p.code, p.stderr).toBe(0);
    const groups = (JSON.parse(p.stdout) as Plan).groups.filter((g) => g.key.startsWith('dedupe:'));
    expect(groups.map((g) => g.action)).toEqual(['blocked']);
    expect(groups[0]!.reasons.join('\n')).toContain(`not linked: ${lib} lies on stash as scanned, but in library root ${d}/library, which hashall.yaml does not give filesystem stash`);
    // Old code: the plan linked the library copy into the seeding copy and apply refused it ("not inside … seeding"), exit 1 every night.
    const apply = await h('apply', '--auto-approve');
    expect(apply.code, apply.stderr).toBe(0);
    expect([seeded, lib].map(ino)).toEqual(before);
  }, 60_000);
});
