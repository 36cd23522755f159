// `hashall verify --repair`: for each corrupted inode, a copy hashall can prove good (another inode with the recorded
// SHA-256, re-hashed now) is restored through the executor — lock, journal, verify, rollback, run record — and the
// integrity problem is closed as repaired. Without such a copy, a torrent holding the file is rechecked in its client
// (a `recheck` step through the same executor) so it re-downloads the damaged pieces from the swarm; the problem stays
// open until `hashall verify` reads the file whole again. With neither, nothing is changed and the report says what to do.
import path from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import { activeInodePaths, sameContentPaths, type SameContentRow } from '../catalog/files-table.js';
import { filesystemLabels } from '../catalog/filesystems.js';
import { activeTorrentsWithContent, type TorrentWithContent } from '../catalog/torrent-row.js';
import { integrityStore, openIntegrityProblems, type IntegrityProblem } from '../catalog/integrity.js';
import type { ClientSet } from '../clients/client-set.js';
import type { ClientTorrent } from '../clients/types.js';
import type { HashallConfig } from '../config/types.js';
import { baseName, isAtOrUnder, relativeTo } from '../domain/path-string.js';
import { torrentKey } from '../domain/instance.js';
import { compareBytes } from '../domain/payload-hash.js';
import { summarize } from '../plan/summary.js';
import { PLAN_FORMAT_VERSION, type Plan, type PlanGroup, type RecheckStep, type RepairStep } from '../plan/types.js';
import type { RescanRoot } from '../apply/bookkeeping.js';
import type { Emit } from '../apply/events.js';
import { realFsPort, type FsPort } from '../apply/fs-port.js';
import { runApply } from './apply.js';

export interface RepairOutcome {
  /** Every active path of the damaged inode. */
  paths: string[];
  fs: string;
  size: number;
  sha256: string;
  /**
   * repaired: restored from a good copy. needs-redownload: no good copy; the torrent in `recheck` was rechecked (or
   * already was incomplete) and re-downloads the damaged pieces from the swarm. failed: the step was rolled back.
   * no-good-copy: nothing could be done (no copy, no torrent, or its client could not be asked).
   */
  status: 'repaired' | 'needs-redownload' | 'failed' | 'no-good-copy';
  /** The good copy restored from (repaired, failed). */
  source: string | null;
  /** Catalogued copies that were tried and no longer hash to the recorded SHA-256 (or changed). */
  rejected: { path: string; why: string }[];
  /** Torrents whose payload holds the file, by identity (client instance, info-hash). */
  torrents: { client: string; name: string; hash: string }[];
  /** The torrent asked to recheck (no good copy), as its client reported it afterwards. */
  recheck: { client: string; name: string; hash: string; progress: number | null; state: string | null; running: boolean | null } | null;
  runId: string | null;
  error: string | null;
}

export interface RepairInput {
  catalog: CatalogDb;
  config: HashallConfig;
  clients: ClientSet;
  /** Only the problems with a path at or under one of these (empty: every open corrupted problem). */
  paths: string[];
  now: () => number;
  emit: Emit;
  fs?: FsPort;
  rescanRoot?: RescanRoot;
  log?: (line: string) => void;
  stop?: AbortSignal;
  /** Journal boundaries (the test crash hook, see apply/crash-hook.ts). */
  onBoundary?: (what: string) => void;
}

type Candidate = SameContentRow;

/** Active paths of an inode, sorted. */
function inodePaths(catalog: CatalogDb, fsId: number, ino: number): string[] {
  const rows = activeInodePaths(catalog.db, fsId, ino);
  return rows.sort(compareBytes);
}

/** Other catalogued inodes with the same recorded content and no open problem of their own: the same filesystem first. */
function candidates(catalog: CatalogDb, p: IntegrityProblem): Candidate[] {
  const rows = sameContentPaths(catalog.db, p.expected, p.size, p.fsId, p.ino);
  const seen = new Set<string>();
  return rows
    .sort((a, b) => Number(b.fsId === p.fsId) - Number(a.fsId === p.fsId) || compareBytes(a.path, b.path))
    .filter((c) => {
      const k = `${c.fsId}:${c.ino}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}

/** The first candidate that is still the catalogued inode and re-hashes, every byte, to the recorded SHA-256. */
async function proveGood(fs: FsPort, p: IntegrityProblem, list: Candidate[], rejected: RepairOutcome['rejected']): Promise<Candidate | null> {
  for (const c of list) {
    const st = await fs.lstat(c.path);
    if (!st || st.kind !== 'file' || st.ino !== c.ino || st.size !== c.size || st.mtimeNs !== c.mtimeNs) {
      rejected.push({ path: c.path, why: 'changed since the last scan' });
      continue;
    }
    const h = await fs.hashFile(c.path);
    if (h === p.expected) return c;
    rejected.push({ path: c.path, why: `reads as ${h.slice(0, 16)}…, not the recorded ${String(p.expected).slice(0, 16)}… (damaged too: \`hashall verify\` it)` });
  }
  return null;
}

type HoldingTorrent = TorrentWithContent;

/**
 * Torrents whose content root holds one of `paths`, each by its identity (client instance, info-hash): two instances may
 * seed the same info-hash, and each is its own torrent. Sorted by instance, then hash.
 */
export function torrentsHolding(catalog: CatalogDb, paths: string[]): HoldingTorrent[] {
  const rows = activeTorrentsWithContent(catalog.db);
  return rows.filter((t) => paths.some((p) => isAtOrUnder(p, t.root)));
}

/** The damaged files of `t`, relative to its content root (the basename for a one-file torrent whose root is the file). */
function damagedOf(t: HoldingTorrent, paths: string[], p: IntegrityProblem): RecheckStep['damaged'] {
  return paths
    .filter((x) => isAtOrUnder(x, t.root))
    .map((x) => ({ path: x, relpath: relativeTo(x, t.root) || baseName(x), ino: p.ino, size: p.size, mtimeNs: p.mtimeNs }));
}

/**
 * The torrent to recheck for a damaged inode: one only (siblings sharing the inode find it whole once it is). One its
 * client reports incomplete already needs no recheck (an earlier one ran); else the first complete one — running before
 * paused, so the re-download starts. Null when no client could be read or none is settled.
 */
async function pickTorrent(clients: ClientSet, holding: HoldingTorrent[], live: Map<string, ClientTorrent | null>, errors: string[]): Promise<{ t: HoldingTorrent; live: ClientTorrent } | null> {
  const seen: { t: HoldingTorrent; live: ClientTorrent }[] = [];
  for (const t of holding) {
    const key = torrentKey(t);
    if (!live.has(key)) {
      const client = clients.find(t.client);
      if (!client) {
        errors.push(`client "${t.client}" of torrent ${t.name} is not configured`);
        live.set(key, null);
        continue;
      }
      try {
        live.set(key, await client.getTorrent(t.hash));
      } catch (err) {
        errors.push(`client "${t.client}" could not be read: ${(err as Error).message}`);
        live.set(key, null);
      }
    }
    const l = live.get(key);
    if (l) seen.push({ t, live: l });
  }
  const complete = (x: ClientTorrent): boolean => x.progress >= 1 && (x.phase === 'seeding' || x.phase === 'paused-complete');
  const incomplete = (x: ClientTorrent): boolean => x.progress < 1 && (x.phase === 'downloading' || x.phase === 'paused-incomplete');
  // One already re-downloading (an earlier recheck) is the one: never a second recheck of the same content.
  return (
    seen.find((s) => incomplete(s.live) && s.live.running) ??
    seen.find((s) => complete(s.live) && s.live.running) ??
    seen.find((s) => incomplete(s.live)) ??
    seen.find((s) => complete(s.live)) ??
    null
  );
}

/** A group asking one torrent's client for a recheck of it. `torrents` stays empty: apply's guard wants every torrent it touched complete, and this one is meant to leave complete. */
function recheckGroup(n: number, t: HoldingTorrent, live: ClientTorrent, fsName: string, damaged: RecheckStep['damaged']): PlanGroup {
  const step: RecheckStep = {
    kind: 'recheck',
    client: t.client,
    torrentHash: t.hash,
    torrentName: t.name,
    clientSavePath: live.savePath,
    clientContentPath: live.contentPath,
    hostRoot: t.root,
    fs: fsName,
    damaged,
    bytes: t.size,
  };
  return {
    id: `g${n}`,
    key: `recheck:${torrentKey(t)}`,
    action: 'repair',
    title: t.name,
    payloadHash: null,
    torrents: [],
    from: null,
    to: { fs: fsName, path: t.root },
    reasons: [
      `${damaged.map((d) => d.path).join(', ')} corrupted (same size and mtime as recorded, other bytes) and no good copy exists`,
      `torrent ${t.name} (${t.client}/${t.hash.slice(0, 8)}) holds it: its client rechecks it and it needs re-download from the swarm`,
    ],
    rule: null,
    bytesToCopy: 0,
    bytesToFree: 0,
    steps: [step],
    fingerprint: {
      files: damaged.map((d) => ({ path: d.path, ino: d.ino, size: d.size, mtimeNs: d.mtimeNs })),
      torrents: [{ client: t.client, hash: t.hash, phase: live.phase, clientSavePath: live.savePath, clientContentPath: live.contentPath }],
    },
  };
}

function repairGroup(n: number, p: IntegrityProblem, fsName: string, paths: string[], c: Candidate, why: string[]): PlanGroup {
  const step: RepairStep = {
    kind: 'repair',
    fs: fsName,
    paths,
    damaged: { ino: p.ino, size: p.size, mtimeNs: p.mtimeNs },
    sha256: p.expected!,
    source: { fs: c.fs, path: c.path, ino: c.ino, size: c.size, mtimeNs: c.mtimeNs },
  };
  return {
    id: `g${n}`,
    key: `repair:${p.fsId}:${p.ino}`,
    action: 'repair',
    title: path.basename(paths[0]!),
    payloadHash: null,
    torrents: [],
    from: { fs: c.fs, path: c.path },
    to: { fs: fsName, path: paths[0]! },
    reasons: why,
    rule: null,
    bytesToCopy: p.size,
    bytesToFree: 0,
    steps: [step],
    // Apply refuses the group if the damaged file (every path) or the good copy changed since they were chosen.
    fingerprint: {
      files: [...paths.map((f) => ({ path: f, ino: p.ino, size: p.size, mtimeNs: p.mtimeNs })), { path: c.path, ino: c.ino, size: c.size, mtimeNs: c.mtimeNs }],
      torrents: [],
    },
  };
}

/** Why a group did not end done: its error, or that a stop signal ended the run before it (rolled back, or not started). */
function notDone(r: { status: string; error: string | null } | undefined, stop: AbortSignal | undefined): string {
  if (stop?.aborted) return `stopped by ${String(stop.reason)}: ${r?.status === 'rolled-back' ? 'rolled back' : 'not started'}${r?.error ? ` (${r.error})` : ''}`;
  return r?.error ?? `not run (${r?.status ?? 'skipped'})`;
}

export async function repairCorrupted(input: RepairInput): Promise<RepairOutcome[]> {
  const { catalog, config } = input;
  const fs = input.fs ?? realFsPort();
  const fsNames = filesystemLabels(catalog.db, { orIdentity: true }) as Map<number, string>;
  const problems = openIntegrityProblems(catalog).filter((p) => p.kind === 'corrupted' && p.expected !== null);
  const outcomes: RepairOutcome[] = [];
  const groups: { group: PlanGroup; problem: IntegrityProblem; outcome: RepairOutcome }[] = [];
  // No good copy: one recheck per torrent, for every damaged inode it holds.
  const rechecks = new Map<string, { t: HoldingTorrent; live: ClientTorrent; fs: string; damaged: RecheckStep['damaged']; outcomes: RepairOutcome[] }>();
  const live = new Map<string, ClientTorrent | null>();
  for (const p of problems) {
    const paths = inodePaths(catalog, p.fsId, p.ino);
    if (paths.length === 0) continue;
    if (input.paths.length > 0 && !paths.some((x) => input.paths.some((w) => isAtOrUnder(x, w)))) continue;
    const fsName = fsNames.get(p.fsId) ?? String(p.fsId);
    const holding = torrentsHolding(catalog, paths);
    const outcome: RepairOutcome = {
      paths,
      fs: fsName,
      size: p.size,
      sha256: p.expected!,
      status: 'no-good-copy',
      source: null,
      rejected: [],
      torrents: holding.map(({ client, name, hash }) => ({ client, name, hash })),
      recheck: null,
      runId: null,
      error: null,
    };
    outcomes.push(outcome);
    if (!config.filesystems[fsName]) {
      outcome.error = `filesystem ${fsName} is not in hashall.yaml`;
      continue;
    }
    const good = await proveGood(fs, p, candidates(catalog, p).filter((c) => config.filesystems[c.fs]), outcome.rejected);
    if (good) {
      // A good copy exists: repair from it, never through the swarm.
      outcome.source = good.path;
      const why = [`${paths[0]} is corrupted (same size and mtime as recorded, other bytes)`, `${good.path} on ${good.fs} re-hashed to the recorded SHA-256 just now: restoring from it`];
      groups.push({ group: repairGroup(groups.length + 1, p, fsName, paths, good, why), problem: p, outcome });
      continue;
    }
    if (holding.length === 0) continue;
    const errors: string[] = [];
    const pick = await pickTorrent(input.clients, holding, live, errors);
    if (!pick) {
      outcome.error = `no torrent holding it can recheck it now (${errors.length > 0 ? errors.join('; ') : 'each is checking, moving, missing files or in error in its client'})`;
      continue;
    }
    const key = `${torrentKey(pick.t)}\u0000${fsName}`;
    const r = rechecks.get(key) ?? { t: pick.t, live: pick.live, fs: fsName, damaged: [], outcomes: [] };
    r.damaged.push(...damagedOf(pick.t, paths, p));
    r.outcomes.push(outcome);
    rechecks.set(key, r);
  }
  // Rechecks after the repairs (groups without client steps run one at a time, in plan order).
  const asked = [...rechecks.values()].map((r, i) => ({ ...r, group: recheckGroup(groups.length + i + 1, r.t, r.live, r.fs, r.damaged) }));
  if (groups.length === 0 && asked.length === 0) return outcomes;
  const now = input.now();
  const plan: Plan = {
    formatVersion: PLAN_FORMAT_VERSION,
    createdAt: new Date(now).toISOString(),
    configPath: config.configPath,
    configHash: config.configHash,
    catalog: { lineage: catalog.lineage, serial: catalog.serial() },
    groups: [...groups.map((g) => g.group), ...asked.map((a) => a.group)],
    summary: summarize([...groups.map((g) => g.group), ...asked.map((a) => a.group)]),
  };
  const { result } = await runApply({
    config,
    clients: input.clients,
    plan,
    planFile: null,
    planHash: null,
    command: 'hashall verify --repair',
    now: input.now,
    emit: input.emit,
    fs,
    catalog,
    rescanRoot: input.rescanRoot,
    log: input.log,
    stop: input.stop,
    onBoundary: input.onBoundary,
  });
  const store = integrityStore(catalog);
  catalog.db.transaction(() => {
    let changed = false;
    for (const { group, problem, outcome } of groups) {
      const r = result.groups.find((g) => g.id === group.id);
      outcome.runId = result.runId;
      if (r?.status === 'done') {
        outcome.status = 'repaired';
        changed = store.resolve(problem.fsId, problem.ino, 'repaired', input.now()) || changed;
      } else {
        outcome.status = 'failed';
        outcome.error = notDone(r, input.stop);
      }
    }
    if (changed) catalog.bumpSerial();
  })();
  for (const a of asked) {
    const r = result.groups.find((g) => g.id === a.group.id);
    // How the client reports the torrent now (progress, state), for the report; a failed read leaves them unknown.
    const now = r?.status === 'done' ? await input.clients.find(a.t.client)?.getTorrent(a.t.hash).catch(() => null) : null;
    for (const outcome of a.outcomes) {
      outcome.runId = result.runId;
      outcome.recheck = { client: a.t.client, name: a.t.name, hash: a.t.hash, progress: now?.progress ?? null, state: now?.rawState ?? null, running: now?.running ?? null };
      if (r?.status === 'done') outcome.status = 'needs-redownload';
      else {
        outcome.status = 'failed';
        outcome.error = notDone(r, input.stop);
      }
    }
  }
  return outcomes;
}
