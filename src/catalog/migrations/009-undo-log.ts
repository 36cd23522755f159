// Catalog migration 9: an append-only log of undo entries per apply step, so journaling a many-file step is linear (additive).
import type { Migration } from './index.js';

/**
 * run_step_undo — entries a step appends to one array of its undo data (`key`, e.g. the files a copy created),
 * one row per append (`entries`: JSON array), in `seq` order. A step's undo data is its run_steps.undo JSON with
 * every logged array appended to (src/apply/journal.ts `readUndo`). Each append writes only the new entries, so
 * a step over N files journals O(N) bytes in total instead of rewriting its whole record per file.
 */
export const m009UndoLog: Migration = {
  version: 9,
  name: 'undo-log',
  up: `
CREATE TABLE run_step_undo (
  run_id TEXT NOT NULL,
  group_id TEXT NOT NULL,
  step_index INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  key TEXT NOT NULL,
  entries TEXT NOT NULL,
  PRIMARY KEY (run_id, group_id, step_index, seq)
) STRICT;
`,
};
