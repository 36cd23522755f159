// Size-first hashing (`scan.hash: shared-sizes`): which files a scan reads in full. A file whose size no other inode in the catalog or in this scan has cannot have a duplicate, so it is recorded with its hash unknown until one does (pure: the catalog's sizes come in through a loader).

/** The inode (its key) that alone has a size so far, while this root holds files of it back (null: no longer). */
interface Owner<T> {
  size: number;
  key: Key;
  held: T[] | null;
}

/** (filesystem id, inode) as one exact key (see inodeKey): never negative. */
type Key = number | string;

/** A size two or more inodes have. */
const SHARED = -1;

/**
 * Per size: SHARED, the key of the one inode that has it, or that inode's Owner while files of it are held. Most sizes
 * hold nothing (a library of 1M files of distinct sizes keeps 1M entries): a bare key costs no object.
 */
type Standing<T> = Owner<T> | Key;

const keyOf = <T>(o: Standing<T>): Key => (typeof o === 'object' ? o.key : o);

/** One (size, filesystem id, inode) per active catalog row. */
export type SizeRows = Iterable<[size: number, fsId: number, ino: number | bigint]>;

/** (filesystem id, inode) as one exact key: a number while both fit in 52 bits (below 2^40 a Number of an inode is exact; no string per file), else text. */
const inodeKey = (fsId: number, ino: number | bigint): Key => {
  const n = Number(ino);
  return fsId < 4096 && n < 2 ** 40 ? fsId * 2 ** 40 + n : `${fsId}:${String(ino)}`;
};

/**
 * How many held files the gate keeps at most. A held file's row is written unhashed when it is held, so the record
 * kept in memory only lets its read be paired with the next file of its size (one read of both, compared byte for
 * byte). Past this many, the oldest are let go: one whose size is shared later is read after the walk with the other
 * unhashed rows of shared sizes. ~0.6 KB each (its path twice, its stat): the walk of a library of 1M files of
 * distinct sizes held them all, ~630 MB.
 */
export const MAX_HELD = 65_536;

/**
 * Sizes seen by one scan (every root), with the catalog's active rows loaded on first use. `claim` answers for a
 * file that would be read in full: read it now (another inode has its size; files held back with that size are
 * released to be read too), or hold it — and names the held files let go to stay within `maxHeld` (still unhashed;
 * read after the walk if their size becomes shared). `endRoot` hands back what is still held (to record as unhashed).
 * `shares` tells, after the walk, whether an unhashed catalog row's size is now another inode's too (it must be read).
 */
export class SizeGate<T> {
  private owners: Map<number, Standing<T>> | null = null;
  /** Owners that held files, oldest first from `oldest` (an owner may be listed again once let go and holding anew). */
  private holding: Owner<T>[] = [];
  private oldest = 0;
  private heldCount = 0;

  /** `loadCatalog` null: nothing is held back (hash everything) — the gate only remembers what this scan read. */
  constructor(
    private readonly loadCatalog: (() => SizeRows) | null,
    private readonly maxHeld = MAX_HELD,
  ) {}

  /** Whether the gate was asked anything (the catalog's sizes are loaded then). */
  get used(): boolean {
    return this.owners !== null;
  }

  private map(): Map<number, Standing<T>> {
    if (this.owners) return this.owners;
    const m = new Map<number, Standing<T>>();
    for (const [size, fsId, ino] of this.loadCatalog?.() ?? []) {
      const o = m.get(size);
      const key = inodeKey(fsId, ino);
      if (o === undefined) m.set(size, key);
      else if (o !== SHARED && o !== key) m.set(size, SHARED);
    }
    this.owners = m;
    return m;
  }

  /** The owner's files are held no more: the size goes back to its bare key (unless it became shared meanwhile). */
  private unhold(o: Owner<T>): void {
    o.held = null;
    const m = this.owners!;
    if (m.get(o.size) === o) m.set(o.size, o.key);
  }

  /**
   * A file that would be read in full (size-first). `release`: files held back until now that must be read as well.
   * `letGo`: held files no longer kept (see MAX_HELD) — the oldest, this one among them only when `maxHeld` is 0.
   */
  claim(size: number, fsId: number, ino: bigint, item: T): { read: true; release: T[] } | { read: false; letGo: T[] } {
    const m = this.map();
    const key = inodeKey(fsId, ino);
    const o = m.get(size);
    if (o === SHARED) return { read: true, release: [] };
    if (o === undefined || keyOf(o) === key) {
      // A literal of one: its backing store holds one element (`[]` then push allocates 17) — most sizes hold one file.
      if (typeof o === 'object') o.held!.push(item);
      else {
        const owner: Owner<T> = { size, key, held: [item] };
        m.set(size, owner);
        this.holding.push(owner);
      }
      this.heldCount++;
      return { read: false, letGo: this.heldCount > this.maxHeld ? this.letGoOldest() : [] };
    }
    m.set(size, SHARED);
    if (typeof o !== 'object') return { read: true, release: [] };
    const release = o.held!;
    this.heldCount -= release.length;
    o.held = null;
    return { read: true, release };
  }

  /** Lets the oldest held files go until at most `maxHeld` are held (owners released meanwhile are skipped). */
  private letGoOldest(): T[] {
    const out: T[] = [];
    while (this.heldCount > this.maxHeld && this.oldest < this.holding.length) {
      const o = this.holding[this.oldest++]!;
      if (o.held === null) continue;
      out.push(...o.held);
      this.heldCount -= o.held.length;
      this.unhold(o);
    }
    // The list drops its let-go head once that is most of it (each owner is copied O(1) times on average).
    if (this.oldest > 4096 && this.oldest * 2 > this.holding.length) {
      this.holding = this.holding.slice(this.oldest);
      this.oldest = 0;
    }
    return out;
  }

  /** A file this scan reads in full whatever its size (hash everything): remembered so unhashed rows of its size are read too. */
  note(size: number, fsId: number, ino: bigint): void {
    const m = this.map();
    const key = inodeKey(fsId, ino);
    const o = m.get(size);
    if (o === undefined) m.set(size, key);
    else if (o !== SHARED && keyOf(o) !== key) m.set(size, SHARED);
  }

  /** The files still held at the end of a root: no other inode had their size. They are held no more. */
  endRoot(): T[] {
    const out: T[] = [];
    for (let i = this.oldest; i < this.holding.length; i++) {
      const o = this.holding[i]!;
      if (o.held) out.push(...o.held);
      this.unhold(o);
    }
    this.holding = [];
    this.oldest = 0;
    this.heldCount = 0;
    return out;
  }

  /** After the walk: an unhashed row of inode (fsId, ino) must be read because another inode has its size. */
  shares(size: number, fsId: number, ino: number | bigint): boolean {
    const s = this.standing(size, fsId, ino);
    return s === 'shared' || s === 'other';
  }

  /**
   * After the walk, what the gate knows of a row's size: none of its inodes ('unknown'), two or more ('shared'), this
   * inode alone ('owner'), or one other inode alone ('other': the row came from elsewhere — then both are to be read).
   */
  standing(size: number, fsId: number, ino: number | bigint): 'unknown' | 'shared' | 'owner' | 'other' {
    const o = this.owners?.get(size);
    if (o === undefined) return 'unknown';
    if (o === SHARED) return 'shared';
    return keyOf(o) === inodeKey(fsId, ino) ? 'owner' : 'other';
  }

  /** The sizes two or more inodes have, ascending (after the walk: the only sizes whose unhashed rows are read, when every row was known to the gate). */
  sharedSizes(): number[] {
    const out: number[] = [];
    for (const [size, o] of this.owners ?? []) if (o === SHARED) out.push(size);
    return out.sort((a, b) => a - b);
  }
}
