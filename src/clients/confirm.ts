// Mutations that are proven by reading the torrent back (a 200 is not proof); client-neutral.
import { ClientError } from '../errors.js';
import { isAtOrUnder, trimSlash } from '../domain/path-string.js';
import type { ClientTorrent, StateOnly, TorrentClient, TorrentState, WaitOptions } from './types.js';
import { isBusyPhase, isSettledHealthy } from '../domain/torrent-phase.js';

export interface ConfirmOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Sees the torrent at every poll (progress while waiting, e.g. a long recheck). */
  observe?: (t: TorrentState) => void;
  /**
   * The torrent as the caller read it back moments ago (the last confirmed read of the same torrent): it stands for
   * the read these helpers make before their request (that the client knows the torrent; a recheck's progress before).
   * A repoint's chain of mutations then reads each state once, where every step read it again before its own request.
   */
  known?: TorrentState;
  /** The clock that bounds a wait across a stuck check's restarts (default Date.now). */
  now?: () => number;
}

/**
 * The reads of these confirmations check a torrent's state, not where its content is (setLocationConfirmed excepted):
 * they ask for the state alone, and a client that finds the content path only from the file list (Deluge) sends none —
 * a recheck of a season pack polled its hundreds of file entries several times a second. What they return is a
 * TorrentState; a caller that needs the content path reads it (hasContentPath).
 */
const STATE: StateOnly = { contentPath: false };

/** Whether a read carries where the torrent's content is (a ClientTorrent), or the state alone (a poll's TorrentState). */
export function hasContentPath(t: TorrentState): t is ClientTorrent {
  return typeof (t as Partial<ClientTorrent>).contentPath === 'string';
}

/** Poll the torrent's state alone until `predicate` holds (TorrentClient.waitFor of a StateOnly read). */
export function waitForState(client: TorrentClient, hash: string, predicate: (t: TorrentState) => boolean, w: WaitOptions): Promise<TorrentState> {
  return client.waitFor(hash, predicate, { ...w, ...STATE });
}

async function mustExist(client: TorrentClient, hash: string, action: string, known?: TorrentState): Promise<TorrentState> {
  if (known) {
    if (known.hash.toLowerCase() !== hash.toLowerCase()) throw new Error(`confirm: the torrent read before ${action} is ${known.hash}, not ${hash}`);
    return known;
  }
  const t = await client.getTorrent(hash, STATE);
  if (!t) {
    throw new ClientError('unconfirmed', `cannot ${action}: the client does not know torrent ${hash.toLowerCase()}`, {
      hint: 'the torrent was removed from the client; run `hashall plan` again',
    });
  }
  return t;
}

/** Run a wait; a timeout becomes ClientError('unconfirmed') saying what did not happen. */
async function confirmed<T>(what: string, o: ConfirmOptions, wait: (w: WaitOptions) => Promise<T>): Promise<T> {
  try {
    return await wait({ timeoutMs: o.timeoutMs, intervalMs: o.intervalMs, what });
  } catch (err) {
    if (err instanceof ClientError && err.kind === 'timeout') {
      throw new ClientError('unconfirmed', `the client accepted the request but did not ${what}: ${err.message}`, { cause: err, hint: err.hint });
    }
    throw err;
  }
}

/** Wait for the torrent's state (confirmed): what every confirmation but setLocationConfirmed's checks. */
function confirm(client: TorrentClient, hash: string, what: string, predicate: (t: TorrentState) => boolean, o: ConfirmOptions): Promise<TorrentState> {
  return confirmed(what, o, (w) => waitForState(client, hash, predicate, w));
}

/** Point a torrent at `location` and wait until qBittorrent reports it there (its content too) and no longer moving. */
export async function setLocationConfirmed(client: TorrentClient, hash: string, location: string, o: ConfirmOptions): Promise<ClientTorrent> {
  await mustExist(client, hash, 'set the location', o.known);
  const loc = trimSlash(location);
  await client.setLocation([hash], loc);
  const at = (t: ClientTorrent): boolean => trimSlash(t.savePath) === loc && isAtOrUnder(t.contentPath, loc) && t.phase !== 'moving';
  return confirmed(`move to ${loc}`, o, (w) => client.waitFor(hash, at, w));
}

/**
 * How long a check may sit at progress 0 with nothing changing before it counts as stuck: an eighth of the wait, at
 * least 2 s, at most 30 s. At most {@link STUCK_RESTARTS} restarts per wait, all inside its timeout.
 */
export function stuckCheckMs(timeoutMs: number): number {
  return Math.min(30_000, Math.max(2_000, Math.floor(timeoutMs / 8)));
}
export const STUCK_RESTARTS = 2;

/**
 * The raw states in which a check is known to stick at progress 0 for good: qBittorrent 4.5's running checks. Only
 * these are ever taken for stuck. A check another client merely queued (Transmission's check-wait behind other
 * verifications, a busy machine) sits at progress 0 just as long and is waited for: pausing it and asking again sent
 * it to the back of the queue each time, until the wait ran out (transmission-real's repoint under load: "gave up …
 * last seen stopped, progress 1").
 */
const STICKING_CHECK_STATES: ReadonlySet<string> = new Set(['checkingUP', 'checkingDL']);

/**
 * Tracks one torrent's check: stuck once it was seen in a sticking check state (above) at progress 0, and nothing
 * about it changed (phase, state, progress) for `windowMs`. qBittorrent 4.5 leaves a torrent at checkingUP, progress 0
 * for good when a recheck (or a setLocation) reaches it while its check is just starting: no later recheck moves it
 * (measured on the real daemon: a second recheck 30 ms after the first, a kill mid-recheck followed by recovery's request).
 */
export function stallWatch(windowMs: number, now: () => number): (t: TorrentState) => boolean {
  let key = '';
  let since = now();
  return (t) => {
    const k = `${t.phase}|${t.rawState}|${t.progress}`;
    if (k !== key) [key, since] = [k, now()];
    return t.phase === 'checking' && STICKING_CHECK_STATES.has(t.rawState) && t.progress === 0 && now() - since >= windowMs;
  };
}

/**
 * Ends a stuck check without letting the client run: a pause ends it (qBittorrent 4.5: pausedDL, progress 0 — paused,
 * incomplete, nothing moved or downloaded), confirmed by reading back. The caller asks for the one recheck that follows
 * (of a paused torrent: it reads the data and stays paused); the running state the caller recorded is its to restore.
 */
async function endStuckCheck(client: TorrentClient, hash: string, o: ConfirmOptions, deadline: number, now: () => number): Promise<TorrentState> {
  await client.pause([hash]);
  return confirm(client, hash, 'pause its stuck check (checking at progress 0, nothing changing)', (t) => t.phase === 'paused-complete' || t.phase === 'paused-incomplete', {
    ...o,
    timeoutMs: Math.max(1, deadline - now()),
  });
}

/**
 * Wait until a check or move under way has ended (the torrent is neither checking nor moving). A check stuck at
 * progress 0 (see stallWatch) is ended by a pause (endStuckCheck) — the torrent is then paused and incomplete, which
 * callers treat as any unsettled torrent (they recheck it). Bounded by `o.timeoutMs` overall.
 */
export async function checkOver(client: TorrentClient, hash: string, what: string, o: ConfirmOptions): Promise<TorrentState> {
  return (await waitCheckOver(client, hash, what, o)).t;
}

export interface CheckOverOptions {
  /** How long a sticking check may sit at progress 0, nothing changing, before it counts as stuck (default stuckCheckMs of the timeout). */
  stuckAfterMs?: number;
  /** End a stuck check by a pause (default). `false`: only report it (`stuck: true`, the torrent as last read) — for callers that only read. */
  endStuck?: boolean;
}

/**
 * The one wait for a check or move under way to end (see checkOver), saying whether it was taken for stuck. The timeout
 * throws as the client's waitFor does (ClientError 'timeout').
 */
export async function waitCheckOver(client: TorrentClient, hash: string, what: string, o: ConfirmOptions, c: CheckOverOptions = {}): Promise<{ t: TorrentState; stuck: boolean }> {
  const now = o.now ?? Date.now;
  const deadline = now() + o.timeoutMs;
  const stalled = stallWatch(c.stuckAfterMs ?? stuckCheckMs(o.timeoutMs), now);
  let stuck = false;
  const t = await waitForState(client, hash, (x) => (o.observe?.(x), !isBusyPhase(x.phase) || (stuck = stalled(x))), { timeoutMs: o.timeoutMs, intervalMs: o.intervalMs, what });
  return stuck && c.endStuck !== false ? { t: await endStuckCheck(client, hash, o, deadline, now), stuck } : { t, stuck };
}

/**
 * Recheck and wait until the check is over with the data complete (progress 1). Proof that a check ran:
 * it was seen checking, or its progress changed. A check that ends incomplete, or a torrent that
 * ends in missing-files/error, throws. A complete torrent whose check is too quick to observe stays
 * unconfirmed, so callers recheck after a setLocation onto existing data (progress 0), as hashall does.
 * A check already under way is waited out first (a recheck asked while qBittorrent 4.5 starts a check leaves it stuck);
 * a check stuck at progress 0 is ended by a pause and asked again, at most {@link STUCK_RESTARTS} times.
 */
export async function recheckConfirmed(client: TorrentClient, hash: string, o: ConfirmOptions): Promise<TorrentState> {
  const now = o.now ?? Date.now;
  const deadline = now() + o.timeoutMs;
  const left = (): ConfirmOptions => ({ ...o, timeoutMs: Math.max(1, deadline - now()) });
  let before = await mustExist(client, hash, 'recheck', o.known);
  if (isBusyPhase(before.phase)) {
    // A check under way (the client may check a moved torrent on its own) is waited out, not asked again. One seen
    // running that ends complete and settled is the proof a recheck would give (seen checking, then progress 1).
    const wasChecking = before.phase === 'checking';
    const over = await waitCheckOver(client, hash, 'finish the check under way before a recheck', left());
    if (wasChecking && !over.stuck && isSettledHealthy(over.t)) return over.t;
    before = over.t;
  }
  const asked = await recheckRestarting(client, hash, left(), {
    outcome: (stalled, rest) => checkOutcome(client, hash, before, rest, stalled),
    afterPause: (paused) => void (before = paused),
  });
  return asked.t;
}

export interface RecheckRestartHooks {
  /** Waits for the outcome of one recheck; `stalled` says when the check counts as stuck (it returns 'stuck' then). */
  outcome: (stalled: (t: TorrentState) => boolean, left: ConfirmOptions) => Promise<TorrentState | 'stuck'>;
  /** Runs right before a stuck check is ended by a pause (a caller records that it is about to change the running state). */
  beforePause?: () => void;
  /** The torrent once paused (the state the next recheck starts from). */
  afterPause?: (t: TorrentState) => void;
}

/**
 * The one owner of "ask a recheck, and recover a stuck one": asks, then `h.outcome` waits; a stuck check is ended by a
 * pause (confirmed) and asked again, at most {@link STUCK_RESTARTS} times, all inside `o.timeoutMs`. `paused` says
 * whether a pause happened: the caller restores the running state it recorded.
 */
export async function recheckRestarting(client: TorrentClient, hash: string, o: ConfirmOptions, h: RecheckRestartHooks): Promise<{ t: TorrentState; paused: boolean }> {
  const now = o.now ?? Date.now;
  const deadline = now() + o.timeoutMs;
  const left = (): ConfirmOptions => ({ ...o, timeoutMs: Math.max(1, deadline - now()) });
  let paused = false;
  for (let restarts = 0; ; restarts++) {
    await client.recheck([hash]);
    const canRestart = restarts < STUCK_RESTARTS;
    const t = await h.outcome(canRestart ? stallWatch(stuckCheckMs(o.timeoutMs) << restarts, now) : () => false, left());
    if (t !== 'stuck') return { t, paused };
    h.beforePause?.();
    paused = true;
    const t2 = await endStuckCheck(client, hash, o, deadline, now);
    h.afterPause?.(t2);
  }
}

/** One recheck's outcome (see recheckConfirmed): the torrent once over and complete, or 'stuck'; throws when it ends incomplete. */
async function checkOutcome(client: TorrentClient, hash: string, before: TorrentState, o: ConfirmOptions, stalled: (t: TorrentState) => boolean): Promise<TorrentState | 'stuck'> {
  let sawChecking = false;
  let stuck = false;
  let failure = null as ClientError | null;
  const done = (t: TorrentState): boolean => {
    o.observe?.(t);
    if (stalled(t)) return (stuck = true);
    if (t.phase === 'checking') {
      sawChecking = true;
      return false;
    }
    // A check too quick to be seen still shows when it changed the progress (found data, or lost it), or the client's
    // own flag turned from unchecked to checked (rTorrent's d.is_hash_checked after a close). Once seen, it stays proven:
    // a check read mid-way (progress moved) and then ended where it began (progress 1 again) ran.
    if (t.progress !== before.progress || (before.verified === false && t.verified === true)) sawChecking = true;
    if (t.phase === 'moving') return false;
    if (!sawChecking) return false;
    // A recheck never changes the running state: a torrent paused before it is settled only once it reads paused again
    // (Deluge lets libtorrent run a paused torrent to check it and reads "Seeding" before it pauses it again).
    if (isSettledHealthy(t)) return before.running || !t.running;
    const incomplete = t.progress < 1 && (t.phase === 'paused-incomplete' || t.phase === 'downloading');
    if (t.phase === 'missing-files' || t.phase === 'error' || incomplete) {
      failure = new ClientError('unconfirmed', `recheck of ${t.hash} ended incomplete: ${t.rawState}, progress ${t.progress}`, {
        hint: 'the data at the torrent location is missing or differs from the torrent',
      });
      return true;
    }
    return false;
  };
  const t = await confirm(client, hash, 'recheck to completion', done, o);
  if (stuck) return 'stuck';
  if (failure) throw failure;
  return t;
}

/** Pause (4.x) or stop (5.x) and wait until the client reports it paused. */
export async function pauseConfirmed(client: TorrentClient, hash: string, o: ConfirmOptions): Promise<TorrentState> {
  await mustExist(client, hash, 'pause', o.known);
  await client.pause([hash]);
  return confirm(client, hash, 'pause', (t) => t.phase === 'paused-complete' || t.phase === 'paused-incomplete', o);
}

/** Resume (4.x) or start (5.x) and wait until the client reports it running. */
export async function resumeConfirmed(client: TorrentClient, hash: string, o: ConfirmOptions): Promise<TorrentState> {
  await mustExist(client, hash, 'resume', o.known);
  await client.resume([hash]);
  return confirm(client, hash, 'resume', (t) => t.running, o);
}

/** Switch automatic torrent management and wait until it shows (enabling it may move data: wait out `moving`). */
export async function setAutoManagementConfirmed(client: TorrentClient, hash: string, enable: boolean, o: ConfirmOptions): Promise<TorrentState> {
  await mustExist(client, hash, 'change automatic management');
  await client.setAutoManagement([hash], enable);
  return confirm(client, hash, `${enable ? 'enable' : 'disable'} automatic management`, (t) => t.autoTmm === enable && t.phase !== 'moving', o);
}

/** Add tags and wait until every one of them shows on the torrent. */
export async function addTagsConfirmed(client: TorrentClient, hash: string, tags: string[], o: ConfirmOptions): Promise<TorrentState> {
  await mustExist(client, hash, 'tag');
  await client.addTags([hash], tags);
  return confirm(client, hash, `add tags ${tags.join(', ')}`, (t) => tags.every((x) => t.tags.includes(x)), o);
}

/** Remove tags and wait until none of them shows on the torrent. */
export async function removeTagsConfirmed(client: TorrentClient, hash: string, tags: string[], o: ConfirmOptions): Promise<TorrentState> {
  await mustExist(client, hash, 'untag');
  await client.removeTags([hash], tags);
  return confirm(client, hash, `remove tags ${tags.join(', ')}`, (t) => tags.every((x) => !t.tags.includes(x)), o);
}
