// Parses /proc/self/mountinfo into mount entries and finds the mount that holds a path (read-only).
import { isAtOrUnder } from '../domain/path-string.js';
import { readFileSync } from 'node:fs';

export interface MountEntry {
  mountId: number;
  parentId: number;
  /** `major:minor` of the filesystem (st_dev of files on it). */
  majorMinor: string;
  /** Directory of the filesystem that is mounted here ("/" for a whole filesystem, a subdir for a bind mount). */
  root: string;
  /** Where it is mounted, as seen by this process. */
  mountPoint: string;
  options: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

/** Undo the kernel's octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash). */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    if (left.length < 6 || right.length < 2) continue;
    out.push({
      mountId: Number(left[0]),
      parentId: Number(left[1]),
      majorMinor: left[2] ?? '',
      root: unescapeMountField(left[3] ?? '/'),
      mountPoint: unescapeMountField(left[4] ?? '/'),
      options: (left[5] ?? '').split(','),
      fsType: right[0] ?? '',
      source: unescapeMountField(right[1] ?? ''),
      superOptions: (right[2] ?? '').split(','),
    });
  }
  return out;
}

export function readMountInfo(file = '/proc/self/mountinfo'): MountEntry[] {
  return parseMountInfo(readFileSync(file, 'utf8'));
}

/** `st_dev` (as Node's Stats.dev number) → `major:minor` as mountinfo spells it. */
export function devToMajorMinor(dev: number | bigint): string {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/**
 * The mount whose mount point is the longest whole-segment prefix of the absolute, symlink-free `path`.
 * Later entries win on equal mount points (they are mounted over earlier ones).
 */
export function findMountFor(entries: MountEntry[], path: string): MountEntry | null {
  let best: MountEntry | null = null;
  for (const m of entries) {
    const mp = m.mountPoint;
    if (!isAtOrUnder(path, mp)) continue;
    if (!best || mp.length >= best.mountPoint.length) best = m;
  }
  return best;
}
