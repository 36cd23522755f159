// Reads of many torrents kept within the answer bound: pages of ids, and a page whose answer is past the bound read again as two halves, down to the one torrent that alone fails, named.
import type { ClientError } from '../errors.js';
import type { BatchAnswers } from './batch.js';
import { isTooLargeAnswer, tooLargeTorrent } from './http-send.js';

/** One read of several torrents (ids): an answer or an error per id, an id left out when the client does not know it. */
export type PageRead<R> = (ids: string[]) => Promise<BatchAnswers<string, R>>;

/**
 * `read`, halved while its answer is past the bound (every transport refuses such an answer once: tooLargeAnswer): the
 * halves are read one after the other (one answer held at a time), down to one torrent, whose own answer past the bound
 * is that torrent's error alone (tooLargeTorrent, naming it by `nameOf` where the client tells it; never throws), so
 * the others of its page are still answered. Any other failure fails the page as before. A page that fits costs one
 * request, as without this.
 */
export function halvedWhileTooLarge<R>(read: PageRead<R>, app: string, nameOf: (id: string) => Promise<string | null>): PageRead<R> {
  const go = async (ids: string[]): Promise<BatchAnswers<string, R>> => {
    try {
      return await read(ids);
    } catch (err) {
      if (!isTooLargeAnswer(err) || ids.length === 0) throw err;
      if (ids.length === 1) {
        const name = await nameOf(ids[0]!).catch(() => null);
        return new Map([[ids[0]!, tooLargeTorrent(app, ids[0]!, name, err as ClientError)]]);
      }
      const half = Math.ceil(ids.length / 2);
      const first = await go(ids.slice(0, half));
      const second = await go(ids.slice(half));
      return new Map([...first, ...second]);
    }
  };
  return go;
}

/**
 * `ids` read `perPage` at a time, one page after the other: the answer of each id the client knows (only the ids
 * asked), by id. The first id whose answer is an error fails the whole read (a list that cannot be read is never
 * passed on in part); an id the client no longer knows is left out.
 */
export async function readInPages<R>(ids: readonly string[], perPage: number, read: PageRead<R>): Promise<Map<string, R>> {
  const out = new Map<string, R>();
  const step = Math.max(1, perPage);
  for (let i = 0; i < ids.length; i += step) {
    const page = ids.slice(i, i + step);
    const got = await read(page);
    for (const id of page) {
      const a = got.get(id);
      if (a instanceof Error) throw a;
      if (got.has(id)) out.set(id, a as R);
    }
  }
  return out;
}
