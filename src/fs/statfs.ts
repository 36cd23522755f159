// Free and total bytes of the filesystem holding a path (statfs; reads the world).
import { statfsSync } from 'node:fs';

export interface SpaceInfo {
  /** Bytes available to an unprivileged writer (f_bavail × f_bsize). */
  freeBytes: number;
  totalBytes: number;
}

export function spaceOf(p: string): SpaceInfo {
  const s = statfsSync(p, { bigint: true });
  return { freeBytes: Number(s.bavail * s.bsize), totalBytes: Number(s.blocks * s.bsize) };
}
