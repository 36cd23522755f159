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

/**
 * Human lines on stderr; on a terminal a progress line for copies (speed, ETA) and for rechecks. Dedupe groups are
 * quiet: a first adoption links thousands of duplicates, a line or four each would bury anything worth reading (and
 * fill cron's mail), so the ones that succeed are counted — one line for each run of them, and on a terminal a count
 * of the groups done — while one that fails is shown whole: its start, its steps, the failure, the undo.
 */
export function humanApplyView(opts: ApplyViewOptions): ApplyView {
  let barShown = false;
  let lastBar = -Infinity; // the first progress line is drawn at once
  // What is in flight, by group (several groups overlap: one copies while others wait for the client to recheck).
  const copying = new Map<string, { e: Extract<ApplyEvent, { type: 'copy-progress' }>; rate: { bytesPerSec: number } | null }>();
  const rechecking = new Map<string, Extract<ApplyEvent, { type: 'recheck-progress' }>>();
  // Step lines carry their group's id when they follow another group's line (only when groups overlap).
  let lastGroup: string | null = null;
  const rateOf = copyRates(opts.now);
  // Dedupe groups in flight (their lines held until they end), and those done since the last line printed.
  const quiet = new Map<string, { lines: string[]; linked: number; already: number }>();
  let quietDone = { groups: 0, linked: 0, already: 0 };
  let runId: string | null = null;
  let groupsTotal = 0;
  let groupsDone = 0;
  const clearBar = (): ViewOutput[] => {
    const out = barShown ? [line('stderr', CLEAR_LINE)] : [];
    barShown = false;
    return out;
  };
  /** The count of the dedupe groups done since the last line, as one line (before any other line, so order is kept). */
  const flushQuiet = (): ViewOutput[] => {
    const q = quietDone;
    if (q.groups === 0) return [];
    quietDone = { groups: 0, linked: 0, already: 0 };
    const already = q.already > 0 ? `, ${q.already} already linked` : '';
    const each = runId === null ? '' : ` (\`hashall runs show ${printable(runId)}\` lists each)`;
    return [line('stderr', `✔ ${q.groups} dedupe group(s) done: ${q.linked} duplicate(s) linked${already}${each}\n`)];
  };
  const before = (): ViewOutput[] => [...clearBar(), ...flushQuiet()];
  /** On a terminal, how many groups are done (throttled like the other progress lines). */
  const countLine = (): ViewOutput[] => {
    if (!opts.interactive) return [];
    const t = opts.now();
    if (t - lastBar < 100 && groupsDone < groupsTotal) return [];
    lastBar = t;
    barShown = true;
    return [line('stderr', `${CLEAR_LINE}  ${groupsDone} of ${groupsTotal} group(s) done`)];
  };
  return {
    event(e) {
      if (e.type === 'run-start') {
        runId = e.runId;
        groupsTotal = e.groups;
      }
      if (e.type === 'group-done') groupsDone++;
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
      // A dedupe group's own lines wait for its end: counted when it succeeds, shown whole when it does not.
      if (e.type === 'group-start' && e.action === 'dedupe') {
        quiet.set(e.groupId, { lines: [formatEvent(e)!], linked: 0, already: 0 });
        return [];
      }
      const held = 'groupId' in e && e.groupId !== null ? quiet.get(e.groupId) : undefined;
      if (held !== undefined && 'groupId' in e && e.groupId !== null) {
        if (e.type === 'step-start' || e.type === 'step-done' || e.type === 'step-failed' || e.type === 'undo') {
          if (e.type === 'step-done') held[e.status === 'noop' ? 'already' : 'linked']++;
          held.lines.push(formatEvent(e)!);
          return [];
        }
        if (e.type === 'group-done') {
          quiet.delete(e.groupId);
          if (e.status === 'done') {
            quietDone = { groups: quietDone.groups + 1, linked: quietDone.linked + held.linked, already: quietDone.already + held.already };
            return countLine();
          }
          const out = [...before(), ...[...held.lines, formatEvent(e)!].map((t) => line('stderr', t + '\n'))];
          lastGroup = e.groupId;
          return out;
        }
      }
      let text = formatEvent(e);
      if (text === null) return [];
      const out = before();
      if ('groupId' in e && e.groupId !== null) {
        const tag = e.type === 'step-start' || e.type === 'step-done' || e.type === 'step-failed' || e.type === 'undo';
        if (tag && lastGroup !== e.groupId) text = text.replace(/^(\s*)/, `$1[${printable(e.groupId)}] `);
        lastGroup = e.groupId;
      }
      out.push(line('stderr', text + '\n'));
      return out;
    },
    info: (text) => [...before(), line('stderr', `${printable(text)}\n`)],
    warn: (text) => [...before(), warning(text)],
    error: () => [],
    cli: () => [],
    end: before,
  };
}
