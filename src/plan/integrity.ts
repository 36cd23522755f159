// Blocks every group that would copy, link, dedupe or retire with a file whose bytes are known to be bad (pure).
// Never copy bad bytes, never make a bad file the dedupe keeper, never retire a good copy in favour of a bad one.
import { isAtOrUnder } from '../domain/path-string.js';
import type { IntegritySnapshotProblem } from '../domain/snapshot.js';
import type { PlanGroup, PlanStep } from './types.js';

type Group = Omit<PlanGroup, 'id'>;

/** Every path a step reads from or writes to, and the roots it removes or keeps (with everything under them). */
function touched(step: PlanStep): { files: string[]; trees: string[] } {
  switch (step.kind) {
    case 'copy':
      return { files: (step.files ?? []).map((f) => (f.relpath === '' ? step.fromRoot : `${step.fromRoot}/${f.relpath}`)), trees: [step.fromRoot] };
    case 'link-view':
      return { files: step.links.flatMap((l) => [l.donor, l.path]), trees: [] };
    case 'dedupe-link':
      return { files: [step.keeper.path, step.duplicate.path], trees: [] };
    case 'retire':
      return { files: [], trees: [step.root, step.keptRoot] };
    case 'repoint':
      return { files: [], trees: [step.hostTo] };
    case 'repair':
      // Its damaged paths are what it fixes; the copy it restores from must be good.
      return { files: [step.source.path], trees: [] };
    case 'recheck':
      // Its damaged files are what the client re-downloads; it reads and copies nothing.
      return { files: [], trees: [] };
    case 'retire-orphan':
      return { files: [], trees: [step.path] };
  }
}

function describe(p: IntegritySnapshotProblem): string {
  return p.kind === 'corrupted'
    ? `${p.path} is corrupted (same size and mtime as recorded, different bytes)`
    : `${p.path} could not be read the last time it was verified`;
}

/**
 * Groups whose steps or fingerprint involve a file with an open integrity problem become `blocked`, with the problem
 * as the headline reason and what to do. Others pass through unchanged.
 */
export function blockOnIntegrity(groups: Group[], problems: readonly IntegritySnapshotProblem[]): Group[] {
  if (problems.length === 0) return groups;
  const bad = new Map(problems.map((p) => [p.path, p]));
  return groups.map((g) => {
    if (g.steps.length === 0) return g;
    const hit = new Set<IntegritySnapshotProblem>();
    for (const f of g.fingerprint.files) {
      const p = bad.get(f.path);
      if (p) hit.add(p);
    }
    // Files fingerprinted by reference (every file of a payload, CatalogPayloadRef): the paths under its root.
    const refs = g.fingerprint.payloads ?? [];
    if (refs.length > 0) for (const p of problems) if (refs.some((r) => isAtOrUnder(p.path, r.root))) hit.add(p);
    for (const s of g.steps) {
      const t = touched(s);
      for (const f of t.files) {
        const p = bad.get(f);
        if (p) hit.add(p);
      }
      if (t.trees.length > 0) for (const p of problems) if (t.trees.some((root) => isAtOrUnder(p.path, root))) hit.add(p);
    }
    if (hit.size === 0) return g;
    const listed = [...hit].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return {
      ...g,
      action: 'blocked',
      reasons: [
        `would ${g.action} with a damaged file: ${describe(listed[0]!)}${listed.length > 1 ? ` (and ${listed.length - 1} more)` : ''}`,
        '`hashall verify --repair PATH` restores it from a good copy, or has the torrent holding it re-downloaded from the swarm; then plan again',
        ...g.reasons,
      ],
      bytesToCopy: 0,
      bytesToFree: 0,
      steps: [],
    };
  });
}
