// The one spelling of a file reached through a held folder descriptor (`/proc/self/fd/N[/name]`) and the rewrite that puts the folder's own path back into an error naming that spelling (pure: strings and Buffers, no fs calls).
// Node has no openat/unlinkat: a folder held open is reached as `/proc/self/fd/N`, which the kernel resolves to that
// very folder wherever its path has gone. An error of such a call names `/proc/self/fd/N/…`, which tells a user
// nothing, so the caller puts the folder's path (as the user knows it) back in its place.

const FD_DIR = '/proc/self/fd';

function checkedFd(fd: number): number {
  if (!Number.isInteger(fd) || fd < 0) throw new RangeError(`not a file descriptor: ${fd}`);
  return fd;
}

/**
 * The anchored spelling of descriptor `fd` (`/proc/self/fd/N`, the folder or file open on it), or of `name` below that
 * folder (`/proc/self/fd/N/name`; a name or a relative path, used as given). A Buffer `name` (bytes that are not plain
 * UTF-8) gives a Buffer, the bytes kept exactly.
 */
export function anchoredPath(fd: number, name?: string): string;
export function anchoredPath(fd: number, name: Buffer): Buffer;
export function anchoredPath(fd: number, name: string | Buffer): string | Buffer;
export function anchoredPath(fd: number, name?: string | Buffer): string | Buffer {
  const anchor = `${FD_DIR}/${checkedFd(fd)}`;
  if (name === undefined) return anchor;
  if (typeof name === 'string') return `${anchor}/${name}`;
  return Buffer.concat([Buffer.from(`${anchor}/`), name]);
}

/** `/proc/self/fd/N` written where a path belongs, never the start of another descriptor's number (`…/fd/1` in `…/fd/12`). */
function spelledIn(anchor: string): RegExp {
  return new RegExp(`${anchor.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9])`, 'g');
}

/**
 * `err` (and the errors it wraps, by `cause`, 4 deep) with anchored spelling `anchor` (`/proc/self/fd/N`, a held
 * folder's) replaced by `shown`, the folder's path as the user knows it, in its message, `path` and `dest` (a link's or
 * a rename's second path). Only the anchor followed by a name or ending there is replaced, never the start of another
 * descriptor's number; `shown` is put in as written (a `$` in it is no replacement pattern). The same error object;
 * anything not an Error is returned as it is.
 */
export function withPlainPaths(err: unknown, anchor: string, shown: string): unknown {
  if (!(err instanceof Error)) return err;
  const spelled = spelledIn(anchor);
  const put = (): string => shown;
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    e.message = e.message.replace(spelled, put);
    const fields = e as Error & { path?: unknown; dest?: unknown };
    for (const key of ['path', 'dest'] as const) {
      const v = fields[key];
      if (typeof v !== 'string') continue;
      const fixed = v.replace(spelled, put);
      if (fixed !== v) Object.defineProperty(fields, key, { value: fixed });
    }
  }
  return err;
}
