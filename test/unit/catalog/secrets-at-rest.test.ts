// Secrets at rest: the catalog is private (0600 in a 0700 directory, whatever the umask) and keeps no tracker passkey.
import { afterEach, describe, expect, it } from 'vitest';
import { lstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCatalog } from '../../../src/catalog/db.js';
import { MIGRATIONS } from '../../../src/catalog/migrations/index.js';
import { trackerHost } from '../../../src/domain/tracker.js';
import { writePlanFile } from '../../../src/plan/plan-file-io.js';
import { showcasePlan } from '../render/showcase.js';

const PASSKEY = 'c0ffee1234567890deadbeefcafe0001';
let dir: string;
const oldUmask = process.umask(0);
afterEach(() => rmSync(dir, { recursive: true, force: true }));
process.on('exit', () => process.umask(oldUmask));

const mode = (p: string): number => lstatSync(p).mode & 0o777;

describe('secrets at rest', () => {
  it('creates the catalog 0600 in new 0700 directories and plan files 0600, with umask 0', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hashall-private-'));
    const file = path.join(dir, 'state', 'hashall', 'catalog.db');
    const c = openCatalog(file);
    c.db.prepare(`INSERT INTO meta (key, value) VALUES ('x', 'y')`).run();
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}-wal`)).toBe(0o600);
    expect(mode(path.dirname(file))).toBe(0o700);
    expect(mode(path.dirname(path.dirname(file)))).toBe(0o700);
    c.close();
    const plan = path.join(dir, 'plan.json');
    writePlanFile(plan, showcasePlan());
    expect(mode(plan)).toBe(0o600);
  });

  it('keeps tracker host names only; migration 10 scrubs passkeys stored by older versions, leaving no trace in the file', () => {
    expect(trackerHost(`https://Tracker.Example.org:443/announce/${PASSKEY}`)).toBe('tracker.example.org');
    expect(trackerHost(`http://user:${PASSKEY}@t.example.org/a?passkey=${PASSKEY}`)).toBe('t.example.org');
    expect(trackerHost(`t.example.org/${PASSKEY}`)).toBeNull();
    expect(trackerHost('t.example.org')).toBe('t.example.org');

    dir = mkdtempSync(path.join(tmpdir(), 'hashall-scrub-'));
    const file = path.join(dir, 'catalog.db');
    const old = openCatalog(file, { migrations: MIGRATIONS.filter((m) => m.version < 10) });
    const url = `https://tracker.example.org/announce/${PASSKEY}`;
    old.db
      .prepare(
        `INSERT INTO torrents (hash, name, category, tags, tracker, raw_state, phase, running, progress, amount_left, size, auto_tmm, added_on, completion_on, seeding_time,
           client_save_path, client_content_path, client_download_path, host_content_path, fs_id, unmapped_reason, data_status, data_detail, status, first_seen, synced_at)
         VALUES ('${'a'.repeat(40)}', 'T', '', '[]', ?, 'stalledUP', 'seeding', 1, 1, 0, 1, 0, NULL, NULL, 0, '/d', '/d/T', '', NULL, NULL, NULL, 'unmapped', NULL, 'active', 0, 0)`,
      )
      .run(url);
    old.db.prepare(`INSERT INTO runs (id, started_at, user, host, pid, command, status) VALUES ('r1', 0, 'u', 'h', 1, 'c', 'succeeded')`).run();
    old.db
      .prepare(`INSERT INTO run_groups (run_id, group_id, idx, group_key, action, title, plan_group, status, reasons) VALUES ('r1', 'g1', 0, 'k', 'move', 'T', ?, 'done', '[]')`)
      .run(JSON.stringify({ id: 'g1', torrents: [{ hash: 'a'.repeat(40), name: 'T', category: '', tracker: url }] }));
    old.close();
    expect(readFileSync(file).includes(PASSKEY) || readFileSync(`${file}-wal`, { flag: 'a+' }).includes(PASSKEY)).toBe(true);

    const c = openCatalog(file);
    expect(c.db.prepare(`SELECT tracker FROM torrents`).get()).toEqual({ tracker: 'tracker.example.org' });
    const g = JSON.parse((c.db.prepare(`SELECT plan_group FROM run_groups`).get() as { plan_group: string }).plan_group) as { torrents: { tracker: string }[] };
    expect(g.torrents[0]!.tracker).toBe('tracker.example.org');
    c.close();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      const bytes = lstatSync(f, { throwIfNoEntry: false }) ? readFileSync(f) : Buffer.alloc(0);
      expect(bytes.includes(PASSKEY), f).toBe(false);
    }
  });
});
