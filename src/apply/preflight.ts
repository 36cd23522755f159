// Refuses a stale saved plan before anything is touched: catalog lineage/serial, config hash, every group's fingerprint, free space.
import { FsError, StalePlanError, HashallError } from '../errors.js';
import type { CatalogDb } from '../catalog/db.js';
import type { ClientSet } from '../clients/client-set.js';
import { instanceOf, torrentKey, torrentLabel } from '../domain/instance.js';
import type { HashallConfig } from '../config/types.js';
import { ACTIONABLE, PLAN_FORMAT_VERSION, type Plan } from '../plan/types.js';
import type { FsPort } from './fs-port.js';
import { filesystemGuard, stepPlaces } from './on-filesystem.js';
import { torrentListDigest } from '../plan/orphan-groups.js';
import { hasCatalogRefs } from './plan-expand.js';
import { listTorrentHashes } from '../clients/torrent-lists.js';

export interface PreflightDeps {
  catalog: CatalogDb;
  config: HashallConfig;
  clients: ClientSet;
  fs: FsPort;
}

export function actionableGroups(plan: Plan) {
  return plan.groups.filter((g) => ACTIONABLE.includes(g.action) && g.steps.length > 0);
}

/** The first refusal per filesystem of the plan's places that are not on the filesystem they name (see on-filesystem.ts). */
async function unprovenFilesystems(plan: Plan, deps: PreflightDeps): Promise<string[]> {
  const guard = filesystemGuard({ catalog: deps.catalog, config: deps.config, fs: deps.fs });
  const out = new Map<string, string>();
  for (const g of actionableGroups(plan)) {
    for (const place of g.steps.flatMap((s) => stepPlaces(s, g))) {
      if (out.has(place.fs)) continue;
      try {
        await guard.prove([place]);
      } catch (err) {
        out.set(place.fs, (err as Error).message);
      }
    }
  }
  return [...out.values()];
}

/** Throws StalePlanError (exit 5) naming the first mismatch groups; HashallError for a plan this version cannot read. */
export async function preflight(plan: Plan, deps: PreflightDeps): Promise<void> {
  if (plan.formatVersion !== PLAN_FORMAT_VERSION) {
    throw new HashallError(`saved plan has format version ${String(plan.formatVersion)}; this hashall reads version ${PLAN_FORMAT_VERSION}`, { hint: 'run `hashall plan` with this version' });
  }
  // Checking a fingerprint whose files are still left to the catalog would check nothing: expandPlan comes first.
  if (hasCatalogRefs(plan)) throw new Error('preflight of a plan whose per-file lists were not read from the catalog (expandPlan)');
  const problems: string[] = [];
  if (plan.catalog.lineage !== deps.catalog.lineage) problems.push(`the plan was made from another catalog (lineage ${plan.catalog.lineage}, this one is ${deps.catalog.lineage})`);
  else if (plan.catalog.serial !== deps.catalog.serial()) problems.push(`the catalog changed since planning (serial ${plan.catalog.serial} → ${deps.catalog.serial()})`);
  if (plan.configHash !== deps.config.configHash) {
    problems.push(
      plan.configPath === deps.config.configPath
        ? `${plan.configPath} changed since planning`
        : `the plan was made with ${plan.configPath}; this apply reads ${deps.config.configPath}, another config (apply the plan with \`--config ${plan.configPath}\`, or plan again with this one)`,
    );
  }
  const groups = actionableGroups(plan);
  const needsClient = groups.some((g) => g.fingerprint.torrents.length > 0);
  const live = new Map<string, { phase: string; savePath: string; contentPath: string }>();
  if (needsClient) {
    if (deps.clients.names.length === 0) throw new HashallError('the plan involves torrents but no client is configured', { hint: 'add `client:` (or `clients:`) to hashall.yaml' });
    // Only the instances the plan's groups involve are asked (each for its own torrents).
    const byInstance = new Map<string, Set<string>>();
    for (const t of groups.flatMap((g) => g.fingerprint.torrents)) {
      const set = byInstance.get(instanceOf(t)) ?? new Set<string>();
      set.add(t.hash);
      byInstance.set(instanceOf(t), set);
    }
    for (const [name, hashes] of [...byInstance].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const client = deps.clients.find(name);
      if (!client) throw new HashallError(`the plan involves torrents of client "${name}", which hashall.yaml does not configure`, { hint: 'run `hashall plan` again' });
      for (const t of await client.listTorrents({ hashes: [...hashes] })) live.set(torrentKey({ client: name, hash: t.hash }), { phase: t.phase, savePath: t.savePath, contentPath: t.contentPath });
    }
  }
  // Orphan retirements rest on the client's whole torrent list: one added or removed since may use what was an orphan.
  const listed = groups.map((g) => g.fingerprint.clientTorrents).filter((c) => c !== undefined);
  if (listed.length > 0) {
    if (deps.clients.names.length === 0) throw new HashallError('the plan retires orphans but no client is configured to prove no torrent uses them', { hint: 'add `client:` to hashall.yaml' });
    const keys: string[] = [];
    // Only the hashes are read (the same keys the planner digested: instance/hash): for Deluge the whole status read
    // would carry every torrent's file list. A client that cannot answer throws, and so refuses the plan.
    for (const name of deps.clients.names) for (const h of await listTorrentHashes(deps.clients.get(name))) keys.push(`${name}/${h}`);
    const now = torrentListDigest(keys);
    const planned = listed[0]!;
    if (listed.some((c) => c.digest !== now.digest)) problems.push(`the client's torrents changed since planning (${planned.count} → ${now.count}): a torrent added since may use an orphan`);
  }
  for (const g of groups) {
    for (const f of g.fingerprint.files) {
      const st = await deps.fs.lstat(f.path);
      if (!st) problems.push(`${g.id} (${g.title}): ${f.path} no longer exists`);
      else if (st.ino !== f.ino || st.size !== f.size || st.mtimeNs !== f.mtimeNs) problems.push(`${g.id} (${g.title}): ${f.path} changed (inode, size or mtime)`);
      else if (f.nlink !== undefined && st.nlink !== f.nlink) {
        problems.push(`${g.id} (${g.title}): ${f.path} now has ${st.nlink} link(s), planned with ${f.nlink} (a new hardlink may be an external consumer; refresh and plan again)`);
      }
    }
    for (const t of g.fingerprint.torrents) {
      const l = live.get(torrentKey(t));
      if (!l) problems.push(`${g.id} (${g.title}): torrent ${torrentLabel(t)} is no longer in client "${instanceOf(t)}"`);
      else if (l.phase !== t.phase || l.savePath !== t.clientSavePath || l.contentPath !== t.clientContentPath) {
        problems.push(`${g.id} (${g.title}): torrent ${torrentLabel(t)} is now ${l.phase} at ${l.contentPath} (planned: ${t.phase} at ${t.clientContentPath})`);
      }
    }
  }
  if (problems.length) {
    // Files missing because their filesystem is not mounted (or another is in its place) do not make the plan stale:
    // the world is not there. Say that, and what to do, rather than "re-plan" (which would fail to scan it).
    const unmounted = await unprovenFilesystems(plan, deps);
    if (unmounted.length) {
      throw new FsError(`the saved plan cannot be applied now: ${unmounted.join('; ')}\n  (and so:\n  - ${problems.slice(0, 5).join('\n  - ')}${problems.length > 5 ? `\n  - … and ${problems.length - 5} more` : ''})`, {
        hint: 'mount the filesystem where hashall.yaml says and apply the same plan again; nothing was changed',
      });
    }
    throw new StalePlanError(`saved plan is stale:\n  - ${problems.slice(0, 20).join('\n  - ')}${problems.length > 20 ? `\n  - … and ${problems.length - 20} more` : ''}`);
  }
  // Free space: every target filesystem must hold the bytes to copy plus the configured reserve — measured on that
  // filesystem, proven by identity and device (never on whatever the nearest existing parent is on). A target that is
  // not on its filesystem is left to the executor, which refuses that group before any step.
  const guard = filesystemGuard({ catalog: deps.catalog, config: deps.config, fs: deps.fs });
  const need = new Map<string, { dir: string; bytes: number }>();
  for (const g of groups) {
    for (const s of g.steps) {
      if (s.kind !== 'copy') continue;
      const cur = need.get(s.toFs) ?? { dir: s.toRoot, bytes: 0 };
      cur.bytes += s.bytes;
      need.set(s.toFs, cur);
    }
  }
  for (const [fsName, n] of need) {
    let onFs: string;
    try {
      const place = { fs: fsName, path: n.dir };
      onFs = (await guard.prove([place])).get(place)!;
    } catch {
      continue;
    }
    const { freeBytes } = await deps.fs.statfs(onFs);
    if (freeBytes < n.bytes + deps.config.safety.minFree) {
      throw new StalePlanError(`not enough free space on ${fsName}: ${freeBytes} bytes free, the plan copies ${n.bytes} bytes and keeps ${deps.config.safety.minFree} free`, {
        hint: 'free space on the target, or re-plan',
      });
    }
  }
}
