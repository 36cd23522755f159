// Catalog migration 3: apply runs, their per-group outcomes and per-step journal, the global lock, and relocations (owned by apply).
import type { Migration } from './index.js';

export const m003Runs: Migration = {
  version: 3,
  name: 'runs',
  up: `
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  user TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  pid_start TEXT,
  command TEXT NOT NULL,
  plan_file TEXT,
  plan_hash TEXT,
  config_hash TEXT,
  catalog_serial INTEGER,
  status TEXT NOT NULL,
  bytes_copied INTEGER NOT NULL DEFAULT 0,
  bytes_freed INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  attention TEXT NOT NULL DEFAULT '[]',
  notes TEXT NOT NULL DEFAULT '[]',
  recovered_by TEXT
) STRICT;
CREATE TABLE run_groups (
  run_id TEXT NOT NULL REFERENCES runs(id),
  group_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  group_key TEXT NOT NULL,
  action TEXT NOT NULL,
  title TEXT NOT NULL,
  payload_hash TEXT,
  plan_group TEXT NOT NULL,
  status TEXT NOT NULL,
  reasons TEXT NOT NULL DEFAULT '[]',
  error TEXT,
  bytes_copied INTEGER NOT NULL DEFAULT 0,
  bytes_freed INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER,
  ended_at INTEGER,
  PRIMARY KEY (run_id, group_id)
) STRICT;
CREATE TABLE run_steps (
  run_id TEXT NOT NULL,
  group_id TEXT NOT NULL,
  step_index INTEGER NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  plan_step TEXT NOT NULL,
  undo TEXT NOT NULL DEFAULT '{}',
  result TEXT,
  error TEXT,
  started_at INTEGER,
  ended_at INTEGER,
  undone_at INTEGER,
  PRIMARY KEY (run_id, group_id, step_index),
  FOREIGN KEY (run_id, group_id) REFERENCES run_groups(run_id, group_id)
) STRICT;
CREATE TABLE apply_lock (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  run_id TEXT NOT NULL,
  pid INTEGER NOT NULL,
  pid_start TEXT,
  host TEXT NOT NULL,
  command TEXT NOT NULL,
  started_at INTEGER NOT NULL
) STRICT;
CREATE TABLE relocations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  payload_hash TEXT NOT NULL,
  source_fs TEXT NOT NULL,
  source_root TEXT NOT NULL,
  target_fs TEXT NOT NULL,
  target_root TEXT NOT NULL,
  torrent_hashes TEXT NOT NULL,
  run_id TEXT,
  repointed_at INTEGER NOT NULL,
  retired_at INTEGER
) STRICT;
CREATE INDEX relocations_payload ON relocations(payload_hash);
`,
};
