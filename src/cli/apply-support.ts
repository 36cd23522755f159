// Shared wiring for apply/recover commands: the event sink (NDJSON or human) and apply's summary.
import type { CliContext } from './context.js';
import type { HashallConfig } from '../config/types.js';
import type { ApplyEvent, Emit } from '../apply/events.js';
import { formatEvent, inFlightLine } from '../render/apply-text.js';
import type { RunResult } from '../apply/executor.js';
import type { Plan } from '../plan/types.js';
import { formatBytes } from '../render/format-bytes.js';
import { printable } from '../render/escape.js';
import { ConfigError, ExitCode, HashallError, type ConfigProblem } from '../errors.js';

/** Lines of the CLI itself in the NDJSON stream (beside the apply events): what was planned, notes, warnings, errors. */
export type CliEvent =
  | { type: 'info'; message: string }
  | { type: 'warning'; message: string }
  | { type: 'plan'; summary: string; groups: number }
  | { type: 'no-changes'; summary: string }
  | { type: 'reconcile'; phase: 'start' | 'done' | 'sleep'; iteration: number; outcome?: string; sleepMs?: number }
  | { type: 'notify'; target: string; event: string; status: 'sent' | 'failed'; attempts: number; error: string | null }
  | { type: 'error'; message: string; hint?: string; exitCode: number; problems?: ConfigProblem[] };

export interface EventSink {
  emit: Emit;
  /** Something worth knowing that is neither a warning nor an error (refresh counts, notes): stderr, or NDJSON with --json. */
  info(line: string): void;
  /** A warning: stderr always (cron mails it), and an NDJSON event with --json. */
  warn(line: string): void;
  /** With --json, the error as an NDJSON event (the top-level catch still prints it on stderr). */
  error(err: unknown): void;
  /** With --json, a CLI event on stdout; nothing otherwise. */
  json(e: CliEvent): void;
  /** Clear a progress line left on the terminal. */
  end(): void;
}

/** Bytes per second of each group's copy so far (measured from its first progress event). */
function copyRates(now: () => number): (e: Extract<ApplyEvent, { type: 'copy-progress' }>) => { bytesPerSec: number } | null {
  const start = new Map<string, { t: number; bytes: number }>();
  return (e) => {
    const t = now();
    const s = start.get(e.groupId);
    if (!s) {
      start.set(e.groupId, { t, bytes: e.groupBytes });
      return null;
    }
    const dt = t - s.t;
    return dt >= 1000 ? { bytesPerSec: ((e.groupBytes - s.bytes) / dt) * 1000 } : null;
  };
}

/**
 * NDJSON events on stdout with --json (stderr then carries only warnings and errors); otherwise human lines on
 * stderr, and on a terminal a progress line for copies (speed, ETA) and for rechecks.
 */
export function eventSink(ctx: CliContext, json: boolean): EventSink {
  let barShown = false;
  let lastBar = 0;
  const lastRecheck = new Map<string, number>();
  // What is in flight, by group (several groups overlap: one copies while others wait for the client to recheck).
  const copying = new Map<string, { e: Extract<ApplyEvent, { type: 'copy-progress' }>; rate: { bytesPerSec: number } | null }>();
  const rechecking = new Map<string, Extract<ApplyEvent, { type: 'recheck-progress' }>>();
  // Step lines carry their group's id when they follow another group's line (only when groups overlap).
  let lastGroup: string | null = null;
  const rateOf = copyRates(ctx.now);
  const clearBar = () => {
    if (barShown) ctx.stderr.write('\r\x1b[K');
    barShown = false;
  };
  const writeJson = (e: ApplyEvent | CliEvent) => void ctx.stdout.write(JSON.stringify(e) + '\n');
  const emit = (e: ApplyEvent) => {
    if (json) {
      if (e.type === 'copy-progress') {
        const t = ctx.now();
        if (t - lastBar < 500 && e.bytes < e.totalBytes) return;
        lastBar = t;
      }
      if (e.type === 'recheck-progress') {
        // The first poll, then one line every 5 s per torrent: a recheck of a large payload on a hard disk takes minutes.
        const t = ctx.now();
        const last = lastRecheck.get(e.torrentHash);
        if (last !== undefined && t - last < 5000 && e.progress < 1) return;
        lastRecheck.set(e.torrentHash, t);
      }
      writeJson(e);
      return;
    }
    if (e.type === 'copy-progress' || e.type === 'recheck-progress') {
      const rate = e.type === 'copy-progress' ? rateOf(e) : null;
      if (!ctx.interactive) return;
      // A group does one step at a time: its copy is over once it rechecks, and the other way round.
      if (e.type === 'copy-progress') {
        copying.set(e.groupId, { e, rate });
        rechecking.delete(e.groupId);
      } else {
        rechecking.set(e.groupId, e);
        copying.delete(e.groupId);
      }
      const t = ctx.now();
      if (t - lastBar < 100 && (e.type === 'recheck-progress' || e.groupBytes < e.groupTotal)) return;
      lastBar = t;
      const copy = e.type === 'copy-progress' ? copying.get(e.groupId)! : ([...copying.values()].at(-1) ?? null);
      ctx.stderr.write(`\r\x1b[K${inFlightLine(copy, [...rechecking.values()])}`);
      barShown = true;
      return;
    }
    if ('groupId' in e && e.groupId !== null && (e.type === 'step-done' || e.type === 'step-failed' || e.type === 'group-done')) {
      copying.delete(e.groupId);
      rechecking.delete(e.groupId);
    }
    clearBar();
    let line = formatEvent(e);
    if (line !== null && 'groupId' in e && e.groupId !== null) {
      const tag = e.type === 'step-start' || e.type === 'step-done' || e.type === 'step-failed' || e.type === 'undo';
      if (tag && lastGroup !== e.groupId) line = line.replace(/^(\s*)/, `$1[${printable(e.groupId)}] `);
      lastGroup = e.groupId;
    }
    if (line !== null) ctx.stderr.write(line + '\n');
  };
  return {
    emit,
    info(line) {
      if (json) writeJson({ type: 'info', message: line });
      else {
        clearBar();
        ctx.stderr.write(`${printable(line)}\n`);
      }
    },
    warn(line) {
      clearBar();
      ctx.stderr.write(`hashall: ${printable(line)}\n`);
      if (json) writeJson({ type: 'warning', message: line });
    },
    error(err) {
      if (!json) return;
      const e = err as Partial<HashallError> & Partial<ConfigError>;
      writeJson({
        type: 'error',
        message: e?.message ?? String(err),
        ...(e?.hint ? { hint: e.hint } : {}),
        exitCode: err instanceof HashallError ? err.exitCode : ExitCode.Error,
        ...(err instanceof ConfigError ? { problems: err.problems } : {}),
      });
    },
    json(e) {
      if (json) writeJson(e);
    },
    end: clearBar,
  };
}

/** What a finished apply leaves for later: the sources of moved groups retire after the observation window (when, how much). */
export interface RetireContext {
  plan: Plan;
  retire: HashallConfig['safety']['retire'];
  now: number;
}

/** One line on the sources a move or reuse kept, or null when no such group was done. */
export function retireLine(result: RunResult, ctx: RetireContext): string | null {
  const done = new Set(result.groups.filter((g) => g.status === 'done' && (g.action === 'move' || g.action === 'reuse')).map((g) => g.id));
  const groups = ctx.plan.groups.filter((g) => done.has(g.id) && g.from);
  if (groups.length === 0) return null;
  const byFs = new Map<string, number>();
  for (const g of groups) {
    // The payload's size: at most what retiring its source frees (files also linked elsewhere stay).
    const bytes = Math.max(0, ...g.steps.map((s) => (s.kind === 'copy' || s.kind === 'repoint' ? s.bytes : 0)));
    byFs.set(g.from!.fs, (byFs.get(g.from!.fs) ?? 0) + bytes);
  }
  const amount = [...byFs].map(([fs, b]) => `${formatBytes(b)} on ${fs}`).join(', ');
  const what = `the sources of ${groups.length} moved group(s) (up to ${amount})`;
  if (ctx.retire.mode === 'never') return `  Nothing is freed: safety.retire.mode is never, so ${what} stay until you remove them.`;
  const after = new Date(ctx.now + ctx.retire.observeHours * 3_600_000).toISOString().replace(/:\d\d\.\d+Z$/, 'Z');
  return (
    `  Nothing is freed yet: ${what} stay until their torrents have seeded from the new place for ${ctx.retire.observeHours}h; ` +
    `an apply after ${after} retires them (\`hashall plan\` lists them as pending until then).`
  );
}

/** The human summary apply prints on stdout when it ends (also after SIGINT/SIGTERM: what happened and what to run). */
export function applySummary(result: RunResult, signal: string | null, retire?: RetireContext): string {
  const lines: string[] = [];
  const done = result.groups.filter((g) => g.status === 'done').length;
  const head = result.status === 'interrupted' && signal ? `interrupted by ${signal}` : result.status;
  lines.push(`Apply ${head}: ${done}/${result.groups.length} group(s) done, ${formatBytes(result.bytesCopied)} copied, ${formatBytes(result.bytesFreed)} freed (run ${result.runId}).`);
  for (const g of result.groups.filter((x) => x.status !== 'done')) lines.push(`  ${printable(g.id)} ${printable(g.title)}: ${g.status}${g.error ? ` — ${printable(g.error)}` : ''}`);
  for (const p of result.guardProblems) lines.push(`  GUARD: ${printable(p)}`);
  for (const a of result.attention) lines.push(`  NEEDS ATTENTION: ${printable(a)}`);
  const kept = retire ? retireLine(result, retire) : null;
  if (kept) lines.push(kept);
  if (signal && result.status === 'interrupted') {
    lines.push(
      `  Stopped safely on ${signal}: finished groups are kept, the group(s) in progress were rolled back, later groups were not started,`,
      '  and torrents hashall had paused run again. Nothing is left half done. To continue: `hashall apply` (a saved plan is',
      '  refused as stale if the world moved: re-plan with `hashall plan --out FILE`).',
    );
  } else if (signal) {
    lines.push(`  ${signal} arrived when nothing was left to stop: the run ended as recorded above.`);
  }
  if (result.status !== 'succeeded') lines.push(`  details: hashall runs show ${result.runId}`);
  return lines.join('\n') + '\n';
}
