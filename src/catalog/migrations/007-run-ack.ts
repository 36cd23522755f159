// Catalog migration 7: who acknowledged a needs-attention run, and when (`hashall runs ack RUN_ID`) (additive).
import type { Migration } from './index.js';

/**
 * runs.acked_at / runs.acked_by — set when a person says a needs-attention run was dealt with by hand; such a run no
 * longer blocks the groups touching its paths in `plan`. NULL until then.
 */
export const m007RunAck: Migration = {
  version: 7,
  name: 'run-ack',
  up: `
ALTER TABLE runs ADD COLUMN acked_at INTEGER;
ALTER TABLE runs ADD COLUMN acked_by TEXT;
`,
};
