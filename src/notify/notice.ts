// What a notification says, built from an apply result, a plan or a doctor report; and the versioned generic JSON payload (pure).
import type { NotifyEventName } from '../config/types.js';
import type { RunResult } from '../apply/executor.js';
import type { DoctorReport } from '../doctor/checks.js';
import type { LockStreak } from '../apply/lock-streak.js';
import { ACTIONABLE, type Plan, type PlanGroup } from '../plan/types.js';
import { formatBytes, formatDuration } from '../domain/format-bytes.js';
import { printable, printableLines } from '../render/escape.js';

export const NOTIFICATION_SCHEMA_ID = 'https://hashall.dev/schemas/notification.schema.json';
export const NOTIFICATION_VERSION = 1;

export type NoticeSeverity = 'info' | 'success' | 'warning' | 'error';

/** One thing worth telling; every format is rendered from it. Names are exact here; text fields are escaped. */
export interface Notice {
  event: NotifyEventName;
  severity: NoticeSeverity;
  /** One line, e.g. `hashall on nas: apply failed`. */
  title: string;
  /** A few plain-text lines (control characters escaped). */
  message: string;
  host: string;
  at: number;
  runId: string | null;
  apply?: { status: string; groupsDone: number; groupsTotal: number; bytesMoved: number; bytesFreed: number; problems: string[] };
  plan?: { summary: string; changes: { id: string; action: string; title: string }[]; blocked: { id: string; title: string; reasons: string[] }[] };
  doctor?: { problems: { id: string; title: string; detail: string; fix: string | null }[] };
  /** The holder of the apply lock that refused runs in a row (null fields: a process that recorded no run). */
  lock?: { runId: string | null; pid: number | null; host: string | null; command: string | null; since: string | null; refusedRuns: number; refusedSince: string };
}

/** Lines listed in a message before "… and N more" (chat services cut long messages). */
const MAX_LINES = 15;

/** Each line made printable on its own (a name with a newline cannot forge a line), then joined. */
function lines(items: string[]): string {
  return items.map(printable).join('\n');
}

function listed(lines: string[]): string[] {
  return lines.length <= MAX_LINES ? lines : [...lines.slice(0, MAX_LINES), `… and ${lines.length - MAX_LINES} more`];
}

/** The event an apply run's end is: applied, needs attention, or failed (failed, rolled back, partial, interrupted). */
export function applyEvent(status: RunResult['status']): NotifyEventName {
  return status === 'succeeded' ? 'applied' : status === 'needs-attention' ? 'needs-attention' : 'failed';
}

export function applyNotice(result: RunResult, ctx: { host: string; at: number }): Notice {
  const event = applyEvent(result.status);
  const done = result.groups.filter((g) => g.status === 'done').length;
  const problems = [
    ...result.groups.filter((g) => g.status !== 'done').map((g) => `${g.id} ${g.title}: ${g.status}${g.error ? ` — ${g.error}` : ''}`),
    ...result.guardProblems.map((p) => `guard: ${p}`),
    ...result.attention.map((a) => `needs attention: ${a}`),
  ];
  const head = `${done}/${result.groups.length} group(s) done, ${formatBytes(result.bytesCopied)} moved, ${formatBytes(result.bytesFreed)} freed (run ${result.runId}).`;
  return {
    event,
    severity: event === 'applied' ? 'success' : 'error',
    title: `hashall on ${ctx.host}: apply ${result.status}`,
    message: lines([head, ...listed(problems)]),
    host: ctx.host,
    at: ctx.at,
    runId: result.runId,
    apply: { status: result.status, groupsDone: done, groupsTotal: result.groups.length, bytesMoved: result.bytesCopied, bytesFreed: result.bytesFreed, problems },
  };
}

/** An apply (or a reconcile iteration) that found nothing to do. */
export function nothingToDoNotice(summary: string, ctx: { host: string; at: number }): Notice {
  return { event: 'nothing-to-do', severity: 'info', title: `hashall on ${ctx.host}: nothing to do`, message: summary, host: ctx.host, at: ctx.at, runId: null };
}

/** An apply or reconcile that failed before or outside a run (config, lock, client down, recovery needing a person). */
export function failureNotice(what: string, error: string, ctx: { host: string; at: number; runId?: string | null }): Notice {
  return {
    event: 'failed',
    severity: 'error',
    title: `hashall on ${ctx.host}: ${what} failed`,
    // Its own line breaks kept (a stale plan lists its reasons one a line), each line made printable on its own.
    message: printableLines(error),
    host: ctx.host,
    at: ctx.at,
    runId: ctx.runId ?? null,
  };
}

/**
 * The apply lock held by one run while `streak.count` runs in a row were refused (`failed`): who holds it (`holder`, as
 * the lock's messages describe it), since when, and what to do (`advice`). The loop, `reconcile --once` and `apply`
 * send this one notice.
 */
export function lockHeldNotice(what: string, streak: LockStreak, text: { holder: string; advice: string }, ctx: { host: string; at: number }): Notice {
  const h = streak.holder;
  const age = h.startedAt === null ? '' : ` — held for ${formatDuration(ctx.at - h.startedAt)}`;
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    event: 'failed',
    severity: 'error',
    title: `hashall on ${ctx.host}: ${what} failed`,
    message: lines([
      `The apply lock is held by ${text.holder}${age}: ${streak.count} runs in a row were refused since ${iso(streak.firstAt)}, so nothing was reconciled.`,
      `Look with \`hashall doctor\`. ${text.advice}`,
      'Told once for this holder: again only after a run took the lock, or when another run holds it this long.',
    ]),
    host: ctx.host,
    at: ctx.at,
    runId: null,
    lock: { runId: h.runId, pid: h.pid, host: h.host, command: h.command, since: h.startedAt === null ? null : iso(h.startedAt), refusedRuns: streak.count, refusedSince: iso(streak.firstAt) },
  };
}

/** Stable key of a group across plans (its content and torrents), so "new" means new. */
export function groupKey(g: PlanGroup): string {
  return `${g.action}:${g.key}`;
}

export function actionableGroups(plan: Plan): PlanGroup[] {
  return plan.groups.filter((g) => ACTIONABLE.includes(g.action));
}

export function driftNotice(plan: Plan, summary: string, ctx: { host: string; at: number; autoApply: boolean }): Notice {
  const changes = actionableGroups(plan).map((g) => ({ id: g.id, action: g.action, title: g.title }));
  const rows = changes.map((c) => `${c.action} ${c.title}`);
  return {
    event: 'drift',
    severity: 'warning',
    title: `hashall on ${ctx.host}: ${changes.length} change(s) pending`,
    message: lines([summary, ...listed(rows), ctx.autoApply ? '' : 'Review with `hashall plan`, then `hashall apply`.'].filter(Boolean)),
    host: ctx.host,
    at: ctx.at,
    runId: null,
    plan: { summary, changes, blocked: [] },
  };
}

export function blockedNotice(fresh: PlanGroup[], summary: string, ctx: { host: string; at: number }): Notice {
  const blocked = fresh.map((g) => ({ id: g.id, title: g.title, reasons: g.reasons }));
  const rows = blocked.map((b) => `${b.title}: ${b.reasons[0] ?? 'blocked'}`);
  return {
    event: 'blocked',
    severity: 'warning',
    title: `hashall on ${ctx.host}: ${blocked.length} newly blocked group(s)`,
    message: lines([...listed(rows), 'Details: `hashall plan`.']),
    host: ctx.host,
    at: ctx.at,
    runId: null,
    plan: { summary, changes: [], blocked },
  };
}

export function doctorNotice(report: DoctorReport, fresh: DoctorReport['checks'], ctx: { host: string; at: number }): Notice {
  const problems = fresh.map((c) => ({ id: c.id, title: c.title, detail: c.detail, fix: c.fix ?? null }));
  const rows = problems.map((p) => `${p.title}: ${p.detail}${p.fix ? ` — fix: ${p.fix}` : ''}`);
  return {
    event: 'doctor',
    severity: 'error',
    title: `hashall on ${ctx.host}: doctor found ${problems.length} new problem(s)`,
    message: lines([...listed(rows), `Config: ${report.configPath}. Details: \`hashall doctor\`.`]),
    host: ctx.host,
    at: ctx.at,
    runId: null,
    doctor: { problems },
  };
}

/** The generic JSON payload (schemas/notification.schema.json, version 1). */
export function genericPayload(n: Notice): Record<string, unknown> {
  return {
    $schema: NOTIFICATION_SCHEMA_ID,
    version: NOTIFICATION_VERSION,
    event: n.event,
    severity: n.severity,
    title: n.title,
    message: n.message,
    host: n.host,
    time: new Date(n.at).toISOString(),
    runId: n.runId,
    ...(n.apply ? { apply: n.apply } : {}),
    ...(n.plan ? { plan: n.plan } : {}),
    ...(n.doctor ? { doctor: n.doctor } : {}),
    ...(n.lock ? { lock: n.lock } : {}),
  };
}
