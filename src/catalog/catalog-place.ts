// Refuses a catalog that another local user could replace: its file, its folder or a folder above it writable or owned by them, or a symlink on the way they planted or could swap.
// Whoever can replace the catalog can forge the run journal that `apply` and `recover` act on as root (what to rename,
// what to remove), so the catalog must live where only this user (or root) can write — as ssh judges ~/.ssh.
import { statSync } from 'node:fs';
import path from 'node:path';
import { CatalogError } from '../errors.js';
import { effectiveUser, linkProblem, placeProblem, realPlace } from '../fs/trusted-place.js';

/**
 * Throws a CatalogError when `file` (the catalog), its folder or any folder above is a place another user could
 * change: the file or a folder owned by anyone but root or this user, the catalog's own folder writable by its group
 * or others (even sticky: they could plant the -wal/-shm names), a folder above writable by them without the sticky
 * bit (they could rename the catalog's folder away). Folders not made yet are not judged (hashall makes them 0700).
 */
export function checkCatalogPlace(file: string): void {
  const { euid, who } = effectiveUser();
  const hint = (d: string) => `chmod go-w ${d} and chown it to ${who}, or point \`catalog:\` in hashall.yaml at a folder only ${who} can write: whoever can replace the catalog can forge the records apply and recover act on`;
  // The links on the way first: one another user planted or could swap would lead root's catalog writes (a chmod 0600,
  // SQLite's pages) into whatever file or folder they name — a root one that the real place alone would judge fine.
  const link = linkProblem(file, { owners: new Set([0, euid]), who });
  if (link !== null) {
    throw new CatalogError(`symlink ${link.at} on the way to catalog ${file} ${link.problem}`, {
      hint: `point \`catalog:\` in hashall.yaml at the real path (no symlink another user could plant or swap), or ${link.kind === 'owner' ? `remove ${link.at}` : `chmod go-w ${path.dirname(link.at)}`}`,
    });
  }
  const real = realPlace(file);
  // The catalog's own mode is hashall's to set (0600, made private on open): only its owner is judged.
  const found = placeProblem(real, statSync(real, { throwIfNoEntry: false }), { owners: new Set([0, euid]), who, fileWritable: false, strictFolder: true });
  if (found === null) return;
  const subject = found.where === 'file' ? `catalog ${found.at}` : found.where === 'folder' ? `catalog folder ${found.at}` : `folder ${found.at} above the catalog`;
  throw new CatalogError(`${subject} ${found.problem}`, { hint: hint(found.where === 'file' ? path.dirname(found.at) : found.at) });
}
