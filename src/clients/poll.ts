// Client-neutral helpers for adapters: info-hash validation and a bounded poll of one torrent (waitFor).
import { ClientError, HashallError } from '../errors.js';
import type { ClientTorrent, TorrentState, WaitOptions } from './types.js';

export const HASH_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

/**
 * Lower-case hashes, or throw on anything that is not one: an empty or "all" selector makes qBittorrent and
 * Transmission apply a mutation to every torrent.
 */
export function checkInfoHashes(hashes: readonly string[]): string[] {
  for (const h of hashes) {
    if (!HASH_RE.test(h)) throw new HashallError(`not an info-hash: ${JSON.stringify(h).slice(0, 80)}`, { hint: 'pass 40 (v1) or 64 (v2) hex characters' });
  }
  return hashes.map((h) => h.toLowerCase());
}

/** A location to point torrents at: absolute, or throw (a relative one would be read against the client's own directory). */
export function checkLocation(location: string): string {
  if (!location.startsWith('/')) throw new HashallError(`setLocation needs an absolute path, got ${JSON.stringify(location)}`);
  return location;
}

export interface PollDeps<T extends TorrentState> {
  get(hash: string): Promise<T | null>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Who is polled, for the timeout message (e.g. `Transmission`). */
  app: string;
  /** Upper bound on the poll interval (a client whose transitions are brief needs quick polls). */
  maxIntervalMs?: number;
  /**
   * Wake on shared ticks of the interval (multiples of it on `now`'s clock, at least half an interval away) instead of
   * one interval after each answer: the polls of many torrents then fall in the same turn, and an adapter that batches
   * reads (batch.ts) answers them all with one call per tick.
   */
  alignToTicks?: boolean;
}

/** How long to sleep before the next poll: the interval, or (aligned) until the first shared tick at least half an interval away. */
export function pollDelay(now: number, interval: number, aligned: boolean): number {
  if (!aligned) return interval;
  const toTick = interval - (((now % interval) + interval) % interval);
  return toTick >= interval / 2 ? toTick : toTick + interval;
}

/** Poll one torrent until `predicate` holds; throws ClientError('timeout') naming what did not happen. Bounded in time and count. */
export async function pollTorrent<T extends TorrentState>(d: PollDeps<T>, hash: string, predicate: (t: T) => boolean, w: WaitOptions): Promise<T> {
  const interval = Math.min(d.maxIntervalMs ?? Infinity, Math.max(10, w.intervalMs ?? 100));
  const start = d.now();
  // Aligned sleeps last at least half an interval: twice the polls still bound the loop in count.
  const maxPolls = Math.ceil(w.timeoutMs / (d.alignToTicks ? interval / 2 : interval)) + 2;
  let last: T | null = null;
  for (let i = 0; i < maxPolls; i++) {
    last = await d.get(hash);
    if (last && predicate(last)) return last;
    if (d.now() - start >= w.timeoutMs) break;
    await d.sleep(pollDelay(d.now(), interval, d.alignToTicks === true));
  }
  const seen = last ? `last seen ${last.rawState}, progress ${last.progress}, save path ${last.savePath}` : 'the client does not list it';
  throw new ClientError('timeout', `gave up after ${w.timeoutMs} ms waiting for ${w.what ?? 'a condition'} on torrent ${hash.toLowerCase()} (${seen})`, {
    hint: `${d.app} may be busy (check queue) or did not act on the request; look at its log`,
  });
}

/**
 * A parsed torrent entry, or a protocol error when it cannot be true: an info-hash that is not 40 or 64 hex digits,
 * progress outside 0..1 (or not finite: `1e400` parses as Infinity), a negative amount left or size. A buggy or
 * compromised client must not pass for complete with `progress: 2` or `amount_left: -5` — every "is it complete?"
 * reads `progress >= 1` and `amountLeft > 0` — nor name a torrent with a path for a hash (it becomes a file name).
 */
export function checkTorrentEntry<T extends Pick<ClientTorrent, 'hash' | 'progress' | 'amountLeft' | 'size'>>(app: string, t: T): T {
  const bad = (what: string): never => {
    throw new ClientError('protocol', `${app} reported torrent ${JSON.stringify(t.hash.slice(0, 80))} with ${what}`, { hint: 'a client answer that cannot be true is never guessed at: update or repair the client' });
  };
  if (!HASH_RE.test(t.hash)) bad('a hash that is not 40 or 64 hex digits');
  if (!Number.isFinite(t.progress) || t.progress < 0 || t.progress > 1) bad(`progress ${t.progress} (not within 0..1)`);
  if (!Number.isFinite(t.amountLeft) || t.amountLeft < 0) bad(`${t.amountLeft} bytes left`);
  if (!Number.isFinite(t.size) || t.size < 0) bad(`size ${t.size}`);
  return t;
}
