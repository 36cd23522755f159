// Read: what the planner plans from, out of the catalog — the snapshot (the planner says which details it needs),
// the orphans when they are to be retired, and the runs a person or a retry still has to finish.
import type { CatalogDb } from '../catalog/db.js';
import { readSnapshot, type SnapshotReadStats } from '../catalog/snapshot.js';
import type { HashallConfig } from '../config/types.js';
import type { BuildPlanInput } from '../plan/build.js';
import { snapshotPlanner } from '../plan/needs.js';
import { unresolvedRuns } from '../apply/run-store.js';
import { classifyOrphans } from './orphans.js';

/** Payloads re-read from file rows at which `plan` suggests a sync (below it, reading them costs well under a second). */
const SUMMARY_HINT_AT = 1000;

/** Everything `buildPlan` needs besides the config and the clock. */
export type PlanInputs = Pick<BuildPlanInput, 'snapshot' | 'unresolvedRuns' | 'orphans'>;

/** Read the catalog for a plan at `now`; `info` hears the note when the summaries were stale enough to cost time. */
export function readForPlan(catalog: CatalogDb, config: HashallConfig, now: number, info: (line: string) => void): PlanInputs {
  const stats: SnapshotReadStats = { payloads: 0, computed: 0, loaded: 0 };
  const snapshot = readSnapshot(catalog, config, { planner: snapshotPlanner(config, now), stats });
  if (stats.computed >= SUMMARY_HINT_AT) {
    info(
      `note: the catalog changed since the last sync, so ${stats.computed} of ${stats.payloads} payloads were read file by file; ` +
        '`hashall sync` (or a plan with refresh) stores their summaries and makes the next plan fast',
    );
  }
  // Needs-attention and unfinished runs come first in the plan, and block the groups touching their paths.
  const orphans = config.orphans?.action === 'retire' ? classifyOrphans(catalog, config, now) : undefined;
  return { snapshot, unresolvedRuns: unresolvedRuns(catalog.db), ...(orphans ? { orphans } : {}) };
}
