// `hashall reclaim` view: bytes reclaimable per filesystem by dedupe, orphan retirement and cross-filesystem duplicates (pure).
import type { ReclaimReport } from '../plan/reclaim.js';
import { printable } from './escape.js';
import { formatBytes } from './format-bytes.js';

export function reclaimText(r: ReclaimReport): string {
  const out: string[] = [];
  for (const f of r.filesystems) {
    const dd = `dedupe ${formatBytes(f.dedupe)} (${f.dedupeGroups} group(s)${f.dedupeEnabled ? '' : '; dedupe is off for it in hashall.yaml'})`;
    const orphans = f.orphans === null ? 'orphans: not proven (see below)' : `orphans ${formatBytes(f.orphans)} (${formatBytes(f.orphansOnlyCopy ?? 0)} of it the only copy)`;
    out.push(`${printable(f.fs)}: ${dd}; ${orphans}; also on another filesystem ${formatBytes(f.crossFilesystem)}`);
  }
  const o = r.total.orphans === null ? 'orphans not proven' : `orphans ${formatBytes(r.total.orphans)}`;
  out.push(`total: dedupe ${formatBytes(r.total.dedupe)}, ${o}, cross-filesystem ${formatBytes(r.total.crossFilesystem)} (counted on every filesystem holding the content: keep one copy to free the others)`);
  if (r.orphanBlockers.length > 0) {
    out.push('orphans are not proven because:');
    for (const b of r.orphanBlockers) out.push(`  - ${printable(b)}`);
  }
  return out.join('\n') + '\n';
}
