// The name of hashall's own trash directory at the top of each configured filesystem (one owner of its spelling).

export const TRASH_DIR = '.hashall-trash';

/** A path holding this segment lies in a trash: hashall's own, never an orphan, a duplicate tree or a consumer. */
export const TRASH_SEGMENT = `/${TRASH_DIR}/`;
