// The reclaim report: bytes reclaimable per filesystem by dedupe (the dedupe planner's groups), by orphan retirement and by cross-filesystem duplicates (pure).
import type { PlanGroup } from './types.js';
import type { OrphanReport } from './orphans.js';
import { compareBytes } from '../domain/payload-hash.js';

export interface FsReclaim {
  fs: string;
  /** Bytes the dedupe planner would free by hardlinking (groups it can act on now). */
  dedupe: number;
  /** Dedupe groups behind that figure, and whether dedupe is switched on for this filesystem in hashall.yaml. */
  dedupeGroups: number;
  dedupeEnabled: boolean;
  /** Bytes orphan retirement would free (inodes wholly inside orphan trees); null when orphans are not proven. */
  orphans: number | null;
  /** Of `orphans`, content with no other known copy. */
  orphansOnlyCopy: number | null;
  /** Bytes of content also present on another filesystem (freed here if the other copy is kept). */
  crossFilesystem: number;
}

export interface ReclaimReport {
  filesystems: FsReclaim[];
  /** Why orphan retirement figures are absent (OrphanReport.blockers). */
  orphanBlockers: string[];
  total: { dedupe: number; orphans: number | null; crossFilesystem: number };
}

export function reclaimReport(input: {
  /** Every filesystem name to report (configured ones). */
  filesystems: string[];
  /** Dedupe groups planned with dedupe switched on for every filesystem (planDedupeGroups). */
  dedupeGroups: readonly Pick<PlanGroup, 'action' | 'from' | 'bytesToFree'>[];
  dedupeEnabled: ReadonlySet<string>;
  orphans: OrphanReport;
  crossFilesystem: ReadonlyMap<string, number>;
}): ReclaimReport {
  const by = new Map<string, FsReclaim>();
  const proven = input.orphans.proven;
  const row = (fs: string): FsReclaim => {
    let r = by.get(fs);
    if (!r) {
      r = { fs, dedupe: 0, dedupeGroups: 0, dedupeEnabled: input.dedupeEnabled.has(fs), orphans: proven ? 0 : null, orphansOnlyCopy: proven ? 0 : null, crossFilesystem: 0 };
      by.set(fs, r);
    }
    return r;
  };
  for (const fs of input.filesystems) row(fs);
  for (const g of input.dedupeGroups) {
    if (g.action !== 'dedupe' || !g.from) continue;
    const r = row(g.from.fs);
    r.dedupe += g.bytesToFree;
    r.dedupeGroups += 1;
  }
  if (proven) {
    for (const t of input.orphans.totals) {
      const r = row(t.fs);
      r.orphans = (r.orphans ?? 0) + t.freedBytes;
      r.orphansOnlyCopy = (r.orphansOnlyCopy ?? 0) + t.uniqueBytes;
    }
  }
  for (const [fs, bytes] of input.crossFilesystem) row(fs).crossFilesystem += bytes;
  const filesystems = [...by.values()].sort((a, b) => compareBytes(a.fs, b.fs));
  return {
    filesystems,
    orphanBlockers: input.orphans.blockers,
    total: {
      dedupe: filesystems.reduce((n, r) => n + r.dedupe, 0),
      orphans: proven ? filesystems.reduce((n, r) => n + (r.orphans ?? 0), 0) : null,
      crossFilesystem: filesystems.reduce((n, r) => n + r.crossFilesystem, 0),
    },
  };
}
