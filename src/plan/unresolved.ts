// Groups touching the paths or torrents of an unresolved apply run are blocked until it is resolved (pure).
//
// Must never: plan a change over a half-finished or needs-attention run's paths — after a failure the next plan would
// otherwise reuse its leftovers toward the same target, and a cron job would repeat the failure every night.
import { torrentKey } from '../domain/instance.js';
import type { SnapshotTorrent } from '../domain/snapshot.js';
import type { UnresolvedRun } from '../domain/unresolved-run.js';
import { isAtOrUnder } from '../domain/path-string.js';
import { ACTIONABLE, type PlanGroup } from './types.js';

/** Every host path a plan group touches: its places and each step's roots and paths. */
export function groupPaths(g: Pick<PlanGroup, 'from' | 'to' | 'steps'>): string[] {
  const out = new Set<string>();
  if (g.from) out.add(g.from.path);
  if (g.to) out.add(g.to.path);
  for (const s of g.steps) {
    if (s.kind === 'copy') out.add(s.fromRoot).add(s.toRoot);
    else if (s.kind === 'link-view') out.add(s.root);
    else if (s.kind === 'repoint') out.add(s.hostFrom).add(s.hostTo);
    else if (s.kind === 'dedupe-link') out.add(s.keeper.path).add(s.duplicate.path);
    else if (s.kind === 'repair') for (const p of [...s.paths, s.source.path]) out.add(p);
    else if (s.kind === 'retire-orphan') out.add(s.path);
    else if (s.kind === 'recheck') for (const d of s.damaged) out.add(d.path);
    else out.add(s.root).add(s.keptRoot);
  }
  return [...out].sort();
}

/** How to resolve a run, in words (plan text, block reasons). */
export function resolveHint(r: Pick<UnresolvedRun, 'runId' | 'status'>): string {
  if (r.status === 'needs-attention') {
    return `\`hashall recover\` retries its rollback (and resumes what it paused); or do by hand what \`hashall runs show ${r.runId}\` says, then \`hashall runs ack ${r.runId}\``;
  }
  return `once the apply that ran it is gone, \`hashall recover\` (or the next apply) rolls it back or finishes it`;
}

function overlap(a: string, b: string): boolean {
  return isAtOrUnder(a, b) || isAtOrUnder(b, a);
}

/** Why `g` may not run while `runs` are unresolved, or null. */
function blockedBy(g: Omit<PlanGroup, 'id'>, runs: readonly UnresolvedRun[]): string | null {
  const paths = groupPaths(g);
  for (const r of runs) {
    const what = r.status === 'needs-attention' ? 'needs attention' : 'is unfinished';
    const torrent = g.torrents.find((t) => r.pausedTorrents.some((p) => torrentKey(p) === torrentKey(t)));
    if (torrent) return `apply run ${r.runId} ${what} and left torrent "${torrent.name}" paused: resolve it first — ${resolveHint(r)}`;
    for (const p of paths) {
      const hit = r.paths.find((q) => overlap(p, q));
      if (hit !== undefined) return `apply run ${r.runId} ${what} and touches ${hit}: resolve it first — ${resolveHint(r)}`;
    }
  }
  return null;
}

/**
 * Actionable groups that touch an unresolved run's paths or paused torrents become blocked (no steps), saying why;
 * a group blocked already gets that reason first (it is what to resolve first).
 */
export function blockUnresolved<G extends Omit<PlanGroup, 'id'>>(groups: G[], runs: readonly UnresolvedRun[]): G[] {
  if (runs.length === 0) return groups;
  return groups.map((g) => {
    if (!ACTIONABLE.includes(g.action) && g.action !== 'blocked') return g;
    const why = blockedBy(g, runs);
    return why === null ? g : { ...g, action: 'blocked', steps: [], bytesToCopy: 0, bytesToFree: 0, reasons: [why, ...g.reasons] };
  });
}

/** The runs as the plan shows them: paused torrents only while the client still reports them paused (or lost). */
export function runsForPlan(runs: readonly UnresolvedRun[], torrents: readonly SnapshotTorrent[]): UnresolvedRun[] {
  if (runs.length === 0) return []; // no index of every torrent to build (10k torrents: ~10 ms of every plan)
  const byKey = new Map(torrents.map((t) => [torrentKey(t), t]));
  return runs.map((r) => ({
    ...r,
    pausedTorrents: r.pausedTorrents.filter((p) => {
      const t = byKey.get(torrentKey(p));
      return t === undefined || t.phase === 'paused-complete' || t.phase === 'paused-incomplete';
    }),
  }));
}
