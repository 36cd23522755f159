// The nearest claim wins (pure): which claimed path (a client's own folder, a torrent's content path or download folder) lies nearest at or above a path, and so claims it.
//
// The orphan classifier (src/plan/orphans.ts) and the write guard (src/plan/in-progress.ts) both ask it. A path is
// claimed by the claim set on the path itself, else by the nearest claimed folder above it: a torrent's payload inside
// a client's own folder is payload, a client folder inside a payload is the client's. Two claims set on one path keep
// the more careful word: unknown outranks in-progress outranks client outranks payload (the first of equal ones stays).
import { dirName } from '../domain/path-string.js';

export type ClaimClass = 'payload' | 'client' | 'in-progress' | 'unknown';

export interface Claim {
  cls: ClaimClass;
  why: string;
}

const RANK: Record<ClaimClass, number> = { payload: 0, client: 1, 'in-progress': 2, unknown: 3 };

export class NearestClaims {
  private readonly byPath = new Map<string, Claim>();
  /** What `above` found per folder, when memoized (callers asking for the same few folders many times). */
  private readonly memo: Map<string, Claim | null> | null;

  constructor(opts: { memo?: boolean } = {}) {
    this.memo = opts.memo === true ? new Map() : null;
  }

  /** How many paths carry a claim. */
  get size(): number {
    return this.byPath.size;
  }

  /** Claims `path` (canonical, absolute); where a claim is set already, the more careful of the two stays. */
  set(path: string, claim: Claim): void {
    const had = this.byPath.get(path);
    if (had === undefined || RANK[claim.cls] > RANK[had.cls]) {
      this.byPath.set(path, claim);
      this.memo?.clear();
    }
  }

  /** The claim set on `path` itself. */
  at(path: string): Claim | undefined {
    return this.byPath.get(path);
  }

  /** Every claimed path. */
  paths(): string[] {
    return [...this.byPath.keys()];
  }

  /** The claim of the nearest claimed path at or above folder `dir`, or null when none is. */
  above(dir: string): Claim | null {
    const memo = this.memo;
    if (memo === null) {
      for (let p = dir; ; p = dirName(p)) {
        const c = this.byPath.get(p);
        if (c !== undefined) return c;
        if (p === '/' || p === '') return null;
      }
    }
    const known = memo.get(dir);
    if (known !== undefined) return known;
    const hit = this.byPath.get(dir) ?? (dir === '/' || dir === '' ? null : this.above(dirName(dir)));
    memo.set(dir, hit);
    return hit;
  }

  /** What claims the file (or folder) at `path`: the claim on the path itself, else the nearest one above it. */
  of(path: string): Claim | null {
    return this.byPath.get(path) ?? (path === '/' || path === '' ? null : this.above(dirName(path)));
  }
}
