// What the copies of a run proved about the files they wrote (path, inode, size, mtime, SHA-256), for the catalog refresh after a group: it records those files without reading their bytes again.
import type { CopyProofs } from '../catalog/scan/proven.js';

/** A file a copy wrote and proved: the inode it wrote for `path` held these bytes, with this size and mtime, when its copy ended. */
export interface WrittenFile {
  path: string;
  dev: number;
  ino: number;
  size: number;
  mtimeNs: bigint;
  sha256: string;
}

/**
 * The run's record of the files its copies wrote. The refresh asks by what it walked: a file counts only while the same
 * path holds the same inode with the same size and mtime — the rule by which a scan takes any catalogued file as
 * unedited — and anything else is read as usual.
 */
export class WrittenContent implements CopyProofs {
  private readonly byPath = new Map<string, WrittenFile>();

  add(f: WrittenFile): void {
    this.byPath.set(f.path, f);
  }

  /**
   * The SHA-256 the copy proved for the file now at `path`, or null when it is not that very file, unchanged. Answered
   * once: the refresh that asked records it (a run holds only the files not yet refreshed).
   */
  take(path: string, dev: bigint, ino: bigint, size: number, mtimeNs: bigint): string | null {
    const f = this.byPath.get(path);
    if (!f || BigInt(f.dev) !== dev || BigInt(f.ino) !== ino || f.size !== size || f.mtimeNs !== mtimeNs) return null;
    this.byPath.delete(path);
    return f.sha256;
  }
}
