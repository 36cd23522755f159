// Dedupe groups: same-filesystem files with equal size and full SHA-256 become hardlinks of one keeper (pure).
//
// Keeper choice (documented, deterministic): the inode with the most links; ties go to the inode whose
// bytewise-lowest path sorts first. Every path of every other inode becomes a link of the keeper, so whole
// existing link groups merge. Never across filesystems (a DupeGroup is per filesystem by construction).
import type { DupeGroup } from '../domain/snapshot.js';
import type { DedupeLinkStep, PlanGroup } from './types.js';
import { compareBytes } from '../domain/payload-hash.js';
import { baseName } from '../domain/path-string.js';
import { formatBytes } from '../domain/format-bytes.js';
import type { World } from './world.js';

type Inode = DupeGroup['inodes'][number];

export function chooseKeeper(inodes: readonly Inode[]): Inode {
  const sorted = inodes.map((i) => ({ i, first: [...i.paths].sort(compareBytes)[0] ?? '' }));
  sorted.sort((a, b) => b.i.nlink - a.i.nlink || compareBytes(a.first, b.first) || a.i.ino - b.i.ino);
  return sorted[0]!.i;
}

export function planDedupeGroups(world: World): Omit<PlanGroup, 'id'>[] {
  const { config, snapshot } = world;
  const wanted = new Set(config.dedupe.filesystems);
  const out: Omit<PlanGroup, 'id'>[] = [];
  for (const d of snapshot.dupes) {
    const fsName = world.fsById.get(d.fsId)?.name ?? null;
    if (fsName === null || !wanted.has(fsName)) continue;
    if (d.size < config.dedupe.minSize) continue;
    const inodes = d.inodes.filter((i) => i.paths.length > 0);
    if (inodes.length < 2) continue;
    const keeper = chooseKeeper(inodes);
    const keeperPath = [...keeper.paths].sort(compareBytes)[0]!;
    const keep = { path: keeperPath, ino: keeper.ino, size: d.size, mtimeNs: keeper.mtimeNs, sha256: d.sha256 };
    const steps: DedupeLinkStep[] = [];
    let freed = 0;
    const others = inodes.filter((i) => i !== keeper).sort((a, b) => a.ino - b.ino);
    for (const i of others) {
      for (const p of [...i.paths].sort(compareBytes)) {
        steps.push({ kind: 'dedupe-link', fs: fsName, keeper: keep, duplicate: { path: p, ino: i.ino, size: d.size, mtimeNs: i.mtimeNs, sha256: d.sha256 } });
      }
      // Bytes come free only when every link of the inode is one the catalog knows (and thus replaces).
      if (i.paths.length >= i.nlink) freed += d.size;
    }
    const unknownLinks = others.filter((i) => i.paths.length < i.nlink).length;
    const reasons = [
      `${inodes.length} separate copies of the same ${formatBytes(d.size)} file on ${fsName} (equal size and SHA-256)`,
      `keeping inode ${keeper.ino} at ${keeperPath} (${keeper.nlink} link${keeper.nlink === 1 ? '' : 's'}; the keeper has the most links, ties go to the lowest path); the other paths become hardlinks of it`,
    ];
    if (unknownLinks > 0) reasons.push(`${unknownLinks} inode(s) have links outside the scanned roots, so their bytes stay in use`);
    const files = inodes.flatMap((i) => i.paths.map((p) => ({ path: p, ino: i.ino, size: d.size, mtimeNs: i.mtimeNs, nlink: i.nlink })));
    files.sort((a, b) => compareBytes(a.path, b.path));
    out.push({
      key: `dedupe:${fsName}:${d.sha256}:${d.size}`,
      action: 'dedupe',
      title: baseName(keeperPath),
      payloadHash: null,
      torrents: [],
      from: { fs: fsName, path: keeperPath },
      to: { fs: fsName, path: keeperPath },
      reasons,
      rule: null,
      bytesToCopy: 0,
      bytesToFree: freed,
      steps,
      fingerprint: { files, torrents: [] },
    });
  }
  out.sort((a, b) => compareBytes(a.from!.fs, b.from!.fs) || compareBytes(a.from!.path, b.from!.path));
  return out;
}
