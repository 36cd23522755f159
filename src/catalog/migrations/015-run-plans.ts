// Catalog migration 15: the plans of a run's groups (each group with its steps, written once) in their own table, apart from the run_groups and run_steps rows the journal updates as the groups run.
import type { Migration } from './index.js';

/**
 * run_group_plans — the plans of the groups journaled together (a dedupe batch's, or one group's): one row per journal
 * transaction, `records` a JSON object from group id to that group's plan record (the group with its steps, without the
 * values its run_groups row has columns for), inserted with the groups' rows and never updated; `seq` orders a run's
 * rows. The journal updates run_groups and run_steps rows as a group runs (running, undo data, done); with the plans in
 * those rows (~1.4 KB a dedupe group, two to a page) each update rewrote the page of a record written once: a dedupe
 * batch of 2,000 pairs wrote ~1,000 pages of plans twice to the WAL. One row per batch packs the plans into full pages
 * and keeps one index entry per batch. A group journaled so has an empty run_groups.plan_group and empty
 * run_steps.plan_step; rows of earlier versions keep their plans inline and are read as before (src/apply/run-store.ts
 * reads every shape). A migration that rewrites plan records must rewrite both places.
 */
export const m015RunPlans: Migration = {
  version: 15,
  name: 'run-plans',
  up: `
CREATE TABLE run_group_plans (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  records TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) STRICT;
`,
};
