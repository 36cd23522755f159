// Retire groups: staged removal of a relocation's source once the target has proven itself (pure).
//
// Must never: retire while any torrent or external consumer still uses the source, while the source differs
// from what was relocated, before every relocated torrent has seeded from the target for observeHours, or
// when safety.retire.mode is `never`. Anything unknown blocks.
import type { SnapshotRelocation } from '../domain/snapshot.js';
import type { PlanGroup, RetireStep } from './types.js';
import { compareBytes } from '../domain/payload-hash.js';
import { baseName, isAtOrUnder, joinPath } from '../domain/path-string.js';
import { contentRelOf } from '../domain/listing.js';
import { formatBytes, formatDuration } from '../domain/format-bytes.js';
import { planTorrentOf } from './torrent-groups.js';
import { instanceOf, torrentKey, torrentLabel } from '../domain/instance.js';
import { scanProblem, rootCovering, type SnapshotIndex } from './snapshot-index.js';
import { isSettled } from '../domain/torrent-phase.js';
import { noTrashOn } from '../domain/trash-dir.js';
import { moveAbandoned, moveUndone, observedSince, relocatedTorrentState, type RelocatedTorrentState } from '../domain/move-undone.js';


export function planRetireGroups(ix: SnapshotIndex): Omit<PlanGroup, 'id'>[] {
  const { config, snapshot } = ix;
  if (config.safety.retire.mode === 'never') return [];
  const relocations = snapshot.relocations.filter((r) => r.retiredAt === null).sort((a, b) => a.id - b.id);
  if (relocations.length === 0) return []; // no index of every torrent to build
  const torrents = new Map(snapshot.torrents.map((t) => [torrentKey(t), t]));
  const out: Omit<PlanGroup, 'id'>[] = [];
  for (const rel of relocations) {
    const g = planOne(ix, rel, torrents);
    if (g !== null) out.push(g);
  }
  assignFreedBytes(ix, out);
  return out;
}

/**
 * A relocated torrent absent from the snapshot is known removed only when its instance's last sync succeeded (the
 * planner's freshness and failure checks below still apply to the whole group); otherwise where it is, is unknown.
 */
function knownRemoved(ix: SnapshotIndex, client: string | undefined): boolean {
  const state = ix.snapshot.clients?.[instanceOf({ client })];
  return state !== undefined && state.syncedAt !== null && state.failedAt === null;
}

/** Where each torrent relocation `rel` moved stands now (see moveUndone). */
function memberStates(ix: SnapshotIndex, rel: SnapshotRelocation, members: readonly (SnapshotIndex['snapshot']['torrents'][number] | undefined)[]): RelocatedTorrentState[] {
  return members.map((t, i) => {
    if (t === undefined) return knownRemoved(ix, rel.torrentClients?.[i]) ? 'removed' : 'other';
    const p = t.hostContentPath === null ? undefined : ix.snapshot.payloads[t.hostContentPath];
    const fs = { isSource: (id: number) => id === rel.sourceFsId, isTarget: (id: number) => id === rel.targetFsId };
    return relocatedTorrentState(rel, fs, { hostContentPath: t.hostContentPath, fsId: p?.fsId, payloadHash: p?.payloadHash });
  });
}

/**
 * The retire group of one open relocation, or null when every torrent it moved was removed from a client that answered:
 * nothing is left for it to prove, its source and target are plain files to the orphan rules now (never a group blocked
 * for good: users remove torrents every day, by hand or by ratio rules). One of several removed is no torrent using the
 * target; the others prove it. Null too when every torrent it moved that is still listed seeds from its source again
 * (the user moved it back by hand, or removed it and re-added it there): the move was undone, its source is live and
 * never to be retired (as a move back by hashall closes it), and a move onto the target again restarts its window.
 */
function planOne(ix: SnapshotIndex, rel: SnapshotRelocation, torrents: Map<string, SnapshotIndex['snapshot']['torrents'][number]>): Omit<PlanGroup, 'id'> | null {
  const { config, snapshot, now } = ix;
  const srcFs = ix.fsById.get(rel.sourceFsId)?.name ?? `fs#${rel.sourceFsId}`;
  const dstFs = ix.fsById.get(rel.targetFsId)?.name ?? `fs#${rel.targetFsId}`;
  const members = rel.torrentHashes.map((h, i) => torrents.get(torrentKey({ client: rel.torrentClients?.[i], hash: h })));
  const states = memberStates(ix, rel, members);
  // The move was undone by hand (a sync closes it too), or every torrent it moved is known removed or has left it.
  if (moveUndone(states) || moveAbandoned(states)) return null;
  const group: Omit<PlanGroup, 'id'> = {
    key: `retire:${rel.id}`,
    action: 'blocked',
    title: baseName(rel.sourceRoot),
    payloadHash: rel.payloadHash,
    torrents: members.filter((t) => t !== undefined).map(planTorrentOf),
    from: { fs: srcFs, path: rel.sourceRoot },
    to: { fs: dstFs, path: rel.targetRoot },
    reasons: [],
    rule: null,
    bytesToCopy: 0,
    bytesToFree: 0,
    steps: [],
    fingerprint: { files: [], torrents: [] },
  };
  const problems: string[] = [];
  if (snapshot.lastSyncAt === null) problems.push('the torrent client has never been synced (refresh, or run `hashall sync`)');
  else if (now - snapshot.lastSyncAt > config.safety.maxScanAgeHours * 3_600_000) {
    // "No torrent uses the source" is only as true as the last sync: a torrent added since may seed from it.
    problems.push(
      `the torrent client was last synced ${formatDuration(now - snapshot.lastSyncAt)} ago, longer than safety.maxScanAgeHours (${config.safety.maxScanAgeHours}h): refresh, or run \`hashall sync\``,
    );
  }
  // "No torrent uses the source" needs every instance: one that did not answer may seed from it.
  for (const [name, c] of Object.entries(snapshot.clients ?? {})) {
    if (c.failedAt !== null) problems.push(`torrent client "${name}" did not answer its last sync, so it may still seed from ${rel.sourceRoot}`);
  }
  if (rel.torrentHashes.length === 0) problems.push(`relocation ${rel.id} lists no torrents, so nothing proves the copy on ${dstFs} is in use`);
  rel.torrentHashes.forEach((h, i) => {
    const t = members[i];
    // Removed, or re-added elsewhere by hand: it proves nothing of the target, and needs nothing of the source.
    if (states[i] === 'removed' || states[i] === 'left') return;
    if (!t) {
      problems.push(`relocated torrent ${torrentLabel({ client: rel.torrentClients?.[i], hash: h })} is no longer in its client; cannot prove the target is in use`);
      return;
    }
    const p = t.hostContentPath === null ? undefined : snapshot.payloads[t.hostContentPath];
    if (!p || p.fsId !== rel.targetFsId || p.payloadHash !== rel.payloadHash) {
      problems.push(`torrent "${t.name}" does not point at the relocated content on ${dstFs} (it uses ${t.hostContentPath ?? t.clientContentPath})`);
    } else if (!isSettled(t)) {
      const left = t.amountLeft > 0 ? `, ${t.amountLeft} bytes left` : '';
      problems.push(`torrent "${t.name}" is ${t.phase} (${t.rawState}${left}), not healthy on ${dstFs}`);
    }
  });
  if (problems.length > 0) return { ...group, reasons: [...new Set(problems)] };

  const windowMs = config.safety.retire.observeHours * 3_600_000;
  // The window counts from the repoint, or from the last sync that saw a torrent of the move unhealthy on the target.
  // Wall-clock times recorded by earlier runs: no monotonic clock spans runs and reboots. A backward step only lengthens
  // the window; a forward one (or a repoint recorded while the clock was behind, then corrected) shortens it, and cannot
  // be told from time that passed. The window is the last of the proofs, not the only one: the retire still needs every
  // relocated torrent healthy on the target at a fresh sync, no user of the source, and is staged in the restorable trash.
  const since = observedSince(rel);
  const left = since + windowMs - now;
  if (left > 0) {
    // Say what happens then, and how much it frees (at most the payload: files also linked elsewhere stay).
    const then = snapshot.payloads[rel.sourceRoot];
    const frees = then ? `; then an apply retires ${rel.sourceRoot} on ${srcFs}, freeing up to ${formatBytes(then.bytes)}` : '';
    const restarted = rel.unhealthy && rel.unhealthy.at > rel.repointedAt ? `; restarted by the sync at ${new Date(rel.unhealthy.at).toISOString()}: ${rel.unhealthy.what} on ${dstFs}` : '';
    return {
      ...group,
      action: 'pending',
      reasons: [
        `observing the new location before removing the old copy: ${formatDuration(left)} left of ${config.safety.retire.observeHours}h (until ${new Date(since + windowMs).toISOString()}${restarted})${frees}`,
      ],
    };
  }

  const src = snapshot.payloads[rel.sourceRoot];
  if (!src) return { ...group, reasons: [`source ${rel.sourceRoot} is not in the catalog (already removed, or not scanned)`] };
  const checks: string[] = [];
  if (ix.fsById.get(rel.sourceFsId)?.name == null) checks.push(`the source filesystem of relocation ${rel.id} is not declared in hashall.yaml (renamed or removed?)`);
  else if (src.fsId !== rel.sourceFsId) checks.push(`${rel.sourceRoot} is on another filesystem than the relocation recorded (${srcFs})`);
  if (ix.fsById.get(rel.targetFsId)?.name == null) checks.push(`the target filesystem of relocation ${rel.id} is not declared in hashall.yaml (renamed or removed?)`);
  if (ix.fsById.get(rel.sourceFsId)?.permissionsKept === false) checks.push(noTrashOn(srcFs, rel.sourceRoot));
  const sp = scanProblem(ix, rootCovering(ix, rel.sourceRoot), rel.sourceRoot, 'source');
  if (sp) checks.push(sp);
  if (src.payloadHash === null) checks.push(`the source ${rel.sourceRoot} has files without a full SHA-256; cannot prove it is the relocated content`);
  else if (src.payloadHash !== rel.payloadHash) checks.push(`the source ${rel.sourceRoot} changed since it was relocated (payload hash differs)`);
  const users = snapshot.torrents.filter((t) => mayUse(t, rel.sourceRoot));
  if (users.length > 0) checks.push(`torrent "${users[0]!.name}" still uses ${rel.sourceRoot}`);
  // A torrent without a host spelling could be seeding from the source under a path hashall cannot translate.
  const unplaced = snapshot.torrents.filter((t) => t.hostContentPath === null);
  if (unplaced.length > 0) {
    const more = unplaced.length > 1 ? ` (and ${unplaced.length - 1} more)` : '';
    checks.push(`torrent "${unplaced[0]!.name}"${more} has no host spelling (${unplaced[0]!.clientContentPath || 'no content path'}), so it may still use ${rel.sourceRoot}`);
  }
  if (src.consumers.status === 'some') {
    const link = src.consumers.symlinks?.[0];
    checks.push(src.consumers.paths.length === 0 && link !== undefined ? `a symlink still reaches the source by path (${link})` : `an external consumer still links the source (${src.consumers.paths[0] ?? 'consumer'})`);
  }
  if (src.consumers.status === 'unknown') checks.push(`external-consumer status of the source is unknown${src.consumers.reasons.length ? `: ${src.consumers.reasons.join('; ')}` : ''}`);
  for (const p of ix.libraryProblems) checks.push(`${p}; external consumers cannot be ruled out`);
  const target = snapshot.payloads[rel.targetRoot];
  if (src.files === null || (target !== undefined && target.files === null)) checks.push(`the file lists of ${rel.sourceRoot} were not loaded with the catalog snapshot (plan again)`);
  if (checks.length > 0) return { ...group, reasons: checks };

  const step: RetireStep = { kind: 'retire', fs: srcFs, root: rel.sourceRoot, payloadHash: rel.payloadHash, keptRoot: rel.targetRoot, keptFs: dstFs, relocationId: rel.id, bytes: 0 };
  const files = [...src.files!, ...(target?.files ?? [])].map((f) => ({ path: f.path, ino: f.ino, size: f.size, mtimeNs: f.mtimeNs, nlink: f.nlink }));
  files.sort((a, b) => compareBytes(a.path, b.path));
  const ts = members.filter((t) => t !== undefined).map((t) => ({ client: t.client, hash: t.hash, phase: t.phase, clientSavePath: t.clientSavePath, clientContentPath: t.clientContentPath }));
  return {
    ...group,
    action: 'retire',
    reasons: [
      `every relocated torrent has seeded from ${rel.targetRoot} on ${dstFs} for ${formatDuration(now - observedSince(rel))} (observeHours ${config.safety.retire.observeHours})`,
      `the source is no longer used by any torrent or external consumer and matches the relocated content; it is renamed aside, re-checked, then deleted`,
    ],
    steps: [step],
    fingerprint: { files, torrents: ts },
  };
}

/**
 * True when torrent `t` may seed from `root`: its payload root is `root`, lies under it or holds it. A torrent without
 * a root folder reports its save directory as content path: it holds `root` only through one of its own files there
 * (when its file list is known; unknown counts as a use).
 */
function mayUse(t: SnapshotIndex['snapshot']['torrents'][number], root: string): boolean {
  const c = t.hostContentPath;
  if (c === null) return false; // counted apart: a torrent without a host spelling blocks every retire
  if (isAtOrUnder(c, root)) return true;
  if (!isAtOrUnder(root, c)) return false;
  if (contentRelOf(t) !== '' || t.files === null) return true;
  return t.files.some((f) => {
    const p = joinPath(c, f.name);
    return isAtOrUnder(p, root) || isAtOrUnder(root, p);
  });
}

/**
 * Bytes actually freed: an inode is freed when all its links lie in sources retired by this plan (sibling
 * views hardlinked on the source filesystem are freed together). Counted once, on the first group holding it.
 */
function assignFreedBytes(ix: SnapshotIndex, groups: Omit<PlanGroup, 'id'>[]): void {
  const linksInPlan = new Map<string, number>();
  const sources = groups.filter((g) => g.action === 'retire').map((g) => ix.snapshot.payloads[g.from!.path]!);
  for (const s of sources) for (const f of s.files ?? []) linksInPlan.set(`${f.fsId}:${f.ino}`, (linksInPlan.get(`${f.fsId}:${f.ino}`) ?? 0) + 1);
  const counted = new Set<string>();
  for (const g of groups) {
    if (g.action !== 'retire') continue;
    const src = ix.snapshot.payloads[g.from!.path]!;
    let freed = 0;
    for (const f of src.files ?? []) {
      const k = `${f.fsId}:${f.ino}`;
      if (counted.has(k)) continue;
      if ((linksInPlan.get(k) ?? 0) >= f.nlink) {
        freed += f.size;
        counted.add(k);
      }
    }
    g.bytesToFree = freed;
    const step = g.steps[0];
    if (step && step.kind === 'retire') step.bytes = freed;
  }
}
