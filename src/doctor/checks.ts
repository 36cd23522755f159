// `hashall doctor`: every check a stuck user would otherwise do by hand, each with a verdict and the fix (reads the world).
// Must never: write anywhere but its own probe files in a seeding root proven to be on its filesystem (an unmounted
// pool leaves an empty directory on the system disk: no probe there); print a secret.
import { accessSync, constants, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { hardlinkProbe } from './link-probe.js';
import os from 'node:os';
import path from 'node:path';
import { openCatalog, quickCheck, schemaVersion, type CatalogDb } from '../catalog/db.js';
import { configuredScanRoots } from '../catalog/scan/session.js';
import { lastSyncedAt } from '../catalog/sync.js';
import { filesystemsNamedReader } from '../catalog/filesystems.js';
import { openIntegrityProblems } from '../catalog/integrity.js';
import { clientFromSettings } from '../clients/from-config.js';
import { redactUrl } from '../clients/shown-url.js';
import { DEFAULT_INSTANCE } from '../domain/instance.js';
import { checkConfig } from '../config/load.js';
import type { ClientConfig, HashallConfig } from '../config/types.js';
import { hostSpelling } from '../domain/path-map.js';
import { isAtOrUnder } from '../domain/path-string.js';
import { formatBytes, formatDuration } from '../domain/format-bytes.js';
import { CatalogSchemaError, ClientError } from '../errors.js';
import { spaceOf } from '../fs/statfs.js';
import { devToMajorMinor, findMountFor, readMountInfo, unmountedSubvolume, type MountEntry } from '../fs/mountinfo.js';
import { refusedFsAt } from '../fs/refused-fs.js';
import { systemProbes } from '../fs/filesystem-identity.js';
import { realFsPort } from '../apply/fs-port.js';
import { describeHolder, holderLiveness, lockFileOf, probeKernelLock, readLock } from '../apply/lock.js';
import { LOCK_HELD_NOTIFY_AFTER, lockStreakFileOf, readLockStreak, sameHolder, stuckHolderAdvice, type StreakHolder } from '../apply/lock-streak.js';
import { filesystemGuard } from '../apply/on-filesystem.js';
import { unresolvedRuns } from '../apply/run-store.js';
import { TRASH_DIR } from '../apply/trash-record.js';
import { keepsNoPermissions } from '../fs/permissions-kept.js';
import { KEEP_PERMISSIONS_HINT } from '../domain/trash-dir.js';

export type CheckStatus = 'ok' | 'warn' | 'problem' | 'skipped';

export interface DoctorCheck {
  /** Stable id for scripts, e.g. `filesystem:pool`. */
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  /** What to do, when it is not ok. */
  fix?: string;
}

export interface DoctorReport {
  configPath: string;
  checks: DoctorCheck[];
  healthy: boolean;
}

export interface DoctorOptions {
  configPath: string;
  env: Record<string, string | undefined>;
  cwd: string;
  now: () => number;
  mountInfoFile?: string;
}

const HOUR = 3_600_000;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Bytes of regular files under a directory, never following a symlink nor leaving the device. */
function treeBytes(dir: string, dev: number): { files: number; bytes: number } {
  const out = { files: 0, bytes: 0 };
  const stack = [dir];
  while (stack.length > 0 && out.files < 1_000_000) {
    const d = stack.pop()!;
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      const p = path.join(d, n);
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (!st || st.dev !== dev) continue;
      if (st.isDirectory()) stack.push(p);
      else if (st.isFile()) {
        out.files++;
        out.bytes += st.size;
      }
    }
  }
  return out;
}

async function clientChecks(config: HashallConfig, now: () => number, out: DoctorCheck[]): Promise<void> {
  const all = Object.values(config.clients);
  if (all.length === 0) {
    out.push({ id: 'client', title: 'torrent client', status: 'skipped', detail: 'hashall.yaml has no `client` section: plans cover dedupe only' });
    return;
  }
  for (const c of all) await instanceChecks(c, now, out);
}

/** What a refused login needs, in the client's own terms: which keys of hashall.yaml, and which variable (never its value). */
function authFix(c: ClientConfig, where: string): string {
  // Only a template that is nothing but variables is shown: a literal password is the secret itself.
  const vars = c.password && /^(\$\{[A-Za-z_][A-Za-z0-9_]*\})+$/.test(c.password.template) ? ` (${c.password.template}, read from the environment)` : '';
  const password = `\`${where}.password\`${vars}`;
  switch (c.type) {
    case 'deluge':
      return `check ${password}: the deluge-web password (Preferences → Interface in the Web UI; Deluge has no user name here, and the daemon's auth file accounts are not it); the password itself is never printed`;
    case 'rtorrent':
      return `check \`${where}.username\` and ${password}: the HTTP basic auth of the web server in front of rTorrent (nginx, ruTorrent); the password itself is never printed`;
    case 'transmission':
      return `check \`${where}.username\` and ${password}: Transmission's rpc-username and rpc-password (settings.json); the password itself is never printed`;
    case 'qbittorrent':
      return `check \`${where}.username\` and ${password}: the Web UI login (Tools → Options → Web UI); the password itself is never printed`;
  }
}

/** One instance: reachable, authenticated, its save paths mapped. Ids `client`, `client:path-maps` (the single `client:`), else `client.NAME…`. */
async function instanceChecks(c: ClientConfig, now: () => number, out: DoctorCheck[]): Promise<void> {
  const id = c.name === DEFAULT_INSTANCE && c.at[0] === 'client' ? 'client' : `client.${c.name}`;
  const where = c.at.join('.');
  const client = clientFromSettings(c, { now });
  try {
    const v = await client.version();
    out.push({ id, title: `${c.type} "${c.name}" at ${redactUrl(c.url)}`, status: 'ok', detail: `reachable and authenticated, ${v.app}${v.webApi ? ` (API ${v.webApi})` : ''}` });
    const torrents = await client.listTorrents();
    const unmapped: string[] = [];
    const missing: string[] = [];
    for (const t of torrents) {
      const host = hostSpelling(c.pathMaps, t.savePath);
      if (host === null) unmapped.push(`${t.name}: ${t.savePath}`);
      else if (!statSync(host, { throwIfNoEntry: false })?.isDirectory()) missing.push(`${t.name}: ${t.savePath} → ${host}`);
    }
    const bad = unmapped.length + missing.length;
    out.push({
      id: `${id}:path-maps`,
      title: `path maps of "${c.name}"`,
      status: bad === 0 ? 'ok' : 'problem',
      detail:
        bad === 0
          ? `every one of ${torrents.length} torrents' save paths maps to an existing host directory`
          : [
              ...(unmapped.length > 0 ? [`${unmapped.length} save path(s) no path map translates, e.g. ${unmapped.slice(0, 3).join('; ')}`] : []),
              ...(missing.length > 0 ? [`${missing.length} save path(s) map to a host directory that does not exist, e.g. ${missing.slice(0, 3).join('; ')}`] : []),
            ].join('; '),
      ...(bad > 0 ? { fix: `add or correct \`${where}.pathMaps\` (client path → host path, whole segments) so every save path lands on an existing host directory` } : {}),
    });
  } catch (err) {
    const auth = err instanceof ClientError && err.kind === 'auth';
    out.push({
      id,
      title: `${c.type} "${c.name}" at ${redactUrl(c.url)}`,
      status: 'problem',
      detail: message(err),
      fix: auth ? authFix(c, where) : `start the client or correct \`${where}.url\`; hashall needs it for every plan that moves torrents`,
    });
  } finally {
    await client.close();
  }
}

/**
 * The apply lock as proven, never guessed: "live" only when its process holds the lock file (on any host sharing this
 * kernel) or its pid runs here; "gone" when neither; and said so when the lock file cannot be read. A live holder is
 * shown with its age and the runs it refused in a row (src/apply/lock-streak.ts): a problem from
 * LOCK_HELD_NOTIFY_AFTER on — the point where the notify: targets are told — with what to do about it.
 */
function lockCheck(db: CatalogDb['db'], now: number): DoctorCheck {
  const lock = readLock(db);
  const streak = readLockStreak(lockStreakFileOf(db));
  const lockFile = lockFileOf(db);
  /** The streak of `holder` (null: one that recorded no run) as words, and whether it is long enough to be a problem. */
  const refusedBy = (holder: StreakHolder): { text: string; stuck: boolean } => {
    if (streak === null || !sameHolder(streak.holder, holder)) return { text: '', stuck: false };
    const told = streak.notifiedAt === null ? '' : `, the notify: targets told at ${new Date(streak.notifiedAt).toISOString()}`;
    return {
      text: `; ${streak.count} run${streak.count === 1 ? '' : 's'} in a row ${streak.count === 1 ? 'was' : 'were'} refused by it since ${new Date(streak.firstAt).toISOString()}${told}`,
      stuck: streak.count >= LOCK_HELD_NOTIFY_AFTER,
    };
  };
  const heldCheck = (detail: string, holder: StreakHolder): DoctorCheck => {
    const { text, stuck } = refusedBy(holder);
    return { id: 'lock', title: 'apply lock', status: stuck ? 'problem' : 'warn', detail: detail + text, ...(stuck ? { fix: stuckHolderAdvice(holder, lockFile) } : {}) };
  };
  if (!lock) {
    const kernel = probeKernelLock(lockFile);
    const none: StreakHolder = { runId: null, pid: null, host: null, command: null, startedAt: null };
    if (kernel === 'held') return heldCheck('held by a hashall process that has not recorded itself yet (it is starting or ending)', none);
    return { id: 'lock', title: 'apply lock', status: 'ok', detail: 'free' };
  }
  const life = holderLiveness(db, lock, os.hostname());
  const age = `held for ${formatDuration(now - lock.startedAt)}`;
  if (life.state === 'live') return heldCheck(`held by a live run (${life.why}): ${describeHolder(lock)}, ${age}`, lock);
  if (life.state === 'unknown') {
    return {
      id: 'lock',
      title: 'apply lock',
      status: 'warn',
      detail: `held by ${describeHolder(lock)}, ${age}; whether its process is alive cannot be told: ${life.why}`,
      fix: 'run `hashall doctor` as the user hashall runs as',
    };
  }
  return {
    id: 'lock',
    title: 'apply lock',
    status: 'problem',
    detail: `held by a run whose process is gone (${life.why}): ${describeHolder(lock)}`,
    fix: `\`hashall recover\` rolls its work back and clears the lock (\`hashall unlock ${lock.runId}\` clears the lock alone)`,
  };
}

function catalogChecks(catalog: CatalogDb, config: HashallConfig, now: number, out: DoctorCheck[]): void {
  const db = catalog.db;
  const quick = quickCheck(db);
  out.push({
    id: 'catalog',
    title: `catalog ${config.catalog}`,
    status: quick === 'ok' ? 'ok' : 'problem',
    // Opened read-only, so at this hashall's schema (openCatalog refuses any other).
    detail: `PRAGMA quick_check: ${quick}; schema ${schemaVersion(db)}`,
    ...(quick !== 'ok' ? { fix: 'the catalog file is damaged: move it aside and run `hashall scan` and `hashall sync` to rebuild it (run records are lost with it)' } : {}),
  });

  const maxAge = config.safety.maxScanAgeHours * HOUR;
  const roots = configuredScanRoots(catalog);
  const stale = roots.filter((r) => r.lastCompletedAt === null || now - r.lastCompletedAt > maxAge);
  const unlinked = roots.filter((r) => r.lastCompletedAt !== null && !r.linksKnown && !stale.includes(r));
  out.push({
    id: 'freshness:scan',
    title: 'scan freshness',
    status: roots.length === 0 ? 'warn' : stale.length === 0 ? 'ok' : 'warn',
    detail:
      roots.length === 0
        ? 'no root scanned yet'
        : stale.length === 0
          ? `every scanned root completed a scan within ${config.safety.maxScanAgeHours} h`
          : `${stale.length} root(s) not scanned within ${config.safety.maxScanAgeHours} h (plans block their payloads): ${stale.slice(0, 3).map((r) => r.path).join(', ')}`,
    ...(roots.length === 0 || stale.length > 0 ? { fix: '`hashall scan` (a plan with refresh scans too)' } : {}),
  });
  if (unlinked.length > 0) {
    out.push({
      id: 'freshness:symlinks',
      title: 'symlinks recorded',
      status: 'warn',
      detail: `${unlinked.length} root(s) last scanned by an older hashall, which recorded no symlinks (plans treat every payload's consumers as unknown until then): ${unlinked.slice(0, 3).map((r) => r.path).join(', ')}`,
      fix: '`hashall scan` (a plan with refresh scans too)',
    });
  }
  for (const name of Object.keys(config.clients)) {
    const last = lastSyncedAt(catalog, name);
    out.push({
      id: name === DEFAULT_INSTANCE ? 'freshness:sync' : `freshness:sync.${name}`,
      title: `client sync freshness of "${name}"`,
      status: last !== null && now - last <= maxAge ? 'ok' : 'warn',
      detail: last === null ? 'never synced' : `last sync ${new Date(last).toISOString()}`,
      ...(last === null || now - last > maxAge ? { fix: '`hashall sync` (a plan with refresh syncs too)' } : {}),
    });
  }

  out.push(lockCheck(db, now));

  const runs = unresolvedRuns(db);
  out.push({
    id: 'runs',
    title: 'unfinished or needs-attention runs',
    status: runs.length === 0 ? 'ok' : 'problem',
    detail:
      runs.length === 0
        ? 'none'
        : runs.map((r) => `${r.runId} (${r.status}${r.pausedTorrents.length > 0 ? `, ${r.pausedTorrents.length} torrent(s) left paused` : ''})`).join('; '),
    ...(runs.length > 0 ? { fix: '`hashall runs show RUN` says what happened; `hashall recover` finishes or rolls back; after fixing by hand, `hashall runs ack RUN`' } : {}),
  });

  const integrity = openIntegrityProblems(catalog);
  out.push({
    id: 'integrity',
    title: 'data integrity',
    status: integrity.length === 0 ? 'ok' : 'problem',
    detail: integrity.length === 0 ? 'no open problem' : `${integrity.length} damaged file(s), e.g. ${integrity.slice(0, 3).map((p) => `${p.path} (${p.kind})`).join(', ')}`,
    ...(integrity.length > 0 ? { fix: '`hashall verify --repair PATH` restores each from a good copy, or has the torrent holding it re-downloaded from the swarm; then `hashall verify PATH`' } : {}),
  });
}

/**
 * The catalog's folder writable: the catalog, its -wal/-shm, the apply lock and its streak file live there, and every
 * command that records anything (scan, sync, apply, recover) writes them. A filesystem mounted read-only reads fine —
 * quick_check passes — so only this check says why those commands would fail. Permissions are not judged here (doctor
 * may run as another user than the service); a read-only mount refuses root too.
 */
function catalogWritableCheck(catalogFile: string, mounts: MountEntry[]): DoctorCheck {
  const dir = path.dirname(catalogFile);
  const title = `catalog folder ${dir} writable`;
  try {
    accessSync(dir, constants.W_OK);
    return { id: 'catalog:writable', title, status: 'ok', detail: 'on a filesystem mounted read-write' };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EROFS') {
      const mount = (() => {
        try {
          return findMountFor(mounts, realpathSync(dir));
        } catch {
          return null;
        }
      })();
      const where = mount ? `${mount.mountPoint} (${mount.fsType}${mount.source ? ` ${mount.source}` : ''})` : 'its filesystem';
      return {
        id: 'catalog:writable',
        title,
        status: 'problem',
        detail: `${dir} is on a filesystem mounted read-only: ${where}; scan, sync, apply and recover cannot record anything`,
        fix: mount ? `remount it read-write (\`mount -o remount,rw ${mount.mountPoint}\`), or move the catalog to a writable filesystem and set \`catalog:\` in hashall.yaml` : 'remount it read-write, or move the catalog to a writable filesystem and set `catalog:` in hashall.yaml',
      };
    }
    if (code === 'ENOENT') return { id: 'catalog:writable', title, status: 'skipped', detail: 'the folder does not exist yet (`hashall scan` creates it)' };
    return { id: 'catalog:writable', title, status: 'skipped', detail: `not known: ${message(err)} (doctor may run as another user than hashall does)` };
  }
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const finish = (): DoctorReport => ({ configPath: opts.configPath, checks, healthy: checks.every((c) => c.status !== 'problem') });

  const { config, problems } = checkConfig(opts.configPath, { env: opts.env, cwd: opts.cwd });
  const errors = problems.filter((p) => p.severity === 'error');
  if (!config || errors.length > 0) {
    checks.push({
      id: 'config',
      title: `config ${opts.configPath}`,
      status: 'problem',
      detail: `${errors.length} error(s), e.g. ${errors.slice(0, 3).map((p) => p.message).join('; ')}`,
      fix: '`hashall validate` lists every problem with file:line:col',
    });
    return finish();
  }
  const warnings = problems.length - errors.length;
  checks.push({ id: 'config', title: `config ${opts.configPath}`, status: 'ok', detail: warnings > 0 ? `valid, ${warnings} warning(s) (\`hashall validate\`)` : 'valid' });

  let catalog: CatalogDb | null = null;
  try {
    if (statSync(config.catalog, { throwIfNoEntry: false }) === undefined) {
      checks.push({ id: 'catalog', title: `catalog ${config.catalog}`, status: 'warn', detail: 'does not exist yet', fix: '`hashall scan` creates it' });
    } else {
      catalog = openCatalog(config.catalog, { readonly: true });
      catalogChecks(catalog, config, opts.now(), checks);
    }
  } catch (err) {
    checks.push({
      id: 'catalog',
      title: `catalog ${config.catalog}`,
      status: 'problem',
      detail: `cannot be read: ${message(err)}`,
      // An old schema is upgraded, not rebuilt (a rebuild loses the run and trash records).
      fix: err instanceof CatalogSchemaError && err.hint ? err.hint : 'the catalog file is damaged: move it aside and run `hashall scan` and `hashall sync` to rebuild it',
    });
    catalog?.close();
    catalog = null;
  }

  // One read of mountinfo for the catalog's folder, the pool check here and the mounts-inside check below.
  const mounts = readMountInfo(opts.mountInfoFile);
  checks.push(catalogWritableCheck(config.catalog, mounts));

  // Filesystems: mounted where hashall.yaml says, and the very filesystem the catalog recorded.
  const guard = catalog ? filesystemGuard({ catalog, config, fs: realFsPort(), ...(opts.mountInfoFile ? { mountInfoFile: opts.mountInfoFile } : {}) }) : null;
  const proven = new Set<string>();
  const probes = systemProbes();
  for (const [name, fsc] of Object.entries(config.filesystems)) {
    const id = `filesystem:${name}`;
    const refused = refusedFsAt(fsc.path, mounts, probes.readDevice);
    if (refused) {
      checks.push({ id, title: `filesystem ${name} at ${fsc.path}`, status: 'problem', detail: `it is on ${refused.what}: hashall refuses to scan or change anything there`, fix: refused.hint });
      continue;
    }
    // A FUSE block filesystem (NTFS through ntfs-3g) without the kernel's permission checks keeps no modes: hashall's
    // private trash cannot live there, so removals cannot be staged on it (src/fs/no-follow-tree.ts holdPrivateDir).
    const fuseMount = (() => {
      try {
        return findMountFor(mounts, realpathSync(fsc.path));
      } catch {
        return null;
      }
    })();
    if (fuseMount && keepsNoPermissions(fuseMount)) {
      checks.push({
        id: `permissions:${name}`,
        title: `filesystem ${name} at ${fsc.path}: permissions`,
        status: 'warn',
        detail: `${fuseMount.mountPoint} (fuseblk, ${fuseMount.source}) is mounted without permission checks: every file shows mode 0777, so hashall's private .hashall-trash cannot live there and nothing on it can be retired (a source moved off it, an orphan, a repair's bad copy)`,
        fix: KEEP_PERMISSIONS_HINT,
      });
    }
    if (!guard) {
      checks.push({ id, title: `filesystem ${name}`, status: 'skipped', detail: 'no catalog to compare with' });
      continue;
    }
    try {
      await guard.prove([{ fs: name, path: fsc.path }]);
      proven.add(name);
      const space = spaceOf(fsc.path);
      const low = (config.seeding[name]?.length ?? 0) > 0 && space.freeBytes < config.safety.minFree;
      checks.push({
        id,
        title: `filesystem ${name} at ${fsc.path}`,
        status: low ? 'warn' : 'ok',
        detail: `mounted, identity as recorded; ${formatBytes(space.freeBytes)} free${low ? `, below safety.minFree ${formatBytes(config.safety.minFree)}: no move will target it` : ''}`,
        ...(low ? { fix: 'free space on it or lower `safety.minFree`' } : {}),
      });
    } catch (err) {
      const unknown = /does not know filesystem/.test(message(err));
      checks.push({
        id,
        title: `filesystem ${name} at ${fsc.path}`,
        status: unknown ? 'warn' : 'problem',
        detail: message(err),
        fix: unknown ? '`hashall scan`' : `mount ${name} at ${fsc.path} (hashall refuses to act on it meanwhile)`,
      });
    }
  }

  // A root in a btrfs subvolume that is not mounted by itself: scan refuses it (resolve-roots.ts), said here before any scan.
  const allRoots = [...Object.entries(config.seeding).flatMap(([, roots]) => roots.map((r) => ['seeding root', r] as const)), ...config.libraries.map((r) => ['library root', r] as const)];
  for (const [kind, root] of allRoots) {
    let real: string;
    try {
      real = realpathSync(root);
    } catch {
      continue; // a missing root is said by its own check
    }
    const mount = findMountFor(mounts, real);
    const st = lstatSync(real, { throwIfNoEntry: false });
    const subvolume = mount && st ? unmountedSubvolume(`${kind} ${root}`, devToMajorMinor(st.dev), mount) : null;
    if (subvolume) checks.push({ id: `subvolume:${root}`, title: `${kind} ${root}`, status: 'problem', detail: `${subvolume.why}: hashall refuses to scan or change it`, fix: subvolume.hint });
  }

  // A hardlink probe in each seeding root, only on a filesystem proven mounted (never onto the disk beneath it).
  for (const [name, roots] of Object.entries(config.seeding)) {
    for (const root of roots) {
      const id = `hardlinks:${root}`;
      if (!proven.has(name)) {
        checks.push({ id, title: `hardlinks in ${root}`, status: 'skipped', detail: `filesystem ${name} is not proven mounted` });
        continue;
      }
      if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
        checks.push({ id, title: `hardlinks in ${root}`, status: 'problem', detail: 'the seeding root does not exist', fix: 'create it or correct `seeding` in hashall.yaml' });
        continue;
      }
      // The root itself proven on its filesystem (a symlink there to elsewhere is refused by the guard), then held and
      // judged again by the device of the folder actually opened: a swap in between creates nothing anywhere.
      let failed: string | null;
      try {
        await guard!.prove([{ fs: name, path: root }]);
        const devs = new Set(filesystemsNamedReader(catalog!.db)(name).map((r) => r.dev));
        failed = hardlinkProbe(root, { refuseDevice: (dev) => (devs.has(devToMajorMinor(dev)) ? null : `is on device ${devToMajorMinor(dev)}, not on filesystem ${name} (${[...devs].join(' or ')}) as the catalog recorded it`) });
      } catch (err) {
        failed = message(err);
      }
      checks.push({
        id,
        title: `hardlinks in ${root}`,
        status: failed === null ? 'ok' : 'problem',
        detail: failed === null ? 'a file and a hardlink of it were created and removed' : `cannot hardlink: ${failed}`,
        ...(failed !== null ? { fix: 'hashall builds every view by hardlink: the root must be writable by it and on a filesystem with hardlinks' } : {}),
      });
    }
  }

  // Other filesystems mounted inside a seeding or library root (a ZFS dataset per category, a container volume): the
  // scan never enters them, so a payload there is never catalogued and its torrent stays blocked. Said only when found.
  const rootsOnProven = [
    ...Object.entries(config.seeding).flatMap(([name, roots]) => (proven.has(name) ? roots : [])),
    ...config.libraries.filter((root) => Object.entries(config.filesystems).some(([name, fsc]) => proven.has(name) && isAtOrUnder(root, fsc.path))),
  ];
  for (const root of rootsOnProven) {
    let real: string;
    try {
      real = realpathSync(root);
    } catch {
      continue;
    }
    const inside = mounts.map((m) => m.mountPoint).filter((m) => m !== real && isAtOrUnder(m, real)).sort();
    if (inside.length === 0) continue;
    checks.push({
      id: `mounts:${root}`,
      title: `mounts inside ${root}`,
      status: 'warn',
      detail: `${inside.length} other filesystem(s) mounted inside, never scanned (their files are not catalogued; torrents there stay blocked): ${inside.slice(0, 5).join(', ')}${inside.length > 5 ? ', …' : ''}`,
      fix: 'hashall manages one filesystem per entry and hardlinks never cross filesystems: keep torrent data on the root\'s own filesystem, or mount that one outside the root and configure it as a filesystem of its own with its own seeding root',
    });
  }

  // Staged trash per filesystem.
  for (const [name, fsc] of Object.entries(config.filesystems)) {
    if (!proven.has(name)) continue;
    const trash = path.join(fsc.path, TRASH_DIR);
    const st = lstatSync(trash, { throwIfNoEntry: false });
    if (!st) continue;
    if (!st.isDirectory()) {
      checks.push({ id: `trash:${name}`, title: `trash on ${name}`, status: 'problem', detail: `${trash} is not a directory hashall made`, fix: `remove ${trash} after checking what it is` });
      continue;
    }
    const t = treeBytes(trash, st.dev);
    checks.push({ id: `trash:${name}`, title: `trash on ${name}`, status: 'ok', detail: `${t.files} file(s), ${formatBytes(t.bytes)} staged for deletion after the observation window` });
  }

  await clientChecks(config, opts.now, checks);
  catalog?.close();
  return finish();
}
