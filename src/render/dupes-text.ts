// The dupes view as text: duplicate files per filesystem (and across, with --cross), or duplicate trees and donors (pure).
import type { CrossDupeGroup, LocalDupeGroup } from '../catalog/reports.js';
import type { TreeIndex } from '../catalog/tree-dupes.js';
import type { DonorReport } from '../reconcile/tree-donors.js';
import { torrentLabel } from '../domain/instance.js';
import { formatBytes } from './format-bytes.js';
import { printable } from './escape.js';

/** `dupes`: each group with its inodes' paths, then the totals. */
export function renderDupes(local: readonly LocalDupeGroup[], cross: readonly CrossDupeGroup[] | null, reclaimable: number, unhashedFiles = 0): string {
  const out: string[] = [];
  for (const g of local) {
    out.push(`${printable(g.fsName ?? `fs#${g.fsId}`)} ${formatBytes(g.size)} × ${g.inodes.length} inodes, reclaimable ${formatBytes(g.reclaimableBytes)} sha256:${g.sha256.slice(0, 16)}`);
    for (const i of g.inodes) for (const p of i.paths) out.push(`  ${printable(p)} (inode ${i.ino})`);
  }
  out.push(`${local.length} duplicate group(s), ${formatBytes(reclaimable)} reclaimable by hardlinking`);
  if (unhashedFiles > 0) out.push(`${unhashedFiles} catalogued file(s) not hashed yet (no other file had their size when scanned): not compared — \`hashall scan --hash-all\` or \`hashall verify\` hashes them`);
  if (cross) {
    for (const g of cross) {
      out.push(`cross ${formatBytes(g.size)} sha256:${g.sha256.slice(0, 16)}`);
      for (const c of g.copies) for (const p of c.paths) out.push(`  ${printable(c.fsName ?? `fs#${c.fsId}`)}: ${printable(p)}`);
    }
    out.push(`${cross.length} content group(s) on several filesystems`);
  }
  return out.join('\n') + '\n';
}

/** `dupes --trees`: duplicate trees, then donors (or why none is proven). */
export function renderTreeDupes(index: TreeIndex, donors: DonorReport, reclaimable: number): string {
  const out: string[] = [];
  for (const g of index.groups) {
    out.push(`tree ${formatBytes(g.bytes)} in ${g.files} file(s) × ${g.copies.length} on ${g.filesystems.map(printable).join(', ')}, reclaimable ${formatBytes(g.reclaimableBytes)} tree:${g.treeHash.slice(0, 16)}`);
    for (const c of g.copies) out.push(`  ${printable(c.fsName ?? `fs#${c.fsId}`)}: ${printable(c.path)}${c.sameInodesAs ? ` (the same inodes as ${printable(c.sameInodesAs)})` : ''}`);
  }
  out.push(`${index.groups.length} duplicate tree group(s), ${formatBytes(reclaimable)} reclaimable within filesystems${index.unhashedDirs ? `; ${index.unhashedDirs} folder(s) not compared (files not hashed yet: \`hashall scan --hash-all\`)` : ''}`);
  if (!donors.proven) {
    out.push(`donors: none reported — no orphan is proven while: ${donors.blockers.map(printable).join('; ')}`);
    return out.join('\n') + '\n';
  }
  for (const d of donors.donors) {
    out.push(`donor ${printable(d.fs)}: ${printable(d.path)} (${formatBytes(d.bytes)}, ${d.files} file(s), no torrent uses it) holds the payload of`);
    for (const t of d.torrents) out.push(`  ${printable(t.name)} (${printable(torrentLabel(t))}) at ${printable(t.contentPath ?? '?')}${t.fs ? ` on ${printable(t.fs)}` : ''}`);
  }
  out.push(`${donors.donors.length} donor(s): orphan trees whose content is a torrent's payload elsewhere`);
  return out.join('\n') + '\n';
}
