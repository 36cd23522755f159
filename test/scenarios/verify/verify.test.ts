// Integrity at rest on real tmpfs: verify tells bit rot from edits, a scan never absorbs it, plans block it, the budget holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../../support/cli.js';
import { rot } from '../../support/bit-rot.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { openCatalog } from '../../../src/catalog/db.js';
import { openIntegrityProblems } from '../../../src/catalog/integrity.js';
import { verifyCatalog, type VerifyReport } from '../../../src/catalog/verify.js';
import { loadConfig } from '../../../src/config/load.js';
import type { Plan } from '../../../src/plan/types.js';
import { stashPoolConfigText } from '../../../src/sandbox/stash-pool-config.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
let tmp: TempDir;
let config: string;
let stash: string;
let catalogFile: string;
const original = new Map<string, Buffer>();

function restore(file: string): void {
  const ref = `${file}.mtime-ref`;
  execFileSync('touch', ['-r', file, ref]);
  writeFileSync(file, original.get(file)!);
  execFileSync('touch', ['-r', ref, file]);
  execFileSync('rm', [ref]);
}

async function hashall(...args: string[]) {
  return runCli([...args, '--config', config]);
}

function catalogSha(file: string): string | null {
  const c = openCatalog(catalogFile, { readonly: true });
  try {
    return c.db.prepare(`SELECT sha256 FROM file_paths WHERE abs_path = ? AND status = 'active'`).pluck().get(file) as string | null;
  } finally {
    c.close();
  }
}

const seed = (): string => path.join(stash, 'torrents');
const movie = (): string => path.join(seed(), 'movies', 'Film.2020', 'film.mkv');
const twin = (): string => path.join(seed(), 'movies', 'Film.2020 (copy)', 'film.mkv');
const nfo = (): string => path.join(seed(), 'movies', 'Film.2020', 'film.nfo');
const libLink = (): string => path.join(stash, 'media', 'movies', 'Film (2020)', 'film.mkv');

beforeAll(async () => {
  tmp = makeTempDir('hashall-verify-');
  stash = path.join(tmp.path, 'stash');
  const pool = path.join(tmp.path, 'pool');
  mountTmpfs(stash, 32 << 20, 'stash');
  mountTmpfs(pool, 16 << 20, 'pool');
  for (const f of [movie(), twin(), libLink()]) mkdirSync(path.dirname(f), { recursive: true });
  mkdirSync(path.join(pool, 'torrents'), { recursive: true });
  const bytes = randomBytes(3 << 20);
  for (const [f, b] of [
    [movie(), bytes],
    [twin(), bytes],
    [nfo(), Buffer.from('an nfo\n')],
  ] as const) {
    writeFileSync(f, b);
    original.set(f, Buffer.from(b));
  }
  linkSync(movie(), libLink());
  catalogFile = path.join(tmp.path, 'state', 'catalog.db');
  config = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(
    config,
    stashPoolConfigText({ catalog: './state/catalog.db', stash, pool, seeding: { stash: [seed()], pool: [`${pool}/torrents`] }, libraries: [`${stash}/media`] }, [
      'dedupe: { filesystems: [stash], minSize: 1 }',
      'verify: { every: 30d, budget: 4MiB }',
    ]),
  );
  const r = await hashall('scan', '--hash-all', '--json');
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => tmp?.cleanup());

describe('hashall verify', () => {
  it('a healthy catalog verifies ok (exit 0) and every inode is read once', async () => {
    const r = await hashall('verify', '--json');
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as VerifyReport;
    expect(rep.findings).toEqual([]);
    expect(rep.inodes).toBe(3); // film.mkv and its library link are one inode
    expect(rep.bytesRead).toBe(2 * (3 << 20) + 7);
    expect(rep.totals).toEqual([{ fs: 'stash', files: 4, bytes: 2 * (3 << 20) + 7, ok: 4, baseline: 0, corrupted: 0, changed: 0, missing: 0, unreadable: 0 }]);
  });

  it('a path that names no catalogued file (a typo, a folder never scanned) is an error (exit 1), not a clean bill', async () => {
    const typo = path.join(seed(), 'movies', 'Film.2020', 'flim.mkv');
    const r = await hashall('verify', typo, movie());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`"${typo}": no catalogued file is at or under it; nothing was verified`);
    const j = await hashall('verify', '/nonexistent', '--json');
    expect(j.code).toBe(1);
    expect(j.stdout).not.toMatch(/"findings"/);
    const ok = await hashall('verify', path.dirname(movie()), '--json');
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as VerifyReport).inodes).toBe(2);
  });

  it('one flipped byte with the mtime put back is corrupted, not changed — through every link of the inode (exit 1)', async () => {
    rot(movie(), 1_234_567);
    const r = await hashall('verify', '--json');
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.stdout) as VerifyReport;
    expect(rep.findings.map((f) => [f.path, f.status])).toEqual(
      [
        [libLink(), 'corrupted'],
        [movie(), 'corrupted'],
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );
    expect(rep.findings[0]).toMatchObject({ expected: sha(original.get(movie())!), found: sha(readFileSync(movie())) });
    const text = await hashall('verify');
    expect(text.stdout).toMatch(/CORRUPTED +.*film\.mkv/);
    expect(text.stdout).toMatch(/1 corrupted|2 corrupted/);
  });

  it('a full-drift scan afterwards keeps the recorded hash and the problem (bit rot is never absorbed as an edit)', async () => {
    const r = await hashall('scan', '--drift', 'full', '--json');
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { changed: number; problems: { code: string; path: string }[] };
    expect(s.changed).toBe(0);
    expect(s.problems.some((p) => p.code === 'ECORRUPT')).toBe(true);
    expect(catalogSha(movie())).toBe(sha(original.get(movie())!));
    const c = openCatalog(catalogFile, { readonly: true });
    try {
      expect(openIntegrityProblems(c).map((p) => [p.kind, p.expected])).toEqual([['corrupted', sha(original.get(movie())!)]]);
    } finally {
      c.close();
    }
    const stats = await hashall('catalog', 'stats', '--json');
    expect(JSON.parse(stats.stdout).verification).toMatchObject({ inodes: 3, open: 1 });
    expect((await hashall('catalog', 'stats')).stdout).toMatch(/verification: 3 of 3 hashed inodes read back within the last .*1 open integrity problem/);
    // and the next verify still says corrupted
    const v = await hashall('verify', movie(), '--json');
    expect(v.code).toBe(1);
    expect((JSON.parse(v.stdout) as VerifyReport).findings.map((f) => f.status)).toEqual(['corrupted']);
  });

  it('the plan blocks the dedupe that would link the good twin to the corrupted file', async () => {
    const r = await hashall('plan', '--json', '--no-refresh');
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as Plan;
    const dd = plan.groups.filter((g) => g.key.startsWith('dedupe') || g.title === 'film.mkv');
    expect(dd.length).toBeGreaterThan(0);
    for (const g of dd) {
      expect(g.action).toBe('blocked');
      expect(g.steps).toEqual([]);
      expect(g.reasons[0]).toMatch(/damaged file: .*film\.mkv is corrupted/);
    }
    expect(plan.summary.dedupe).toBe(0);
  });

  it('an edit (new mtime) is changed, not corrupted; restoring the good bytes ends the problem', async () => {
    writeFileSync(nfo(), 'an edited nfo\n');
    const r = await hashall('verify', nfo(), '--json');
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as VerifyReport).findings.map((f) => [f.path, f.status])).toEqual([[nfo(), 'changed']]);
    writeFileSync(nfo(), original.get(nfo())!);
    expect((await hashall('scan', '--hash-all')).code).toBe(0);

    restore(movie());
    const ok = await hashall('verify', '--json');
    expect(ok.code, ok.stdout).toBe(0);
    const c = openCatalog(catalogFile, { readonly: true });
    try {
      expect(openIntegrityProblems(c)).toEqual([]);
      expect(c.db.prepare(`SELECT resolution FROM integrity_problems`).pluck().all()).toEqual(['verified-ok']);
    } finally {
      c.close();
    }
    const plan = JSON.parse((await hashall('plan', '--json', '--no-refresh')).stdout) as Plan;
    expect(plan.summary.dedupe).toBeGreaterThan(0);
  });

  it('an unreadable file (EIO from the hashing port) is reported and recorded, nothing else is touched', async () => {
    const { config: cfg } = loadConfig(config, { env: {}, cwd: tmp.path });
    const catalog = openCatalog(catalogFile);
    try {
      const before = catalog.db.prepare(`SELECT abs_path, sha256 FROM file_paths ORDER BY abs_path`).all();
      const rep = await verifyCatalog(catalog, cfg, {
        paths: [twin()],
        now: () => Date.now(),
        hasher: async () => ({ bytesRead: 0, error: { code: 'EIO', message: 'input/output error' } }),
      });
      expect(rep.findings).toEqual([{ path: twin(), fs: 'stash', status: 'unreadable', size: 3 << 20, detail: 'EIO: input/output error' }]);
      expect(openIntegrityProblems(catalog).map((p) => [p.path, p.kind])).toEqual([[twin(), 'unreadable']]);
      expect(catalog.db.prepare(`SELECT abs_path, sha256 FROM file_paths ORDER BY abs_path`).all()).toEqual(before);
      // A real read that succeeds ends it.
      const again = await verifyCatalog(catalog, cfg, { paths: [twin()], now: () => Date.now() });
      expect(again.findings).toEqual([]);
      expect(openIntegrityProblems(catalog)).toEqual([]);
    } finally {
      catalog.close();
    }
    for (const [f, b] of original) expect(sha(readFileSync(f))).toBe(sha(b));
  });

  it('--scheduled reads no more than its budget, least recently verified first, and covers the rest on the next runs', async () => {
    const { config: cfg } = loadConfig(config, { env: {}, cwd: tmp.path });
    const catalog = openCatalog(catalogFile);
    const DAY = 86_400_000;
    try {
      // Every proof 40 days old, but the nfo's 45 and the twin's 50: the order is twin, nfo, film.
      const t0 = Date.now();
      catalog.db.prepare(`UPDATE files SET verified_at = ?, hashed_at = ?`).run(t0 - 40 * DAY, t0 - 40 * DAY);
      catalog.db.prepare(`UPDATE files SET verified_at = ? WHERE path LIKE '%(copy)%'`).run(t0 - 50 * DAY);
      catalog.db.prepare(`UPDATE files SET verified_at = ? WHERE path LIKE '%.nfo'`).run(t0 - 45 * DAY);
      const budget = { everyMs: 30 * DAY, budgetBytes: 4 << 20 };
      const verifiedAt = (t: number): string[] => catalog.db.prepare(`SELECT abs_path FROM file_paths WHERE verified_at = ? ORDER BY abs_path`).pluck().all(t) as string[];
      const first = await verifyCatalog(catalog, cfg, { scheduled: budget, now: () => t0 });
      expect(first.bytesRead).toBeLessThanOrEqual(budget.budgetBytes);
      expect(first.scheduled).toEqual({ budgetBytes: 4 << 20, dueInodes: 3, leftInodes: 1 });
      expect(first.findings).toEqual([]);
      expect(verifiedAt(t0)).toEqual([twin(), nfo()].sort());
      // The film (3 MiB) did not fit beside the twin: it is the next run's, with its library link.
      const second = await verifyCatalog(catalog, cfg, { scheduled: budget, now: () => t0 + 1 });
      expect(second.bytesRead).toBe(3 << 20);
      expect(second.scheduled).toEqual({ budgetBytes: 4 << 20, dueInodes: 1, leftInodes: 0 });
      expect(verifiedAt(t0 + 1)).toEqual([movie(), libLink()].sort());
      const third = await verifyCatalog(catalog, cfg, { scheduled: budget, now: () => t0 + 2 });
      expect(third).toMatchObject({ inodes: 0, bytesRead: 0, scheduled: { dueInodes: 0, leftInodes: 0 } });
    } finally {
      catalog.close();
    }
  });
});
