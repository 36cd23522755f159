// Refuses a catalog that another local user could replace: its file, its folder or a folder above it writable or owned by them.
// Whoever can replace the catalog can forge the run journal that `apply` and `recover` act on as root (what to rename,
// what to remove), so the catalog must live where only this user (or root) can write — as ssh judges ~/.ssh.
import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { CatalogError } from '../errors.js';

/** The path as it really is: symlinks in its existing part resolved, the part not made yet appended as spelled. */
function realPlace(p: string): string {
  const rest: string[] = [];
  let at = path.resolve(p);
  while (!existsSync(at)) {
    const up = path.dirname(at);
    if (up === at) break;
    rest.unshift(path.basename(at));
    at = up;
  }
  return path.join(realpathSync(at), ...rest);
}

/**
 * Throws a CatalogError when `file` (the catalog), its folder or any folder above is a place another user could
 * change: the file or a folder owned by anyone but root or this user, the catalog's own folder writable by its group
 * or others (even sticky: they could plant the -wal/-shm names), a folder above writable by them without the sticky
 * bit (they could rename the catalog's folder away). Folders not made yet are not judged (hashall makes them 0700).
 */
export function checkCatalogPlace(file: string): void {
  const euid = process.geteuid?.() ?? 0;
  const owners = new Set([0, euid]);
  const who = euid === 0 ? 'root' : `uid ${euid}`;
  const hint = (d: string) => `chmod go-w ${d} and chown it to ${who}, or point \`catalog:\` in hashall.yaml at a folder only ${who} can write: whoever can replace the catalog can forge the records apply and recover act on`;
  const real = realPlace(file);
  const fileSt = statSync(real, { throwIfNoEntry: false });
  if (fileSt && !owners.has(fileSt.uid)) throw new CatalogError(`catalog ${real} is owned by uid ${fileSt.uid}, not ${who}`, { hint: hint(path.dirname(real)) });
  const folder = path.dirname(real);
  for (let d = folder; ; d = path.dirname(d)) {
    const st = statSync(d, { throwIfNoEntry: false });
    if (st) {
      const what = d === folder ? `catalog folder ${d}` : `folder ${d} above the catalog`;
      if (!owners.has(st.uid)) throw new CatalogError(`${what} is owned by uid ${st.uid}, not ${who}`, { hint: hint(d) });
      const sticky = (st.mode & 0o1000) !== 0;
      if ((st.mode & 0o002) !== 0 && (d === folder || !sticky)) throw new CatalogError(`${what} is writable by other users`, { hint: hint(d) });
      if ((st.mode & 0o020) !== 0 && (d === folder || !sticky)) throw new CatalogError(`${what} is writable by its group`, { hint: hint(d) });
    }
    if (path.dirname(d) === d) break;
  }
}
