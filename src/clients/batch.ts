// Coalescing of per-torrent client calls made close together (the groups of an apply in flight) into one call for all their torrents.
// An adapter opts in where one call for several torrents acts on each of them exactly as one call each would: only the
// torrents asked for, no answer of one torrent failing another's (qBittorrent `hashes=a|b`, Transmission `ids`).

import { ClientError } from '../errors.js';
import { checkInfoHashes } from './poll.js';

/** One answer per key of a flush: the value, or the error of that key alone. A key left out resolves to undefined. */
export type BatchAnswers<K, R> = Map<K, R | Error>;

export interface Batcher<K, R> {
  /** Queue `key` for the next call; resolves with its own answer (rejects with its own error, or the call's). */
  (key: K): Promise<R | undefined>;
}

/**
 * Requests queued in the same turn of the event loop — and, while a call is in flight, every request made meanwhile —
 * are sent as one `flush` of their distinct keys (at most `maxKeys` per call; the rest wait for the next). One call in
 * flight at a time: polls of many torrents settle into one call per round. A call that throws rejects every request
 * it carried, and only those.
 */
export function batcher<K, R>(flush: (keys: K[]) => Promise<BatchAnswers<K, R>>, maxKeys = 100): Batcher<K, R> {
  const queue = new Map<K, { resolve: (v: R | undefined) => void; reject: (e: unknown) => void }[]>();
  let busy = false;

  /**
   * Runs while requests are queued. `busy` turns false in the same synchronous stretch as the queue is found empty, so
   * a request queued after that starts a new drain and none is stranded (every error of a call is caught in the loop).
   */
  async function drain(): Promise<void> {
    while (queue.size > 0) {
      const keys = [...queue.keys()].slice(0, Math.max(1, maxKeys));
      const waiting = keys.map((k) => [k, queue.get(k)!] as const);
      for (const k of keys) queue.delete(k);
      try {
        const answers = await flush(keys);
        for (const [k, ws] of waiting) {
          const a = answers.get(k);
          for (const w of ws) {
            if (a instanceof Error) w.reject(a);
            else w.resolve(a);
          }
        }
      } catch (err) {
        for (const [, ws] of waiting) for (const w of ws) w.reject(err);
      }
    }
    busy = false;
  }

  return (key: K) =>
    new Promise<R | undefined>((resolve, reject) => {
      const ws = queue.get(key);
      if (ws) ws.push({ resolve, reject });
      else queue.set(key, [{ resolve, reject }]);
      if (busy) return;
      busy = true;
      setImmediate(() => void drain());
    });
}

/**
 * The answers of one read of several torrents, by key: `keyOf` names an entry (throws when it cannot: the whole answer
 * is then unreadable), `parse` reads it, and an entry that does not parse fails only its own key.
 */
export function answersByKey<E, R>(entries: Iterable<E>, keyOf: (entry: E) => string, parse: (entry: E) => R): BatchAnswers<string, R> {
  const out: BatchAnswers<string, R> = new Map();
  const contradicted = new Set<string>();
  for (const e of entries) {
    const key = keyOf(e);
    if (contradicted.has(key)) continue;
    let got: R | Error;
    try {
      got = parse(e);
    } catch (err) {
      got = err as Error;
    }
    // One torrent answered twice: the same twice is one answer; two that differ are no answer (which one is true is
    // unknown — the last must not win: a seeding entry after a downloading one would confirm what is not so).
    const had = out.get(key);
    if (had !== undefined && !sameAnswer(had, got)) {
      contradicted.add(key);
      got = new ClientError('protocol', `the client listed torrent ${key} twice, with different details: which one is true is unknown`);
    }
    out.set(key, got);
  }
  return out;
}

/** Two answers of one key that say the same (parsed answers are plain data). */
function sameAnswer(a: unknown, b: unknown): boolean {
  if (a instanceof Error || b instanceof Error) return a instanceof Error && b instanceof Error && a.message === b.message;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The torrents of a list, one each: an entry listed twice alike counts once; listed twice with different details
 * (state, place, progress), the list is refused — which one is true is unknown, and keeping either could take a
 * downloading torrent for a seeding one.
 */
export function oneEntryEach<T extends { hash: string }>(list: readonly T[], app: string): T[] {
  const out = new Map<string, T>();
  for (const t of list) {
    const had = out.get(t.hash);
    if (had !== undefined && !sameAnswer(had, t)) {
      throw new ClientError('protocol', `${app} listed torrent ${t.hash} twice, with different details: which one is true is unknown`, { hint: 'nothing was recorded; a client answer that contradicts itself is never guessed at: restart or repair the client' });
    }
    out.set(t.hash, t);
  }
  return [...out.values()];
}

/** Batchers by a key naming the call (the action and its arguments other than the torrents), made on first use. */
export function batchers<K, R>(make: (callKey: string) => Batcher<K, R>): (callKey: string) => Batcher<K, R> {
  const byCall = new Map<string, Batcher<K, R>>();
  return (callKey) => {
    let b = byCall.get(callKey);
    if (!b) byCall.set(callKey, (b = make(callKey)));
    return b;
  };
}

/**
 * A client's mutations of exactly the torrents named, by call (the action and its arguments other than the torrents:
 * plain JSON data): the torrents asked with the same call in the same turn go to one `send`, which answers each torrent's
 * own error (a torrent left out succeeded). No torrent named sends nothing; a name that is not an info-hash throws
 * before anything is sent (an empty selector makes some clients act on every torrent).
 */
export function mutations<C>(send: (call: C, hashes: string[]) => Promise<BatchAnswers<string, void>>): (call: C, hashes: readonly string[]) => Promise<void> {
  const byCall = batchers<string, void>((callKey) => {
    const call = JSON.parse(callKey) as C;
    return batcher((hashes) => send(call, hashes));
  });
  return async (call, hashes) => {
    if (hashes.length === 0) return;
    const batch = byCall(JSON.stringify(call));
    await Promise.all(checkInfoHashes(hashes).map((h) => batch(h)));
  };
}

/**
 * An answer that does not change while the client runs (a daemon's version): asked once however many callers wait at
 * the same time (their calls then go out together), kept once answered; a failure is not kept — the next caller asks again.
 */
export function askedOnce<T>(ask: () => Promise<T>): () => Promise<T> {
  let kept: { v: T } | null = null;
  let asked: Promise<T> | null = null;
  return () => {
    if (kept) return Promise.resolve(kept.v);
    asked ??= ask()
      .then((v) => {
        kept = { v };
        return v;
      })
      .finally(() => {
        asked = null;
      });
    return asked;
  };
}
