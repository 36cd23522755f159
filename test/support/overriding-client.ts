// A real TorrentClient with some methods replaced: fault injection at the port, every other call going to the daemon (test support).
import type { TorrentClient } from '../../src/clients/types.js';

export function overriding(real: TorrentClient, over: Partial<TorrentClient>): TorrentClient {
  return new Proxy(real, {
    get(target, key, receiver) {
      if (typeof key === 'string' && key in over) return over[key as keyof TorrentClient];
      const v = Reflect.get(target, key, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
