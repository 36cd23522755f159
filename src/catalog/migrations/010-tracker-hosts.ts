// Catalog migration 10: trackers are kept as host names only — scrubs announce URLs (with passkeys) stored before (data).
import type { Db } from '../db.js';
import { trackerHost } from '../../domain/tracker.js';
import type { Migration } from './index.js';

/**
 * torrents.tracker — from now on the tracker's host name only (the sync stores trackerHost). Older catalogs stored
 * the client's announce URL, passkey included: rewritten here, and so is every torrent's `tracker` in the plan group
 * each run recorded (run_groups.plan_group). The schema is unchanged.
 */
export const m010TrackerHosts: Migration = {
  version: 10,
  name: 'tracker-hosts',
  up: '',
  run(db: Db): void {
    const torrents = db.prepare(`SELECT rowid AS id, tracker FROM torrents WHERE tracker IS NOT NULL`).all() as { id: number; tracker: string }[];
    const setTracker = db.prepare(`UPDATE torrents SET tracker = ? WHERE rowid = ?`);
    for (const t of torrents) {
      const host = trackerHost(t.tracker);
      if (host !== t.tracker) setTracker.run(host, t.id);
    }
    const groups = db.prepare(`SELECT rowid AS id, plan_group FROM run_groups`).all() as { id: number; plan_group: string }[];
    const setGroup = db.prepare(`UPDATE run_groups SET plan_group = ? WHERE rowid = ?`);
    for (const g of groups) {
      const group = JSON.parse(g.plan_group) as { torrents?: { tracker?: string | null }[] };
      let changed = false;
      for (const t of group.torrents ?? []) {
        if (t.tracker === undefined || t.tracker === null) continue;
        const host = trackerHost(t.tracker);
        if (host !== t.tracker) {
          t.tracker = host;
          changed = true;
        }
      }
      if (changed) setGroup.run(JSON.stringify(group), g.id);
    }
  },
};
