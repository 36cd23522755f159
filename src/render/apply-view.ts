// The apply view (apply, recover, reconcile, verify --repair): apply events and CLI notes as human lines or NDJSON, chosen once (pure: it returns what to write where; the CLI writes).
import type { ApplyEvent } from '../apply/events.js';
import { ConfigError, ExitCode, HashallError, type ConfigProblem } from '../errors.js';
import { formatEvent, inFlightLine } from './apply-text.js';
import { printable } from './escape.js';
import { CLEAR_LINE, type ViewOutput } from './view-output.js';

/** Lines of the CLI itself in the NDJSON stream (beside the apply events): what was planned, notes, warnings, errors. */
export type CliEvent =
  | { type: 'info'; message: string }
  | { type: 'warning'; message: string }
  | { type: 'plan'; summary: string; groups: number }
  | { type: 'no-changes'; summary: string }
  | { type: 'reconcile'; phase: 'start' | 'done' | 'sleep'; iteration: number; outcome?: string; sleepMs?: number }
  | { type: 'notify'; target: string; event: string; status: 'sent' | 'failed'; attempts: number; error: string | null }
  | { type: 'error'; message: string; hint?: string; exitCode: number; problems?: ConfigProblem[] };

/** One implementation per output form (human, JSON) over the same events. */
export interface ApplyView {
  event(e: ApplyEvent): ViewOutput[];
  /** Something worth knowing that is neither a warning nor an error (refresh counts, notes). */
  info(line: string): ViewOutput[];
  /** A warning: stderr always (cron mails it), and an NDJSON event with --json. */
  warn(line: string): ViewOutput[];
  /** With --json, the error as an NDJSON event (the top-level catch still prints it on stderr); nothing otherwise. */
  error(err: unknown): ViewOutput[];
  /** With --json, a CLI event on stdout; nothing otherwise. */
  cli(e: CliEvent): ViewOutput[];
  /** Clear a progress line left on the terminal. */
  end(): ViewOutput[];
}

export interface ApplyViewOptions {
  /** The injected clock (progress throttling, copy rates). */
  now: () => number;
  /** A terminal on stderr: the human view draws a progress line for copies and rechecks. */
  interactive: boolean;
}

/** The view for `--json` (NDJSON on stdout; stderr carries only warnings and errors) or the human one (lines on stderr). */
export function applyView(json: boolean, opts: ApplyViewOptions): ApplyView {
  return json ? jsonApplyView(opts) : humanApplyView(opts);
}

const line = (to: ViewOutput['to'], text: string): ViewOutput => ({ to, text });
const jsonLine = (e: ApplyEvent | CliEvent): ViewOutput => line('stdout', JSON.stringify(e) + '\n');
const warning = (text: string): ViewOutput => line('stderr', `hashall: ${printable(text)}\n`);

/** NDJSON events; copy progress at most every 500 ms, recheck progress every 5 s per torrent. */
export function jsonApplyView(opts: Pick<ApplyViewOptions, 'now'>): ApplyView {
  let lastBar = 0;
  const lastRecheck = new Map<string, number>();
  return {
    event(e) {
      if (e.type === 'copy-progress') {
        const t = opts.now();
        if (t - lastBar < 500 && e.bytes < e.totalBytes) return [];
        lastBar = t;
      }
      if (e.type === 'recheck-progress') {
        // The first poll, then one line every 5 s per torrent: a recheck of a large payload on a hard disk takes minutes.
        const t = opts.now();
        const last = lastRecheck.get(e.torrentHash);
        if (last !== undefined && t - last < 5000 && e.progress < 1) return [];
        lastRecheck.set(e.torrentHash, t);
      }
      return [jsonLine(e)];
    },
    info: (message) => [jsonLine({ type: 'info', message })],
    warn: (message) => [warning(message), jsonLine({ type: 'warning', message })],
    error(err) {
      const e = err as Partial<HashallError> & Partial<ConfigError>;
      return [
        jsonLine({
          type: 'error',
          message: e?.message ?? String(err),
          ...(e?.hint ? { hint: e.hint } : {}),
          exitCode: err instanceof HashallError ? err.exitCode : ExitCode.Error,
          ...(err instanceof ConfigError ? { problems: err.problems } : {}),
        }),
      ];
    },
    cli: (e) => [jsonLine(e)],
    end: () => [],
  };
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

/** Human lines on stderr; on a terminal a progress line for copies (speed, ETA) and for rechecks. */
export function humanApplyView(opts: ApplyViewOptions): ApplyView {
  let barShown = false;
  let lastBar = 0;
  // What is in flight, by group (several groups overlap: one copies while others wait for the client to recheck).
  const copying = new Map<string, { e: Extract<ApplyEvent, { type: 'copy-progress' }>; rate: { bytesPerSec: number } | null }>();
  const rechecking = new Map<string, Extract<ApplyEvent, { type: 'recheck-progress' }>>();
  // Step lines carry their group's id when they follow another group's line (only when groups overlap).
  let lastGroup: string | null = null;
  const rateOf = copyRates(opts.now);
  const clearBar = (): ViewOutput[] => {
    const out = barShown ? [line('stderr', CLEAR_LINE)] : [];
    barShown = false;
    return out;
  };
  return {
    event(e) {
      if (e.type === 'copy-progress' || e.type === 'recheck-progress') {
        const rate = e.type === 'copy-progress' ? rateOf(e) : null;
        if (!opts.interactive) return [];
        // A group does one step at a time: its copy is over once it rechecks, and the other way round.
        if (e.type === 'copy-progress') {
          copying.set(e.groupId, { e, rate });
          rechecking.delete(e.groupId);
        } else {
          rechecking.set(e.groupId, e);
          copying.delete(e.groupId);
        }
        const t = opts.now();
        if (t - lastBar < 100 && (e.type === 'recheck-progress' || e.groupBytes < e.groupTotal)) return [];
        lastBar = t;
        const copy = e.type === 'copy-progress' ? copying.get(e.groupId)! : ([...copying.values()].at(-1) ?? null);
        barShown = true;
        return [line('stderr', `${CLEAR_LINE}${inFlightLine(copy, [...rechecking.values()])}`)];
      }
      if ('groupId' in e && e.groupId !== null && (e.type === 'step-done' || e.type === 'step-failed' || e.type === 'group-done')) {
        copying.delete(e.groupId);
        rechecking.delete(e.groupId);
      }
      const out = clearBar();
      let text = formatEvent(e);
      if (text !== null && 'groupId' in e && e.groupId !== null) {
        const tag = e.type === 'step-start' || e.type === 'step-done' || e.type === 'step-failed' || e.type === 'undo';
        if (tag && lastGroup !== e.groupId) text = text.replace(/^(\s*)/, `$1[${printable(e.groupId)}] `);
        lastGroup = e.groupId;
      }
      if (text !== null) out.push(line('stderr', text + '\n'));
      return out;
    },
    info: (text) => [...clearBar(), line('stderr', `${printable(text)}\n`)],
    warn: (text) => [...clearBar(), warning(text)],
    error: () => [],
    cli: () => [],
    end: clearBar,
  };
}
