// The catalog's memory of notifications: what each run sent or failed to send, and which keys were last notified per kind.
import type { Db } from '../catalog/db.js';
import type { NotifyOutcome } from './send.js';

/** `failed`: a failure before any run (a client down), told once while the same failure lasts. */
export type NotifyKind = 'drift' | 'blocked' | 'doctor' | 'failed';

export interface RunNotification extends NotifyOutcome {
  at: number;
}

/** Append the outcomes of a run's notifications to its record. */
export function recordRunNotifications(db: Db, runId: string, outcomes: readonly NotifyOutcome[], at: number): void {
  if (outcomes.length === 0) return;
  const next = (db.prepare(`SELECT COALESCE(MAX(seq), 0) AS n FROM run_notifications WHERE run_id = ?`).get(runId) as { n: number }).n;
  const ins = db.prepare(`INSERT INTO run_notifications (run_id, seq, target, event, status, attempts, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  db.transaction(() => outcomes.forEach((o, i) => ins.run(runId, next + i + 1, o.target, o.event, o.status, o.attempts, o.error, at)))();
}

export function readRunNotifications(db: Db, runId: string): RunNotification[] {
  const rows = db.prepare(`SELECT target, event, status, attempts, error, at FROM run_notifications WHERE run_id = ? ORDER BY seq`).all(runId) as RunNotification[];
  return rows.map((r) => ({ target: r.target, event: r.event, status: r.status, attempts: r.attempts, error: r.error, at: r.at }));
}

/** The keys notified last time for `kind` (empty when never). */
export function lastNotified(db: Db, kind: NotifyKind): Set<string> {
  const row = db.prepare(`SELECT keys FROM notify_state WHERE kind = ?`).get(kind) as { keys: string } | undefined;
  return new Set(row ? (JSON.parse(row.keys) as string[]) : []);
}

/** Remember the keys that are current for `kind` (a key that goes away and comes back is new again). */
export function rememberNotified(db: Db, kind: NotifyKind, keys: Iterable<string>, at: number): void {
  db.prepare(`INSERT INTO notify_state (kind, keys, updated_at) VALUES (?, ?, ?) ON CONFLICT(kind) DO UPDATE SET keys = excluded.keys, updated_at = excluded.updated_at`).run(
    kind,
    JSON.stringify([...new Set(keys)].sort()),
    at,
  );
}
