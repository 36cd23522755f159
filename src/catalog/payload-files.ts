// The files of payloads named by filesystem name and root, read in one read transaction (for plans that list them by reference).
import type { PayloadFile } from '../domain/snapshot.js';
import { isAtOrUnder } from '../domain/path-string.js';
import type { CatalogDb } from './db.js';
import { filesystemMountsReader } from './filesystems.js';
import { relToMount } from './host-paths.js';
import { payloadBulkReader } from './payload-rows.js';

/** The active rows at or under `root` on the filesystem configured as `fs`, as readSnapshot reads a payload; or why there are none. */
export type PayloadFilesLookup = (fs: string, root: string) => PayloadFile[] | { problem: string };

/** Runs `use` inside one read transaction of the catalog with a lookup of payload files (each payload read once). */
export function withPayloadFiles<T>(catalog: CatalogDb, use: (lookup: PayloadFilesLookup) => T): T {
  const reader = payloadBulkReader(catalog);
  const mountsOf = filesystemMountsReader(catalog.db);
  const cache = new Map<string, PayloadFile[] | { problem: string }>();
  const lookup: PayloadFilesLookup = (fs, root) => {
    const key = `${fs}\0${root}`;
    let hit = cache.get(key);
    if (hit === undefined) {
      const rows = mountsOf(fs).filter((m) => isAtOrUnder(root, m.preferred_mount));
      if (rows.length !== 1) hit = { problem: `the catalog has ${rows.length === 0 ? 'no' : 'more than one'} filesystem ${fs} holding ${root}` };
      else {
        const bulk = reader.resolve(rows[0]!.id, rows[0]!.preferred_mount, relToMount(root, rows[0]!.preferred_mount), false);
        hit = bulk ? bulk.files : { problem: `the catalog holds no files at ${root} on ${fs}` };
      }
      cache.set(key, hit);
    }
    return hit;
  };
  return catalog.db.transaction(() => use(lookup))();
}
