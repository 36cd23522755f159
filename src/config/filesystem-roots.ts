// Which configured roots belong to which filesystem entry of hashall.yaml: the one rule the planner and apply's scope check share (pure).
//
// A filesystem's roots are its own seeding roots plus the library roots under its path (or an alias of it). Apply
// refuses a dedupe file or a view donor anywhere else (src/apply/scope.ts), so the planner links only inside them too
// (src/plan/dedupe.ts, torrent-groups.ts) — judged by the config, not by the catalog's device, which can put a library
// outside the entry's path on the same filesystem.
import type { HashallConfig } from './types.js';
import { canonicalizeByAliases } from './normalize.js';
import { isAtOrUnder, normalizePath, trimSlash } from '../domain/path-string.js';

/** The seeding roots of filesystem `fsName` (none for a name hashall.yaml does not declare). */
export function seedingRootsOf(config: HashallConfig, fsName: string): string[] {
  return config.seeding[fsName] ?? [];
}

/** Seeding roots of `fsName` plus the library roots under its path: every place of it a scan covers. */
export function scannedRootsOf(config: HashallConfig, fsName: string): string[] {
  const fsConf = config.filesystems[fsName];
  const libs = fsConf ? config.libraries.filter((l) => isAtOrUnder(l, fsConf.path)) : [];
  return [...seedingRootsOf(config, fsName), ...libs];
}

/** True when `p` lies inside `root` and is not `root` itself (lexical normal forms). */
export function strictlyUnder(p: string, root: string): boolean {
  return isAtOrUnder(p, root) && normalizePath(p) !== normalizePath(root);
}

/**
 * The root of `roots` that `p` lies strictly inside, judged on `p`'s canonical spelling (a filesystem alias counts as
 * the filesystem), and that root in `p`'s own spelling (what a write below it walks); null when none.
 */
export function rootHolding(config: HashallConfig, p: string, roots: readonly string[]): { root: string; ownSpelling: string } | null {
  const c = canonicalizeByAliases(p, config.filesystems);
  const root = roots.find((r) => strictlyUnder(c, r));
  if (root === undefined) return null;
  return { root, ownSpelling: p.slice(0, p.length - (c.length - trimSlash(root).length)) };
}
