// The one rule for a link across inodes that a move makes: the linked-in inode shows the owner, group and mode of the file it stands in for, known and equal (pure).
//
// A view on the target links a torrent's file from a donor: its own source's copy, a sibling's copy (siblings on other
// inodes), a copy already on the target (reuse, partly present) or another group's planned copy (linked-moves.ts).
// Unless the donor is that file's own inode, the torrent then seeds a file that shows the donor's owner, group and mode
// — its container may no longer read it, or other users may. Dedupe never links such inodes (DupeGroup.inodes[].meta);
// neither does a move: unknown (CatalogFile.meta absent) or different means the file is copied, and apply re-reads
// both before linking (LinkViewLink.metaOf, src/apply/steps/link-view.ts).
import type { CatalogFile, InodeMeta } from '../domain/snapshot.js';

export function sameMeta(a: InodeMeta, b: InodeMeta): boolean {
  return a.uid === b.uid && a.gid === b.gid && (a.mode & 0o7777) === (b.mode & 0o7777);
}

type Inode = Pick<CatalogFile, 'fsId' | 'ino' | 'meta'>;

/** The same inode (the file itself: nothing changes). */
export function sameInode(a: Inode, b: Inode): boolean {
  return a.fsId === b.fsId && a.ino === b.ino;
}

/** Linking `donor` in place of `own` leaves the file's owner, group and mode as they are: the same inode, or both known and equal. */
export function keepsOwnMeta(own: Inode, donor: Inode): boolean {
  if (sameInode(own, donor)) return true;
  return own.meta !== undefined && donor.meta !== undefined && sameMeta(own.meta, donor.meta);
}
