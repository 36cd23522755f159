// Decides one sibling group of torrents: blocked / stay / keep / reuse / move, with steps and reasons (pure).
//
// Invariants (must never be broken here):
// - anything unknown blocks the group (never "safe by default");
// - a promote (to a filesystem holding library roots) only reuses content already there — no blind copy;
// - a target directory never receives content different from what is already there (hitchhikers): such
//   targets are routed to a deterministic unique root, and two groups of a plan never share a root;
// - donors and views are on the same filesystem; copies cross filesystems only in `copy` steps;
// - a view links a file from another inode only where that inode shows the file's own owner, group and mode, both
//   known (link-meta.ts): else the file is copied for that view, and the link names the file's own source (metaOf).
import type { CatalogFile, PayloadFile, SnapshotPayload, SnapshotTorrent } from '../domain/snapshot.js';
import type { CatalogPayloadRef, CopyStep, GroupFingerprint, LinkViewLink, LinkViewStep, PlanGroup, PlanStep, PlanTorrent, RepointStep } from './types.js';
import type { Placement, PolicyGroup } from '../policy/placement.js';
import { compareBytes } from '../domain/payload-hash.js';
import { formatBytes } from '../domain/format-bytes.js';
import { baseName, dirName, joinPath, relativeTo } from '../domain/path-string.js';
import { mapTorrentFiles } from './torrent-files.js';
import { fileFingerprints } from './file-fingerprints.js';
import { targetRoot, targetSeedingRoot, uniqueRoot } from './target-path.js';
import { hostToClient, mapsOf } from './client-spelling.js';
import { foreignTorrentAt, insideRoots, scanProblem, type SnapshotIndex } from './snapshot-index.js';
import { rootHolding, scannedRootsOf } from '../config/filesystem-roots.js';
import { isSettledPhase } from '../domain/torrent-phase.js';
import { linkedMoveHeadline, plannedCopyFor, recordPlannedCopy, type PlannedCopy, type PlannedLink } from './linked-moves.js';
import { keepsOwnMeta, sameInode } from './link-meta.js';

export interface Member {
  torrent: SnapshotTorrent;
  payload: SnapshotPayload | null;
  fsName: string | null;
  /** content_path below save_path as the client reports it, when the file list maps cleanly (see mapTorrentFiles). */
  contentRel: string | null;
  /** Why this torrent cannot be planned (empty = fine). */
  problems: string[];
}

/** Mutable bookkeeping of ONE buildPlan call (passed explicitly; never module state). */
export interface PlanState {
  /** Bytes already committed to moves per target filesystem, in group order. */
  reserved: Map<string, number>;
  /** View/copy roots claimed by earlier groups → payload hash. */
  claimed: Map<string, string>;
  /** Every ancestor directory of a claimed root (to refuse nesting one payload inside another). */
  claimedAncestors: Set<string>;
  /** Every file the moves planned so far copy, by target filesystem and source inode, and by content and metadata where dedupe links equal content (linked-moves.ts). */
  copied: Map<string, PlannedCopy>;
  /** Group key → keys of the earlier groups whose copies it links from: merged with them (mergeLinkedMoves). */
  follows: Map<string, Set<string>>;
}

export type Policy = (group: PolicyGroup, now: number) => Placement;


export const EMPTY_FINGERPRINT: GroupFingerprint = { files: [], torrents: [] };

export function planTorrentOf(t: SnapshotTorrent): PlanTorrent {
  return { client: t.client, hash: t.hash, name: t.name, category: t.category, tracker: t.tracker };
}

function sizeOf(files: readonly { size: number }[]): number {
  let s = 0;
  for (const f of files) s += f.size;
  return s;
}

/** Total size of the distinct inodes of one payload's files (all on one filesystem). */
function inodeBytes(files: readonly { ino: number; size: number }[]): number {
  const seen = new Set<number>();
  let s = 0;
  for (const f of files) {
    if (seen.has(f.ino)) continue;
    seen.add(f.ino);
    s += f.size;
  }
  return s;
}

/** Resolve each torrent to its payload and collect what is unknown or unsafe about it. */
export function buildMember(ix: SnapshotIndex, t: SnapshotTorrent): Member {
  const problems: string[] = [];
  const name = `"${t.name}"`;
  const down = ix.snapshot.clients?.[t.client];
  if (down?.failedAt != null) {
    problems.push(`torrent client "${t.client}" (which seeds ${name}) did not answer its last sync${down.failure ? ` (${down.failure})` : ''}: what it seeds now is unknown`);
  }
  if (t.partFile !== undefined) {
    problems.push(`${t.partFile} holds pieces of files of ${name} that the client does not download (libtorrent's part file): a repoint would make the client move it itself; let the client download those files too (the part file then goes), or keep the torrent where it is`);
  }
  if (!isSettledPhase(t.phase)) problems.push(`torrent ${name} is ${t.phase} (${t.rawState}); only complete, stable torrents are moved`);
  else if (t.progress < 1 || t.amountLeft > 0) problems.push(`torrent ${name} is not complete (${(t.progress * 100).toFixed(1)}%)`);
  let payload: SnapshotPayload | null = null;
  let fsName: string | null = null;
  let contentRel: string | null = null;
  if (t.hostContentPath === null) {
    problems.push(`client path ${t.clientContentPath || '(empty)'} of ${name} has no host spelling${t.unmappedReason ? `: ${t.unmappedReason}` : ''}`);
  } else {
    payload = ix.snapshot.payloads[t.hostContentPath] ?? null;
    const link = payload === null ? ix.linkAt.get(t.hostContentPath) : undefined;
    if (link !== undefined) {
      problems.push(`payload ${t.hostContentPath} of ${name} is made of symlinks (${link}): hashall never moves or copies a link, and what the links reach stays where it is while they do`);
    } else if (payload === null) {
      problems.push(`payload ${t.hostContentPath} of ${name} is not in the catalog (scan the seeding root that holds it)`);
    } else {
      const fs = ix.fsById.get(payload.fsId);
      fsName = fs?.name ?? null;
      if (fsName === null) problems.push(`payload ${payload.rootPath} is on a filesystem hashall.yaml does not declare`);
      if (payload.seedingRoot === null) problems.push(`payload ${payload.rootPath} is outside every seeding root`);
      else if (payload.rootPath === payload.seedingRoot) problems.push(`payload ${payload.rootPath} is a seeding root itself, not a payload inside one`);
      else {
        const sp = scanProblem(ix, ix.rootsByPath.get(payload.seedingRoot), payload.seedingRoot, 'seeding root');
        if (sp) problems.push(sp);
      }
      if (payload.payloadHash === null) {
        problems.push(
          payload.fileCount === 0
            ? `payload ${payload.rootPath} has no files in the catalog, so its payload hash is unknown`
            : `payload hash unknown: ${payload.missingHashes} of ${payload.fileCount} files of ${payload.rootPath} have no full SHA-256 yet`,
        );
      }
      if (payload.consumers.status === 'unknown') {
        const why = payload.consumers.reasons.length > 0 ? `: ${payload.consumers.reasons.join('; ')}` : '';
        problems.push(`external-consumer status of ${payload.rootPath} is unknown${why}`);
      }
      const m = mapTorrentFiles(t, payload);
      if (m.ok) contentRel = m.contentRel;
      else problems.push(m.problem);
    }
  }
  return { torrent: t, payload, fsName, contentRel, problems };
}

interface ContentFile {
  relpath: string;
  size: number;
  sha256: string;
}

function filePathIn(root: string, kind: 'file' | 'dir', relpath: string): string {
  return kind === 'file' ? root : joinPath(root, relpath);
}

/** True when every catalog file at/under `root` already holds exactly the content expected there. */
function compatible(occupants: CatalogFile[], root: string, kind: 'file' | 'dir', contentOf: () => Map<string, ContentFile>): boolean {
  if (occupants.length === 0) return true;
  const content = contentOf();
  for (const f of occupants) {
    const rel = relativeTo(f.path, root);
    if (rel === null) continue;
    const key = kind === 'file' ? (rel === '' ? baseName(root) : null) : rel === '' ? null : rel;
    const want = key === null ? undefined : content.get(key);
    if (!want || f.sha256 === null || f.sha256 !== want.sha256 || f.size !== want.size) return false;
  }
  return true;
}

function claimConflict(state: PlanState, root: string, hash: string): boolean {
  const owner = state.claimed.get(root);
  if (owner !== undefined) return owner !== hash;
  if (state.claimedAncestors.has(root)) return true;
  for (let p = dirName(root); p !== '' && p !== '/'; p = dirName(p)) if (state.claimed.has(p)) return true;
  return false;
}

function claim(state: PlanState, root: string, hash: string): void {
  state.claimed.set(root, hash);
  for (let p = dirName(root); p !== '' && p !== '/'; p = dirName(p)) state.claimedAncestors.add(p);
}

type Resolved = { root: string; note: string | null; problem: null } | { root: null; note: null; problem: string };

/** The longest name (bytes) a directory entry may have on the filesystems hashall manages (NAME_MAX). */
const NAME_MAX = 255;

/**
 * Pick the view root for content: the normal target when nothing different lies there (empty when
 * `requireEmpty`), else the unique root beside it, else a problem. Unknown occupancy is a problem.
 */
function resolveRoot(ix: SnapshotIndex, state: PlanState, root: string, hash: string, kind: 'file' | 'dir', content: () => Map<string, ContentFile>, requireEmpty: boolean): Resolved {
  const occ = ix.snapshot.occupiedPaths;
  const fits = (r: string): boolean | null => {
    const o = occ?.[r];
    if (o === undefined) return null;
    if (claimConflict(state, r, hash)) return false;
    if (foreignTorrentAt(ix, r, hash)) return false;
    return requireEmpty ? o.length === 0 : compatible(o, r, kind, content);
  };
  const first = fits(root);
  if (first === null) return { root: null, note: null, problem: `cannot tell what already lies at ${root}: the catalog snapshot has no occupancy for it (refresh and plan again)` };
  if (first) return { root, note: null, problem: null };
  const alt = uniqueRoot(root, hash);
  // The unique save folder's name is the root's name plus 21 bytes: past the 255 bytes a name may have (ext4, xfs,
  // btrfs, zfs), every write to it would fail with ENAMETOOLONG halfway through an apply.
  const uniqueBytes = new TextEncoder().encode(baseName(dirName(alt))).length;
  if (uniqueBytes > NAME_MAX) {
    return { root: null, note: null, problem: `${root} holds different content, and the unique folder beside it would have a ${uniqueBytes}-byte name, past the ${NAME_MAX} bytes a filesystem allows (rename the torrent's folder in the client to a shorter name, or clear ${root})` };
  }
  const second = fits(alt);
  if (second === null) return { root: null, note: null, problem: `${root} holds different content and the occupancy of ${alt} is unknown (refresh and plan again)` };
  if (second) return { root: alt, note: `${root} already holds different content; using the unique root ${alt} so two payloads never share a directory`, problem: null };
  return { root: null, note: null, problem: `both ${root} and ${alt} already hold different content` };
}

function torrentFingerprints(members: Member[]): GroupFingerprint['torrents'] {
  return members.map((m) => ({ client: m.torrent.client, hash: m.torrent.hash, phase: m.torrent.phase, clientSavePath: m.torrent.clientSavePath, clientContentPath: m.torrent.clientContentPath }));
}

type ReadyMember = Member & { payload: SnapshotPayload; fsName: string; contentRel: string };

export type PlacementDecision =
  | { outcome: 'blocked'; problems: string[] }
  | { outcome: 'keep' | 'in-place'; placement: Placement; ready: ReadyMember[] }
  | { outcome: 'stay'; placement: Placement & { fs: string }; ready: ReadyMember[]; held: ReadyMember[] }
  | { outcome: 'act'; placement: Placement & { fs: string }; ready: ReadyMember[]; off: ReadyMember[] };

/**
 * The first half of a group's decision, from what every payload and torrent carries without file lists: blocked
 * (something unknown), keep (the rule says so, or already on the desired filesystem), stay (an external consumer
 * holds it), or act (it needs its file lists: move, reuse, or a block found while building steps). detailNeeds
 * uses the same function, so the reader loads file lists for exactly the groups that act.
 */
export function decidePlacement(ix: SnapshotIndex, members: Member[], policy: Policy): PlacementDecision {
  const problems: string[] = [];
  problems.push(...unsyncedInstances(ix));
  for (const m of members) problems.push(...m.problems);
  problems.push(...ix.libraryProblems.map((p) => `${p}; external consumers cannot be ruled out`));
  const hash = members[0]!.payload?.payloadHash ?? null;
  if (problems.length > 0 || hash === null) return { outcome: 'blocked', problems: problems.length > 0 ? problems : ['payload hash unknown'] };

  const ready = members as ReadyMember[];
  const placement = policy(
    {
      members: ready.map((m) => ({
        torrent: m.torrent,
        payloadSize: m.payload.bytes,
        relPath: m.payload.seedingRoot === null ? null : relativeTo(m.payload.rootPath, m.payload.seedingRoot),
      })),
    },
    ix.now,
  );
  if (placement.fs === 'keep') return { outcome: 'keep', placement, ready };
  const to = placement as Placement & { fs: string };
  const off = ready.filter((m) => m.fsName !== to.fs);
  if (off.length === 0) return { outcome: 'in-place', placement, ready };
  // Only a member that would move can break a consumer's link: one already on the target stays where it is (a warm,
  // library-linked sibling does not keep its cold cross-seed from a promote by reuse).
  const held = off.filter((m) => m.payload.consumers.status === 'some');
  if (held.length > 0) return { outcome: 'stay', placement: to, ready, held };
  return { outcome: 'act', placement: to, ready, off };
}

/** Why no torrent group can be trusted: a configured instance never synced (it may seed any payload). */
function unsyncedInstances(ix: SnapshotIndex): string[] {
  const states = ix.snapshot.clients;
  if (states === undefined) return ix.snapshot.lastSyncAt === null ? ['the torrent client has never been synced (refresh, or run `hashall sync`)'] : [];
  return Object.entries(states)
    .filter(([, c]) => c.syncedAt === null)
    .map(([name]) => `torrent client "${name}" has never been synced, so nothing is known of what it seeds (refresh, or run \`hashall sync\`)`);
}

/** Plan one sibling group. `members` are sorted (content path bytes, then hash); ids are assigned later. */
export function planTorrentGroup(ix: SnapshotIndex, members: Member[], policy: Policy, state: PlanState): Omit<PlanGroup, 'id'> {
  const { config } = ix;
  const primary = members[0]!;
  const hash = primary.payload?.payloadHash ?? null;
  const group: Omit<PlanGroup, 'id'> = {
    key: hash !== null && members.every((m) => m.payload?.payloadHash === hash) ? `payload:${hash}` : `torrent:${primary.torrent.client}/${primary.torrent.hash}`,
    action: 'blocked',
    title: primary.torrent.name,
    payloadHash: hash,
    torrents: members.map((m) => planTorrentOf(m.torrent)),
    from: primary.payload && primary.fsName ? { fs: primary.fsName, path: primary.payload.rootPath } : null,
    to: null,
    reasons: [],
    rule: null,
    bytesToCopy: 0,
    bytesToFree: 0,
    steps: [],
    fingerprint: EMPTY_FINGERPRINT,
  };
  const blocked = (reasons: string[]): Omit<PlanGroup, 'id'> => ({ ...group, action: 'blocked', reasons: [...new Set(reasons)] });

  const d = decidePlacement(ix, members, policy);
  if (d.outcome === 'blocked') return blocked(d.problems);
  const { placement, ready } = d;
  group.rule = placement.rule;
  if (d.outcome === 'keep') return { ...group, action: 'keep', to: group.from, reasons: [placement.reason] };
  const fsName = placement.fs;
  if (d.outcome === 'in-place') return { ...group, action: 'keep', to: group.from, reasons: [`already on ${fsName}: ${placement.reason}`] };
  if (d.outcome === 'stay') {
    const held = d.held;
    const paths = [...new Set(held.flatMap((m) => m.payload.consumers.paths))].sort(compareBytes);
    const links = [...new Set(held.flatMap((m) => m.payload.consumers.symlinks ?? []))].sort(compareBytes);
    const more = (n: number): string => (n > 1 ? ` (and ${n - 1} more)` : '');
    const on = `stays on ${held[0]!.fsName}`;
    const reasons: string[] = [];
    if (paths.length > 0 || links.length === 0) reasons.push(`${on}: an external consumer links its files (${paths[0] ?? 'consumer'}${more(paths.length)})`);
    if (links.length > 0) reasons.push(`${on}: a symlink reaches its files by path (${links[0]}${more(links.length)}); moving it would break the link`);
    reasons.push(`${placement.reason}, but ${paths.length > 0 ? 'a library hardlink' : 'a consumer'} always wins`);
    return { ...group, action: 'stay', reasons };
  }
  if (d.outcome !== 'act' || hash === null) return blocked(['payload hash unknown']); // decidePlacement returned every other outcome above
  const off = d.off;
  const target = ix.fsByName.get(fsName);
  // From here on the group acts: it needs its payloads' file lists (the reader loads them for the groups detailNeeds
  // names). Client file lists are not needed: every ready torrent lists exactly its payload's files (mapTorrentFiles).
  const unloaded = ready.filter((m) => m.payload.files === null && !m.payload.filesInCatalog);
  const notLoaded = (m: Member): Omit<PlanGroup, 'id'> =>
    blocked([`the file lists of "${m.torrent.name}" were not loaded with the catalog snapshot, so nothing can be planned for it (plan again)`]);
  if (unloaded.length > 0) return notLoaded(unloaded[0]!);
  if (!target || !config.filesystems[fsName]) return blocked([`${placement.reason}, but filesystem "${fsName}" is not known to the catalog (scan it first)`]);
  const seedRoot = targetSeedingRoot(config, fsName);
  if (seedRoot === null) return blocked([`${placement.reason}, but ${fsName} has no seeding root in hashall.yaml`]);
  const seedProblem = scanProblem(ix, ix.rootsByPath.get(seedRoot), seedRoot, 'target seeding root');
  if (seedProblem) return blocked([seedProblem]);

  const promote = ix.warm.has(fsName);
  // Null when the primary's files are left to the catalog (SnapshotPayload.filesInCatalog): no other row holds any of
  // its contents, so there is no donor on another inode — nor on its own, as long as it is not on the target.
  const primaryFiles = primary.payload!.files;
  if (primaryFiles === null && primary.payload!.fsId === target.id) return notLoaded(primary);
  // In relpath byte order, as SnapshotPayload.files is; relpaths are distinct (one payload root, distinct paths).
  const contentList: ContentFile[] | null = primaryFiles === null ? null : primaryFiles.map((f) => ({ relpath: f.relpath, size: f.size, sha256: f.sha256! }));
  const fileCount = contentList?.length ?? primary.payload!.fileCount;
  let contentMap: Map<string, ContentFile> | null = null;
  // Consulted only to reuse (compatible occupants), which content left to the catalog never is.
  const content = (): Map<string, ContentFile> => (contentMap ??= new Map((contentList ?? []).map((f) => [f.relpath, f])));
  // The files' sizes, every name counted (the copy step's record of what the catalog holds, checked by the executor);
  // and what the copy writes: each inode once — it links an inode's other names inside the payload
  // (src/apply/steps/copy.ts); files left to the catalog are their content's only copies (one name per inode).
  const bytes = contentList === null ? primary.payload!.bytes : sizeOf(contentList);
  const writes = primaryFiles === null ? bytes : inodeBytes(primaryFiles);

  // Donors already on the target filesystem, per file. A sha256 without a key in the snapshot has no copy other
  // than the payload files holding it (see CatalogSnapshot.copiesBySha256): on the payload's own filesystem those
  // files are its copies.
  const ownFiles = primary.payload!.fsId === target.id ? primary.payload!.files : null;
  let ownBySha: Map<string, CatalogFile[]> | null = null;
  const ownCopies = (sha: string): readonly CatalogFile[] => {
    if (ownFiles === null) return [];
    if (ownBySha === null) {
      ownBySha = new Map();
      for (const o of ownFiles) {
        if (o.sha256 === null) continue;
        const list = ownBySha.get(o.sha256);
        if (list) list.push(o);
        else ownBySha.set(o.sha256, [o]);
      }
    }
    return ownBySha.get(sha) ?? [];
  };
  const donorsByRel = new Map<string, CatalogFile[]>();
  const donorRoots = scannedRootsOf(config, fsName);
  const damaged = new Set((ix.snapshot.integrityProblems ?? []).map((p) => p.path));
  for (const f of contentList ?? []) {
    const copies = ix.copies.get(f.sha256) ?? ownCopies(f.sha256);
    if (copies.length === 0) continue;
    // Never a donor a client may still write (an unfinished download's placeholder can hash like real content).
    // Only inside a seeding or library root hashall.yaml gives the target (src/config/filesystem-roots.ts): apply's scope
    // check takes a donor from nowhere else — not from a library outside the target's path on the same filesystem.
    // Never a file whose bytes are known to be bad (an open integrity problem): the content is taken from elsewhere.
    const cands = copies.filter(
      (c) => c.fsId === target.id && c.size === f.size && c.sha256 === f.sha256 && !damaged.has(c.path) && ix.mayWrite(c.path) === null && insideRoots(ix, c.path) && rootHolding(config, c.path, donorRoots) !== null,
    );
    if (cands.length > 0) donorsByRel.set(f.relpath, cands);
  }
  // Each torrent's own files by relpath (siblings' relpaths are the primary's: equal payload hashes). A link from another
  // inode must leave every torrent of the view its file's owner, group and mode (keepsOwnMeta): a donor that does not
  // is no donor for that view.
  const ownLists = new Map<SnapshotPayload, Map<string, PayloadFile>>();
  const ownOf = (m: ReadyMember, rel: string): PayloadFile | undefined => {
    let list = ownLists.get(m.payload);
    if (list === undefined) ownLists.set(m.payload, (list = new Map((m.payload.files ?? []).map((f) => [f.relpath, f]))));
    return list.get(rel);
  };
  const keeps = (ms: readonly ReadyMember[], rel: string, donor: CatalogFile): boolean =>
    ms.every((m) => {
      const own = ownOf(m, rel);
      return own !== undefined && keepsOwnMeta(own, donor);
    });
  const fitting = (ms: readonly ReadyMember[], rel: string): CatalogFile[] => (donorsByRel.get(rel) ?? []).filter((c) => keeps(ms, rel, c));
  // Files held on the target, but on no inode showing the (every moving torrent's) own owner, group and mode.
  const otherMeta = (contentList ?? []).filter((f) => donorsByRel.has(f.relpath) && off.some((m) => fitting([m], f.relpath).length === 0));
  const reuse = contentList !== null && donorsByRel.size === contentList.length && otherMeta.length === 0;
  if (!reuse && promote) {
    const have = donorsByRel.size;
    if (contentList !== null && have === contentList.length) {
      return blocked([
        `${placement.reason}, but ${otherMeta.length} of its ${fileCount} files on ${fsName} (${donorsByRel.get(otherMeta[0]!.relpath)![0]!.path}${otherMeta.length > 1 ? ' …' : ''}) show another owner, group or mode than the torrent's own, or one that could not be read: linked, they would change owner or mode (dedupe never links such), and moving back to a library filesystem only reuses an existing copy — no blind copy`,
      ]);
    }
    return blocked([
      `${placement.reason}, but the content is not on ${fsName} (${have} of ${fileCount} files there): no blind copy — moving back to a library filesystem only reuses an existing copy`,
    ]);
  }

  // View roots, one per distinct target; the copy source's root first.
  const source = off[0]!;
  const notes: string[] = [];
  const rootOf = new Map<Member, string>();
  const views = new Map<string, ReadyMember[]>();
  for (const m of off) {
    const t = targetRoot(config, m.torrent, m.payload, fsName);
    if (t.root === null) return blocked([t.problem]);
    // Siblings may differ in shape (a one-file torrent with and without its folder): each view takes its torrent's.
    const r = resolveRoot(ix, state, t.root, hash, m.payload.kind, content, !reuse);
    if (r.root === null) return blocked([r.problem]);
    if (r.note && !notes.includes(r.note)) notes.push(r.note);
    rootOf.set(m, r.root);
    const list = views.get(r.root) ?? [];
    if (list.some((o) => o.payload.kind !== m.payload.kind)) {
      return blocked([`"${list[0]!.torrent.name}" and "${m.torrent.name}" would both use ${r.root}, one as a file and one as a folder`]);
    }
    list.push(m);
    views.set(r.root, list);
  }
  const sourceRoot = rootOf.get(source)!;
  const sourceKind = source.payload.kind;
  // The torrents of one view share its files: each file must show one owner, group and mode to all of them.
  for (const ms of views.values()) {
    for (const m of ms.slice(1)) {
      if (m.payload === ms[0]!.payload) continue;
      const differs = (contentList ?? []).find((f) => {
        const a = ownOf(ms[0]!, f.relpath);
        const b = ownOf(m, f.relpath);
        return a === undefined || b === undefined || !keepsOwnMeta(b, a);
      });
      if (differs !== undefined) {
        return blocked([`"${ms[0]!.torrent.name}" and "${m.torrent.name}" would share ${rootOf.get(m)!}, but their ${differs.relpath} are other inodes whose owner, group or mode differ or could not be read: one folder cannot give both their own`]);
      }
    }
  }
  const sourceView = views.get(rootOf.get(source)!)!;
  // Files of the source that share an inode with a file an earlier move of this plan copies to the same filesystem
  // (a cross-seed linked from a season pack), or has its content where dedupe policy links equal content: linked from
  // that copy, not copied again (linked-moves.ts).
  const sourceByRel = new Map((source.payload.files ?? []).map((f) => [f.relpath, f]));
  // Files of a move that a trusted donor already holds on the target (the rest of the payload is not there: a pack moved
  // by an earlier plan, this folder holding one of its episodes and a file of its own): linked from that donor, whose
  // bytes apply re-hashes before linking (LinkViewStep hashDonor), not copied. A promote never gets here (reuse only).
  // The donor: the bytewise-lowest path of those showing the source's own owner, group and mode (keeps). It lies in a
  // seeding root — another torrent's payload, or a file no torrent uses — since a filesystem holding a library is warm
  // and a move there is a promote; linking moves no donor.
  const lowest = (cands: readonly CatalogFile[]): CatalogFile | undefined => [...cands].sort((a, b) => compareBytes(a.path, b.path))[0];
  const present = new Map<string, CatalogFile>();
  if (!reuse) {
    for (const rel of donorsByRel.keys()) {
      const d = lowest(fitting(sourceView, rel));
      if (d !== undefined) present.set(rel, d);
    }
  }
  const linked = new Map<string, PlannedLink>();
  if (!reuse) {
    for (const f of contentList ?? []) {
      if (present.has(f.relpath)) continue;
      const sf = sourceByRel.get(f.relpath);
      const c = sf === undefined ? undefined : plannedCopyFor(state.copied, config, fsName, sf, f);
      if (c !== undefined) linked.set(f.relpath, c);
    }
  }
  // What this group copies: every file, or those neither present nor linked from another's copy (then listed: the
  // catalog holds more).
  const toCopy = linked.size === 0 && present.size === 0 ? null : contentList!.filter((f) => !linked.has(f.relpath) && !present.has(f.relpath));
  const sourceCopyWrites = toCopy === null ? writes : inodeBytes(toCopy.map((f) => sourceByRel.get(f.relpath)!));
  const copiedFromSource = new Set(reuse ? [] : (toCopy ?? contentList ?? []).map((f) => f.relpath));

  const donorFiles: CatalogFile[] = [];
  type Donor = { path: string; hash: boolean; metaOf?: LinkViewLink['metaOf'] };
  /** The link's own source for apply to re-read (metaOf): the view's torrent's file, unless the donor is (a copy of) that very inode. */
  const ownSource = (ms: readonly ReadyMember[], rel: string, of: Pick<CatalogFile, 'fsId' | 'ino'> | null): Pick<Donor, 'metaOf'> => {
    const own = ownOf(ms[0]!, rel)!;
    return of !== null && sameInode(own, of) ? {} : { metaOf: { fs: ms[0]!.fsName, path: own.path, ino: own.ino } };
  };
  const trusted = (d: CatalogFile): void => {
    if (!donorFiles.includes(d)) donorFiles.push(d);
  };
  /** Where the view of `ms` at `viewRoot` takes file `f` from; null: from nowhere that keeps its owner, group and mode — copied for that view. */
  const donorFor = (f: ContentFile, viewRoot: string, kind: 'file' | 'dir', ms: readonly ReadyMember[]): Donor | null => {
    const rel = f.relpath;
    const sf = sourceByRel.get(rel);
    const planned = linked.get(rel);
    // The copy of the source's inode (or of one showing its owner, group and mode): for every view whose file shows them too.
    if (planned !== undefined && sf !== undefined && keeps(ms, rel, sf)) return { path: planned.path, hash: false, ...ownSource(ms, rel, planned.sameInode ? sf : null) };
    const there = present.get(rel);
    if (there !== undefined && keeps(ms, rel, there)) {
      trusted(there);
      return { path: there.path, hash: true, ...ownSource(ms, rel, there) };
    }
    if (!reuse) {
      if (copiedFromSource.has(rel) && sf !== undefined && keeps(ms, rel, sf)) return { path: filePathIn(sourceRoot, sourceKind, rel), hash: false, ...ownSource(ms, rel, sf) };
      const other = lowest(fitting(ms, rel));
      if (other === undefined) return null;
      trusted(other);
      return { path: other.path, hash: true, ...ownSource(ms, rel, other) };
    }
    const cands = fitting(ms, rel);
    if (cands.length === 0) return null;
    const want = filePathIn(viewRoot, kind, rel);
    const best = cands.find((c) => c.path === want) ?? lowest(cands)!;
    donorFiles.push(best);
    return { path: best.path, hash: false, ...ownSource(ms, rel, best) };
  };
  // Each view's links, and the files copied for a view from its own torrent's source: a sibling on other inodes whose
  // file shows another owner, group or mode than every donor (or one that could not be read).
  const viewSteps: LinkViewStep[] = [];
  const siblingCopies: { ms: ReadyMember[]; root: string; files: ContentFile[] }[] = [];
  for (const [root, ms] of [...views].sort((a, b) => compareBytes(a[0], b[0]))) {
    const kind = ms[0]!.payload.kind;
    // The copy's own view: every file is copied to where the view wants it, so there is nothing to link (but the files
    // linked from another group's copy).
    if (!reuse && linked.size === 0 && present.size === 0 && root === sourceRoot && kind === sourceKind) continue;
    // Another view links every file: it needs the list (the reader leaves files to the catalog only without siblings).
    if (contentList === null) return notLoaded(ms[0]!);
    const links: LinkViewStep['links'] = [];
    const own: ContentFile[] = [];
    for (const f of contentList) {
      const donor = donorFor(f, root, kind, ms);
      if (donor === null) {
        if (reuse) return blocked([`no file on ${fsName} holding ${f.relpath} shows the owner, group and mode of "${ms[0]!.torrent.name}"'s own (or they could not be read)`]);
        own.push(f);
        continue;
      }
      const path = filePathIn(root, kind, f.relpath);
      if (donor.path !== path) links.push({ donor: donor.path, path, size: f.size, sha256: f.sha256, ...(donor.hash ? { hashDonor: true as const } : {}), ...(donor.metaOf ? { metaOf: donor.metaOf } : {}) });
    }
    if (own.length > 0) siblingCopies.push({ ms, root, files: own });
    if (links.length === 0) continue;
    const view: LinkViewStep = { kind: 'link-view', fs: fsName, torrentHash: ms[0]!.torrent.hash, root, links };
    if (kind === 'dir') view.expected = contentList.map((f) => f.relpath);
    viewSteps.push(view);
  }
  const ownWrites = siblingCopies.map((c) => inodeBytes(c.files.map((f) => ownOf(c.ms[0]!, f.relpath)!)));
  const copyWrites = sourceCopyWrites + ownWrites.reduce((n, b) => n + b, 0);

  if (!reuse) {
    const free = target.freeBytes;
    if (free === null) return blocked([`${placement.reason}, but free space on ${fsName} is unknown (refresh to measure it)`]);
    const after = free - (state.reserved.get(fsName) ?? 0) - copyWrites;
    if (after < config.safety.minFree) {
      return blocked([`${placement.reason}, but copying ${formatBytes(copyWrites)} to ${fsName} would leave ${formatBytes(Math.max(0, after))} free, below safety.minFree (${formatBytes(config.safety.minFree)})`]);
    }
  }

  const steps: PlanStep[] = [];
  if (!reuse && toCopy === null) {
    // The files are the source payload's catalog rows (the same list as the primary's: equal payload hashes): left to
    // the catalog at the plan's serial, read back by expandPlan.
    const copy: CopyStep = { kind: 'copy', fromFs: source.fsName, toFs: fsName, fromRoot: source.payload.rootPath, toRoot: sourceRoot, catalogFiles: fileCount, bytes };
    steps.push(copy);
  } else if (toCopy !== null && toCopy.length > 0) {
    // Only the files no donor and no earlier copy of the plan holds, listed (before the views that link the others in beside them).
    const files = toCopy.map((f) => ({ relpath: f.relpath, size: f.size, sha256: f.sha256 }));
    steps.push({ kind: 'copy', fromFs: source.fsName, toFs: fsName, fromRoot: source.payload.rootPath, toRoot: sourceRoot, files, bytes: sizeOf(files) });
  }
  for (const c of siblingCopies) {
    // A sibling's files that no donor holds with their owner, group and mode: from its own source into its own view.
    const files = c.files.map((f) => ({ relpath: f.relpath, size: f.size, sha256: f.sha256 }));
    steps.push({ kind: 'copy', fromFs: c.ms[0]!.fsName, toFs: fsName, fromRoot: c.ms[0]!.payload.rootPath, toRoot: c.root, files, bytes: sizeOf(files) });
    notes.push(
      `"${c.ms[0]!.torrent.name}" holds ${c.files.length === 1 ? `${c.files[0]!.relpath} on another inode` : `${c.files.length} of the files on other inodes`} with another owner, group or mode than the copy it would be linked from (or one that could not be read): copied for it on its own (${formatBytes(sizeOf(files))}), keeping its owner and mode`,
    );
  }
  steps.push(...viewSteps);
  for (const m of off) {
    // The payload root is one level below the save path (the torrent's root folder, or its only file); the client
    // reports content_path below the save path the same way after the move (a one-file torrent: the file, even
    // inside its folder).
    const root = rootOf.get(m)!;
    const saveHost = dirName(root);
    const toSave = hostToClient(mapsOf(config, m.torrent.client), saveHost);
    if (toSave === null) return blocked([`torrent client "${m.torrent.client}" cannot see ${saveHost}: no path map of that instance in hashall.yaml covers it`]);
    const expected = joinPath(toSave, m.contentRel);
    const step: RepointStep = {
      kind: 'repoint',
      client: m.torrent.client,
      torrentHash: m.torrent.hash,
      torrentName: m.torrent.name,
      fromSavePath: m.torrent.clientSavePath,
      toSavePath: toSave,
      expectedContentPath: expected,
      hostFrom: m.payload.rootPath,
      hostTo: root,
      bytes: m.payload.bytes, // = the torrent's file sizes: mapTorrentFiles proved the lists equal
    };
    steps.push(step);
  }

  if (!reuse) state.reserved.set(fsName, (state.reserved.get(fsName) ?? 0) + copyWrites);
  for (const root of views.keys()) claim(state, root, hash);
  if (!reuse) {
    // What later groups of the plan may link from: each file this group copies, by its source inode.
    for (const f of toCopy ?? contentList ?? []) {
      const sf = sourceByRel.get(f.relpath);
      if (sf === undefined) continue;
      recordPlannedCopy(state.copied, config, fsName, sf, { path: filePathIn(sourceRoot, sourceKind, f.relpath), size: f.size, sha256: f.sha256, key: group.key, title: group.title });
    }
    for (const c of siblingCopies) {
      for (const f of c.files) recordPlannedCopy(state.copied, config, fsName, ownOf(c.ms[0]!, f.relpath)!, { path: filePathIn(c.root, c.ms[0]!.payload.kind, f.relpath), size: f.size, sha256: f.sha256, key: group.key, title: group.title });
    }
    // Files the target holds, but on no inode showing the source's own owner, group and mode: copied, said so.
    const unfit = (contentList ?? []).filter((f) => donorsByRel.has(f.relpath) && !present.has(f.relpath));
    if (unfit.length > 0) {
      const at = lowest(donorsByRel.get(unfit[0]!.relpath)!)!.path;
      notes.push(
        `${unfit.length === 1 ? `${unfit[0]!.relpath} is` : `${unfit.length} of its files are`} already on ${fsName} (${at}${unfit.length > 1 ? ' …' : ''}), but with another owner, group or mode than its own (or one that could not be read): copied, not linked — a link would change its owner or mode, which dedupe never does`,
      );
    }
  }
  const leaders = [...new Set([...linked.values()].map((c) => c.key))];
  if (leaders.length > 0) state.follows.set(group.key, new Set(leaders));
  const presentPaths = [...new Set([...present.values()].map((d) => d.path))];
  const copiedPart = (n: number): string => (sourceCopyWrites > 0 ? `, the other ${n} copied (${formatBytes(sourceCopyWrites)}), verified by SHA-256` : ', nothing else is copied');
  const leaderTitles = [...new Set([...linked.values()].map((c) => `"${c.title}"`))].join(', ');
  const headline = reuse
    ? `the same content already exists on ${fsName}: building ${views.size === 1 ? 'the view' : `${views.size} views`} by hardlink, copying nothing`
    : present.size > 0
      ? `${present.size} of its ${fileCount} files ${present.size === 1 ? 'is' : 'are'} already on ${fsName} (${presentPaths[0]}${presentPaths.length > 1 ? ` and ${presentPaths.length - 1} more` : ''}): linked from there once apply re-hashed ${present.size === 1 ? 'it' : 'them'}${linked.size > 0 ? `, ${linked.size} linked from the copy of ${leaderTitles} this plan makes` : ''}${copiedPart(toCopy!.length)}`
      : linked.size > 0
      ? linkedMoveHeadline(linked, source.fsName, fsName, { files: toCopy!.length, bytes: sourceCopyWrites > 0 ? formatBytes(sourceCopyWrites) : null })
      : `no copy on ${fsName} yet: copying ${formatBytes(writes)} from ${source.fsName}, verified by SHA-256`;
  // Every file of every payload is fingerprinted by reference (their catalog rows at the plan's serial); donors inline.
  const payloads: CatalogPayloadRef[] = [];
  const seenPayloads = new Set<SnapshotPayload>();
  for (const m of ready) {
    if (seenPayloads.has(m.payload)) continue;
    seenPayloads.add(m.payload);
    payloads.push({ fs: m.fsName, root: m.payload.rootPath });
  }
  return {
    ...group,
    action: reuse ? 'reuse' : 'move',
    from: { fs: source.fsName, path: source.payload.rootPath },
    to: { fs: fsName, path: sourceRoot },
    reasons: [placement.reason + (promote ? ' (promote: reuse only)' : ''), headline, ...notes],
    bytesToCopy: reuse ? 0 : copyWrites,
    steps,
    fingerprint: { files: donorFiles.length > 0 ? fileFingerprints([donorFiles], true) : [], payloads, torrents: torrentFingerprints(ready) },
  };
}
