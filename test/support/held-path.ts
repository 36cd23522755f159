// The path now of a held folder's anchored spelling (`/proc/self/fd/N[/…]`, src/apply/folder-hold.ts), for tests that log or match the paths apply writes to.
import { readlinkSync } from 'node:fs';

/** `p` with a held folder's descriptor (`/proc/self/fd/N`) replaced by that folder's path now; `p` itself when it names none (or the descriptor is closed). */
export function heldPathNow(p: string): string {
  const m = /^\/proc\/self\/fd\/(\d+)(\/.*)?$/.exec(p);
  if (!m) return p;
  try {
    return `${readlinkSync(`/proc/self/fd/${m[1]}`)}${m[2] ?? ''}`;
  } catch {
    return p;
  }
}
