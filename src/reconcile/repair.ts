// `hashall verify --repair`: for each corrupted inode, a copy hashall can prove good (another inode with the recorded
// SHA-256, re-hashed now) is restored through the executor — lock, journal, verify, rollback, run record — and the
// integrity problem is closed as repaired. Without such a copy nothing is changed and the report says what to do.
import path from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import { integrityStore, openIntegrityProblems, type IntegrityProblem } from '../catalog/integrity.js';
import type { ClientSet } from '../clients/client-set.js';
import type { HashallConfig } from '../config/types.js';
import { isAtOrUnder } from '../domain/path-string.js';
import { compareBytes } from '../domain/payload-hash.js';
import { summarize } from '../plan/summary.js';
import { PLAN_FORMAT_VERSION, type Plan, type PlanGroup, type RepairStep } from '../plan/types.js';
import type { RecordTree } from '../apply/bookkeeping.js';
import type { Emit } from '../apply/events.js';
import { realFsPort, type FsPort } from '../apply/fs-port.js';
import { runApply } from './apply.js';

export interface RepairOutcome {
  /** Every active path of the damaged inode. */
  paths: string[];
  fs: string;
  size: number;
  sha256: string;
  status: 'repaired' | 'failed' | 'no-good-copy';
  /** The good copy restored from (repaired, failed). */
  source: string | null;
  /** Catalogued copies that were tried and no longer hash to the recorded SHA-256 (or changed). */
  rejected: { path: string; why: string }[];
  /** Torrents whose payload holds the file: a recheck in the client re-downloads the damaged pieces. */
  torrents: { name: string; hash: string }[];
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
  recordTree?: RecordTree;
  log?: (line: string) => void;
  stop?: AbortSignal;
}

interface Candidate {
  fsId: number;
  fs: string;
  ino: number;
  size: number;
  mtimeNs: string;
  path: string;
}

/** Active paths of an inode, sorted. */
function inodePaths(catalog: CatalogDb, fsId: number, ino: number): string[] {
  const rows = catalog.db.prepare(`SELECT abs_path FROM file_paths WHERE fs_id = ? AND ino = ? AND status = 'active'`).pluck().all(fsId, ino) as string[];
  return rows.sort(compareBytes);
}

/** Other catalogued inodes with the same recorded content and no open problem of their own: the same filesystem first. */
function candidates(catalog: CatalogDb, p: IntegrityProblem): Candidate[] {
  const rows = catalog.db
    .prepare(
      `SELECT f.fs_id AS fsId, coalesce(fs.name, fs.uuid) AS fs, f.ino AS ino, f.size AS size, f.mtime_ns AS mtimeNs, f.abs_path AS path
       FROM file_paths f JOIN filesystems fs ON fs.id = f.fs_id
       WHERE f.sha256 = ? AND f.size = ? AND f.status = 'active' AND NOT (f.fs_id = ? AND f.ino = ?)
         AND NOT EXISTS (SELECT 1 FROM integrity_problems q WHERE q.fs_id = f.fs_id AND q.ino = f.ino AND q.resolved_at IS NULL)`,
    )
    .all(p.expected, p.size, p.fsId, p.ino) as Candidate[];
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

function torrentsHolding(catalog: CatalogDb, paths: string[]): { name: string; hash: string }[] {
  const rows = catalog.db.prepare(`SELECT name, hash, host_content_path AS root FROM torrents WHERE status = 'active' AND host_content_path IS NOT NULL`).all() as {
    name: string;
    hash: string;
    root: string;
  }[];
  return rows.filter((t) => paths.some((p) => isAtOrUnder(p, t.root))).map(({ name, hash }) => ({ name, hash }));
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

export async function repairCorrupted(input: RepairInput): Promise<RepairOutcome[]> {
  const { catalog, config } = input;
  const fs = input.fs ?? realFsPort();
  const fsNames = new Map((catalog.db.prepare(`SELECT id, coalesce(name, uuid) AS name FROM filesystems`).all() as { id: number; name: string }[]).map((r) => [r.id, r.name]));
  const problems = openIntegrityProblems(catalog).filter((p) => p.kind === 'corrupted' && p.expected !== null);
  const outcomes: RepairOutcome[] = [];
  const groups: { group: PlanGroup; problem: IntegrityProblem; outcome: RepairOutcome }[] = [];
  for (const p of problems) {
    const paths = inodePaths(catalog, p.fsId, p.ino);
    if (paths.length === 0) continue;
    if (input.paths.length > 0 && !paths.some((x) => input.paths.some((w) => isAtOrUnder(x, w)))) continue;
    const fsName = fsNames.get(p.fsId) ?? String(p.fsId);
    const outcome: RepairOutcome = { paths, fs: fsName, size: p.size, sha256: p.expected!, status: 'no-good-copy', source: null, rejected: [], torrents: torrentsHolding(catalog, paths), runId: null, error: null };
    outcomes.push(outcome);
    if (!config.filesystems[fsName]) {
      outcome.error = `filesystem ${fsName} is not in hashall.yaml`;
      continue;
    }
    const good = await proveGood(fs, p, candidates(catalog, p).filter((c) => config.filesystems[c.fs]), outcome.rejected);
    if (!good) continue;
    outcome.source = good.path;
    const why = [`${paths[0]} is corrupted (same size and mtime as recorded, other bytes)`, `${good.path} on ${good.fs} re-hashed to the recorded SHA-256 just now: restoring from it`];
    groups.push({ group: repairGroup(groups.length + 1, p, fsName, paths, good, why), problem: p, outcome });
  }
  if (groups.length === 0) return outcomes;
  const now = input.now();
  const plan: Plan = {
    formatVersion: PLAN_FORMAT_VERSION,
    createdAt: new Date(now).toISOString(),
    configPath: config.configPath,
    configHash: config.configHash,
    catalog: { lineage: catalog.lineage, serial: catalog.serial() },
    groups: groups.map((g) => g.group),
    summary: summarize(groups.map((g) => g.group)),
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
    recordTree: input.recordTree,
    log: input.log,
    stop: input.stop,
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
        outcome.error = r?.error ?? `not run (${r?.status ?? 'skipped'})`;
      }
    }
    if (changed) catalog.bumpSerial();
  })();
  return outcomes;
}
