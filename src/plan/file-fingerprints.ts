// File fingerprints of a group: several file lists merged into one, once per path, in path byte order (pure).
import type { FileFingerprint } from './types.js';
import { compareBytes } from '../domain/payload-hash.js';

/**
 * Fingerprints of every file of the lists, once each, in path byte order (one payload's list already is: sorted by
 * relpath under one root); `merge` (default: more than one list) drops repeated paths and sorts. Used by the planner and by expandPlan (src/apply/plan-expand.ts), which must give the same.
 */
export function fileFingerprints(lists: readonly (readonly FileFingerprint[])[], merge = lists.length > 1): FileFingerprint[] {
  const out: FileFingerprint[] = [];
  const seen = merge ? new Set<string>() : null;
  for (const files of lists) {
    for (const f of files) {
      if (seen) {
        if (seen.has(f.path)) continue;
        seen.add(f.path);
      }
      out.push({ path: f.path, ino: f.ino, size: f.size, mtimeNs: f.mtimeNs, nlink: f.nlink });
    }
  }
  return merge ? out.sort((a, b) => compareBytes(a.path, b.path)) : out;
}
