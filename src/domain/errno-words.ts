// The one wording of the system errors a user meets (ENOENT, EACCES, EROFS…) in hashall's messages: what it means for the path, not the kernel's code name (pure).

const WORDS: Record<string, string> = {
  ENOENT: 'does not exist',
  ENOTDIR: 'cannot be reached: a part of its path is not a folder',
  EACCES: 'cannot be reached: permission denied',
  EPERM: 'cannot be reached: operation not permitted',
  ELOOP: 'cannot be reached: too many symbolic links on its path',
  EROFS: 'is on a filesystem mounted read-only',
  ENOSPC: 'is on a full filesystem',
  EDQUOT: 'is over its disk quota',
  EISDIR: 'is a folder',
  EIO: 'gave an I/O error (a failing disk or a lost network mount?)',
  ENAMETOOLONG: 'has a name too long for its filesystem',
  ESTALE: 'is on a network mount whose server lost it (stale file handle)',
  ENXIO: 'cannot be opened by its name: a socket, or a device with nothing behind it',
};

/** What system error `code` means for the path it happened on, as words that follow the path; `fallback` (the error's own text) when the code is not one of them. */
export function errnoWords(code: string | undefined, fallback: string): string {
  return (code !== undefined ? WORDS[code] : undefined) ?? `cannot be used: ${fallback}`;
}

/**
 * Why a path given on the command line (or the working folder it is resolved in) was not found, when it holds bytes that
 * are not UTF-8: Node hands hashall its arguments and working folder already decoded, each such byte as U+FFFD, so no
 * such name can be opened. Null when the path holds none.
 */
export function undecodablePath(p: string): { words: string; hint: string } | null {
  if (!p.includes('\uFFFD')) return null;
  return {
    words: 'holds bytes that are not UTF-8 (shown as \uFFFD), which reach hashall already replaced: no file by that name can be opened',
    hint: 'give a path without them: rename the file or folder, or make a symlink with a plain name to it',
  };
}
