// Mutations that are proven by reading the torrent back (a 200 is not proof); client-neutral.
import { ClientError } from '../errors.js';
import { isAtOrUnder, trimSlash } from '../domain/path-string.js';
import type { ClientTorrent, TorrentClient } from './types.js';
import { isSettledHealthy } from '../domain/torrent-phase.js';

export interface ConfirmOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Sees the torrent at every poll (progress while waiting, e.g. a long recheck). */
  observe?: (t: ClientTorrent) => void;
  /**
   * The torrent as the caller read it back moments ago (the last confirmed read of the same torrent): it stands for
   * the read these helpers make before their request (that the client knows the torrent; a recheck's progress before).
   * A repoint's chain of mutations then reads each state once, where every step read it again before its own request.
   */
  known?: ClientTorrent;
}


async function mustExist(client: TorrentClient, hash: string, action: string, known?: ClientTorrent): Promise<ClientTorrent> {
  if (known) {
    if (known.hash.toLowerCase() !== hash.toLowerCase()) throw new Error(`confirm: the torrent read before ${action} is ${known.hash}, not ${hash}`);
    return known;
  }
  const t = await client.getTorrent(hash);
  if (!t) {
    throw new ClientError('unconfirmed', `cannot ${action}: the client does not know torrent ${hash.toLowerCase()}`, {
      hint: 'the torrent was removed from the client; run `hashall plan` again',
    });
  }
  return t;
}

/** Run a wait; a timeout becomes ClientError('unconfirmed') saying what did not happen. */
async function confirm(client: TorrentClient, hash: string, what: string, predicate: (t: ClientTorrent) => boolean, o: ConfirmOptions): Promise<ClientTorrent> {
  try {
    return await client.waitFor(hash, predicate, { timeoutMs: o.timeoutMs, intervalMs: o.intervalMs, what });
  } catch (err) {
    if (err instanceof ClientError && err.kind === 'timeout') {
      throw new ClientError('unconfirmed', `the client accepted the request but did not ${what}: ${err.message}`, { cause: err, hint: err.hint });
    }
    throw err;
  }
}

/** Point a torrent at `location` and wait until qBittorrent reports it there and no longer moving. */
export async function setLocationConfirmed(client: TorrentClient, hash: string, location: string, o: ConfirmOptions): Promise<ClientTorrent> {
  await mustExist(client, hash, 'set the location', o.known);
  const loc = trimSlash(location);
  await client.setLocation([hash], loc);
  return confirm(client, hash, `move to ${loc}`, (t) => trimSlash(t.savePath) === loc && isAtOrUnder(t.contentPath, loc) && t.phase !== 'moving', o);
}

/**
 * Recheck and wait until the check is over with the data complete (progress 1). Proof that a check ran:
 * it was seen checking, or its progress changed. A check that ends incomplete, or a torrent that
 * ends in missing-files/error, throws. A complete torrent whose check is too quick to observe stays
 * unconfirmed, so callers recheck after a setLocation onto existing data (progress 0), as hashall does.
 */
export async function recheckConfirmed(client: TorrentClient, hash: string, o: ConfirmOptions): Promise<ClientTorrent> {
  const before = await mustExist(client, hash, 'recheck', o.known);
  await client.recheck([hash]);
  let sawChecking = false;
  let failure = null as ClientError | null;
  const done = (t: ClientTorrent): boolean => {
    o.observe?.(t);
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
    if (isSettledHealthy(t)) return true;
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
  if (failure) throw failure;
  return t;
}

/** Pause (4.x) or stop (5.x) and wait until the client reports it paused. */
export async function pauseConfirmed(client: TorrentClient, hash: string, o: ConfirmOptions): Promise<ClientTorrent> {
  await mustExist(client, hash, 'pause', o.known);
  await client.pause([hash]);
  return confirm(client, hash, 'pause', (t) => t.phase === 'paused-complete' || t.phase === 'paused-incomplete', o);
}

/** Resume (4.x) or start (5.x) and wait until the client reports it running. */
export async function resumeConfirmed(client: TorrentClient, hash: string, o: ConfirmOptions): Promise<ClientTorrent> {
  await mustExist(client, hash, 'resume', o.known);
  await client.resume([hash]);
  return confirm(client, hash, 'resume', (t) => t.running, o);
}

/** Switch automatic torrent management and wait until it shows (enabling it may move data: wait out `moving`). */
export async function setAutoManagementConfirmed(client: TorrentClient, hash: string, enable: boolean, o: ConfirmOptions): Promise<ClientTorrent> {
  await mustExist(client, hash, 'change automatic management');
  await client.setAutoManagement([hash], enable);
  return confirm(client, hash, `${enable ? 'enable' : 'disable'} automatic management`, (t) => t.autoTmm === enable && t.phase !== 'moving', o);
}

/** Add tags and wait until every one of them shows on the torrent. */
export async function addTagsConfirmed(client: TorrentClient, hash: string, tags: string[], o: ConfirmOptions): Promise<ClientTorrent> {
  await mustExist(client, hash, 'tag');
  await client.addTags([hash], tags);
  return confirm(client, hash, `add tags ${tags.join(', ')}`, (t) => tags.every((x) => t.tags.includes(x)), o);
}

/** Remove tags and wait until none of them shows on the torrent. */
export async function removeTagsConfirmed(client: TorrentClient, hash: string, tags: string[], o: ConfirmOptions): Promise<ClientTorrent> {
  await mustExist(client, hash, 'untag');
  await client.removeTags([hash], tags);
  return confirm(client, hash, `remove tags ${tags.join(', ')}`, (t) => tags.every((x) => !t.tags.includes(x)), o);
}
