// Catalog migration 11: notifications — what each run sent (and what failed), and what was last notified (additive).
import type { Migration } from './index.js';

/**
 * run_notifications — one row per notification target an apply run told (or failed to tell): the target's name (never
 * its URL), the event, ok or failed, attempts, the error with secrets removed.
 * notify_state — per event kind, the keys last notified (drift, blocked groups, doctor problems), so only what is new
 * is sent again. Owned by src/notify/state.ts.
 */
export const m011Notify: Migration = {
  version: 11,
  name: 'notify',
  up: `
CREATE TABLE run_notifications (
  run_id TEXT NOT NULL REFERENCES runs(id),
  seq INTEGER NOT NULL,
  target TEXT NOT NULL,
  event TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('sent', 'failed')),
  attempts INTEGER NOT NULL,
  error TEXT,
  at INTEGER NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE notify_state (
  kind TEXT PRIMARY KEY,
  keys TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
`,
};
