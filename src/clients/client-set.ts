// The torrent clients of every configured instance, by instance name: the one lookup every per-torrent call goes through.
import { DEFAULT_INSTANCE } from '../domain/instance.js';
import { ClientError } from '../errors.js';
import type { TorrentClient } from './types.js';

/** Clients by instance name. A torrent is identified by (instance, info-hash); its instance picks the client. */
export interface ClientSet {
  /** Configured instance names, sorted. */
  readonly names: readonly string[];
  /** The client of `name`, or null when no such instance is configured. */
  find(name: string): TorrentClient | null;
  /** The client of `name`; throws ClientError naming the instance when it is not configured. */
  get(name: string): TorrentClient;
}

export function clientSet(entries: Iterable<readonly [string, TorrentClient]>): ClientSet {
  const byName = new Map(entries);
  const names = [...byName.keys()].sort();
  return {
    names,
    find: (name) => byName.get(name) ?? null,
    get(name) {
      const c = byName.get(name);
      if (c) return c;
      const known = names.length ? `configured: ${names.join(', ')}` : 'no client is configured';
      throw new ClientError('network', `torrent client instance "${name}" is not configured (${known})`, {
        hint: `add it under \`clients:\` in hashall.yaml (or \`client:\` for the single instance "${DEFAULT_INSTANCE}")`,
      });
    },
  };
}

/** One client as the instance `name` (default: the single `client:` instance), or no client at all. */
export function singleClient(client: TorrentClient | null, name: string = DEFAULT_INSTANCE): ClientSet {
  return clientSet(client ? [[name, client]] : []);
}

/** Closes every client of the set (errors ignored: closing is best effort). */
export async function closeAll(set: ClientSet): Promise<void> {
  for (const n of set.names) await set.find(n)?.close().catch(() => undefined);
}
