// doctor's hardlink probe: a file and a hardlink of it made in a seeding root (which other users write) through the root held open, and removed only while each name is still the inode hashall made.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, linkSync, lstatSync, openSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { anchoredPath, withPlainPaths } from '../domain/anchored-path.js';

/** Test-only: called between the probe file's creation and its hardlink (where another user's swap would land). */
export interface ProbeHooks {
  /** Called before `dir` is opened (where a swap of the proven name for a symlink to elsewhere would land). */
  beforeHold?(dir: string): void;
  beforeLink?(file: string): void;
}

export interface ProbeOptions extends ProbeHooks {
  /**
   * Why the folder held open is not on the filesystem the probe may write (its device as fstat reads it from the held
   * descriptor), or null when it is: nothing is created unless this says null. Without it, any device is accepted.
   */
  refuseDevice?(dev: number): string | null;
}

/**
 * Create a file and a hardlink of it in `dir` (exclusive names, never following), then remove both: null when the
 * hardlink was made, else why not. With `refuseDevice`, the folder held open must be on the allowed filesystem first. Every call goes through `dir` held open (a folder on the way swapped meanwhile
 * changes nothing), and a name is removed only while it is still the (device, inode) made here — a name another user
 * put there, or swapped in, is left as it is (and said).
 */
export function hardlinkProbe(dir: string, hooks: ProbeOptions = {}): string | null {
  const name = `.hashall-probe-${randomBytes(6).toString('hex')}`;
  const linkName = `${name}.link`;
  let held: number;
  try {
    hooks.beforeHold?.(dir);
    held = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    return message(err);
  }
  // The folder proven by name may have been swapped since: judge the one held, by its own device, before any write.
  const refused = hooks.refuseDevice?.(fstatSync(held).dev) ?? null;
  if (refused !== null) {
    closeSync(held);
    return `${dir} as opened ${refused}: nothing was created there`;
  }
  const at = (n: string): string => anchoredPath(held, n);
  const made: { name: string; dev: number; ino: number }[] = [];
  let fd: number | null = null;
  let found: string | null = null;
  try {
    fd = openSync(at(name), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    const st = fstatSync(fd);
    made.push({ name, dev: st.dev, ino: st.ino });
    hooks.beforeLink?.(path.join(dir, name));
    linkSync(at(name), at(linkName));
    const l = lstatSync(at(linkName));
    if (l.dev !== st.dev || l.ino !== st.ino) found = `${path.join(dir, linkName)} is not a hardlink of ${path.join(dir, name)} (another process changed them)`;
    else made.push({ name: linkName, dev: st.dev, ino: st.ino });
  } catch (err) {
    found = message(withPlainPaths(err, anchoredPath(held), dir));
  } finally {
    if (fd !== null) closeSync(fd);
    const left: string[] = [];
    for (const m of made.reverse()) {
      const now = lstatSync(at(m.name), { throwIfNoEntry: false });
      if (now === undefined) continue;
      if (now.isFile() && now.dev === m.dev && now.ino === m.ino) unlinkSync(at(m.name));
      else left.push(path.join(dir, m.name));
    }
    closeSync(held);
    if (left.length > 0) found = `${found ?? 'the probe'}; left as it is, not the file hashall made (another process replaced it): ${left.join(', ')}`;
  }
  return found;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
