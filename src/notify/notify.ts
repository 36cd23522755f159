// When to notify: an apply's end (recorded on its run), a plan's drift and newly blocked groups, doctor's new problems.
import os from 'node:os';
import type { Db } from '../catalog/db.js';
import type { HashallConfig } from '../config/types.js';
import type { DoctorReport } from '../doctor/checks.js';
import type { Plan } from '../plan/types.js';
import { actionableGroups, blockedNotice, doctorNotice, driftNotice, groupKey, type Notice } from './notice.js';
import { sendNotice, type NotifyOutcome, type SendOptions } from './send.js';
import { lastNotified, recordRunNotifications, rememberNotified, type NotifyKind } from './state.js';

export interface NotifyDeps {
  now: () => number;
  /** Told about every outcome (the CLI prints failures as warnings, and NDJSON `notify` events). */
  report: (o: NotifyOutcome) => void;
  send?: SendOptions;
  /** The run's stop signal (SIGINT/SIGTERM): ends every attempt, retry and wait of a notification at once. */
  stop?: AbortSignal;
}

export function hostName(): string {
  return os.hostname();
}

/** Send `notice`; when it is about a recorded run, the outcomes go on that run's record. Never throws. */
export async function notify(config: HashallConfig, db: Db | null, notice: Notice, deps: NotifyDeps): Promise<NotifyOutcome[]> {
  const targets = config.notify ?? [];
  if (targets.length === 0) return [];
  const outcomes = await sendNotice(targets, notice, { ...deps.send, ...(deps.stop ? { stop: deps.stop } : {}) });
  for (const o of outcomes) deps.report(o);
  if (db && notice.runId && outcomes.length > 0) {
    try {
      recordRunNotifications(db, notice.runId, outcomes, deps.now());
    } catch (err) {
      deps.report({ target: 'run record', event: notice.event, status: 'failed', attempts: 1, error: `could not record the notifications on run ${notice.runId}: ${(err as Error).message}` });
    }
  }
  return outcomes;
}

/**
 * Send what is new for `kind` — keys not in the set notified last time — then remember the current set, unless a target
 * failed (the next run tries again). Without a catalog, everything counts as new.
 */
async function notifyNew(
  config: HashallConfig,
  db: Db | null,
  kind: NotifyKind,
  current: string[],
  build: (fresh: Set<string>) => Notice,
  deps: NotifyDeps,
): Promise<NotifyOutcome[]> {
  const targets = config.notify ?? [];
  if (targets.length === 0) return [];
  let last = new Set<string>();
  try {
    if (db) last = lastNotified(db, kind);
  } catch {
    /* an unreadable catalog: notify everything */
  }
  const fresh = new Set(current.filter((k) => !last.has(k)));
  const outcomes = fresh.size > 0 ? await notify(config, null, build(fresh), deps) : [];
  if (db && outcomes.every((o) => o.status === 'sent')) {
    try {
      rememberNotified(db, kind, current, deps.now());
    } catch {
      /* read-only or damaged catalog: the next run notifies again */
    }
  }
  return outcomes;
}

/** After a plan: drift (changes not notified before; skipped when the caller applies it anyway) and newly blocked groups. */
export async function notifyPlanFindings(
  config: HashallConfig,
  db: Db | null,
  plan: Plan,
  summary: string,
  deps: NotifyDeps & { drift: boolean },
): Promise<NotifyOutcome[]> {
  const ctx = { host: hostName(), at: deps.now() };
  const out: NotifyOutcome[] = [];
  if (deps.drift) {
    const changes = actionableGroups(plan);
    out.push(...(await notifyNew(config, db, 'drift', changes.map(groupKey), () => driftNotice(plan, summary, { ...ctx, autoApply: config.apply?.auto ?? false }), deps)));
  }
  const blocked = plan.groups.filter((g) => g.action === 'blocked');
  out.push(...(await notifyNew(config, db, 'blocked', blocked.map(groupKey), (fresh) => blockedNotice(blocked.filter((g) => fresh.has(groupKey(g))), summary, ctx), deps)));
  return out;
}

/**
 * A failure that came before any run (a client down, a catalog that cannot be opened): told once while the same failure
 * lasts — an unattended loop or timer meets it at every iteration, and a notice per iteration for a daemon down over a
 * weekend buries the first one. The same title and message again is not sent; another failure is, and so is this one
 * again once `failureCleared` said a later iteration or apply got past it (or a target failed to take it last time).
 */
export async function notifyFailureOnce(config: HashallConfig, db: Db | null, notice: Notice, deps: NotifyDeps): Promise<NotifyOutcome[]> {
  return notifyNew(config, db, 'failed', [`${notice.title}\n${notice.message}`], () => notice, deps);
}

/** An iteration or apply got past the point where the last notified failure stopped it: the next failure is new again. */
export function failureCleared(config: HashallConfig, db: Db | null, now: number): void {
  if ((config.notify ?? []).length === 0 || db === null) return;
  try {
    if (lastNotified(db, 'failed').size > 0) rememberNotified(db, 'failed', [], now);
  } catch {
    /* read-only or damaged catalog: the next failure is told as if new */
  }
}

/** After doctor: the problems not notified before (by check id). */
export async function notifyDoctorFindings(config: HashallConfig, db: Db | null, report: DoctorReport, deps: NotifyDeps): Promise<NotifyOutcome[]> {
  const problems = report.checks.filter((c) => c.status === 'problem');
  const ctx = { host: hostName(), at: deps.now() };
  return notifyNew(config, db, 'doctor', problems.map((c) => c.id), (fresh) => doctorNotice(report, problems.filter((c) => fresh.has(c.id)), ctx), deps);
}
