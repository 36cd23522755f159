// Builds the commented starter hashall.yaml that `hashall init` writes, from a mount table (pure).
import { isAtOrUnder } from '../domain/path-string.js';
import type { MountEntry } from '../fs/mountinfo.js';
import { KERNEL_PSEUDO_FS } from '../fs/pseudo-fs.js';
import { aPool, pooledFsName } from '../fs/pooled-fs.js';
import { refusedFs } from '../fs/refused-fs.js';

/** Mount types that never hold torrent data: the kernel's pseudo filesystems, images, overlays and helper FUSE mounts. */
const PSEUDO_TYPES = new Set([...KERNEL_PSEUDO_FS, 'squashfs', 'ramfs', 'overlay', 'aufs', 'fuse.lxcfs', 'fuse.portal', 'fuse.gvfsd-fuse', 'nfsd']);
const SYSTEM_PREFIXES = ['/proc', '/sys', '/dev', '/run', '/boot', '/efi', '/snap', '/var/lib/docker', '/var/lib/containers', '/var/lib/kubelet', '/etc', '/usr', '/tmp', '/var/tmp', '/mnt/sandboxing'];


export interface DataMount {
  name: string;
  path: string;
  aliases: string[];
  fsType: string;
  source: string;
  /** Size of the filesystem in bytes, when known (sizes the `safety.minFree` default). */
  totalBytes?: number;
}

/**
 * The mounts that can hold torrent data: writable, not pseudo or system, not the root filesystem (a tmpfs counts
 * when it is mounted where data lives — /run, /dev, /tmp and the other system places are never candidates),
 * and not containing another candidate (its path would nest). Bind mounts of one place become aliases.
 * `isDir` tells directories from bind-mounted files.
 */
export function findDataMounts(
  mounts: MountEntry[],
  isDir: (p: string) => boolean,
): {
  data: DataMount[];
  skippedOuter: string[];
  skippedPools: { path: string; name: string }[];
  skippedNoLinks: { path: string; fsType: string }[];
  skippedSameFs: { path: string; sameAs: string }[];
} {
  const usable = mounts.filter(
    (m) =>
      m.mountPoint !== '/' &&
      !PSEUDO_TYPES.has(m.fsType) &&
      !m.options.includes('ro') &&
      !SYSTEM_PREFIXES.some((p) => isAtOrUnder(m.mountPoint, p)) &&
      isDir(m.mountPoint),
  );
  // A mergerfs pool is never a filesystem hashall can use (src/fs/pooled-fs.ts): its branch disks are listed instead.
  const skippedPools = usable.flatMap((m) => {
    const name = pooledFsName(m.fsType);
    return name === null ? [] : [{ path: m.mountPoint, name }];
  });
  // Nor is a filesystem without hardlinks (exFAT, FAT, rclone: src/fs/refused-fs.ts; by mount type alone here).
  const skippedNoLinks = usable.filter((m) => pooledFsName(m.fsType) === null && refusedFs(m) !== null).map((m) => ({ path: m.mountPoint, fsType: m.fsType }));
  const candidates = usable.filter((m) => refusedFs(m) === null);
  // Same filesystem and same root inside it: one place, several spellings.
  const groups = new Map<string, MountEntry[]>();
  for (const m of candidates) {
    const key = `${m.majorMinor} ${m.root}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const places = [...groups.values()].map((g) => ({ main: g[0] as MountEntry, others: g.slice(1) }));
  const spellings = (p: { main: MountEntry; others: MountEntry[] }): string[] => [p.main.mountPoint, ...p.others.map((o) => o.mountPoint)];
  const skippedOuter: string[] = [];
  const kept = places.filter((p) => {
    const nested = places.some((q) => q !== p && spellings(q).some((s) => spellings(p).some((t) => s !== t && isAtOrUnder(s, t))));
    if (nested) skippedOuter.push(p.main.mountPoint);
    return !nested;
  });
  // Two mounts showing different folders of one filesystem (bind mounts): one entry only — two entries on one device
  // are a config error (src/config/fs-checks.ts). The mount showing the most of it (shortest root) stays.
  const skippedSameFs: { path: string; sameAs: string }[] = [];
  const firstOfDev = new Map<string, { main: MountEntry; others: MountEntry[] }>();
  for (const p of [...kept].sort((a, b) => a.main.root.length - b.main.root.length)) if (!firstOfDev.has(p.main.majorMinor)) firstOfDev.set(p.main.majorMinor, p);
  const listed = kept.filter((p) => {
    const first = firstOfDev.get(p.main.majorMinor)!;
    if (first !== p) skippedSameFs.push({ path: p.main.mountPoint, sameAs: first.main.mountPoint });
    return first === p;
  });
  const used = new Set<string>();
  const data = listed.map((p) => {
    const base = (p.main.mountPoint.split('/').filter(Boolean).pop() ?? 'data').replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'data';
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}${i}`;
    used.add(name);
    return { name, path: p.main.mountPoint, aliases: p.others.map((o) => o.mountPoint), fsType: p.main.fsType, source: p.main.source };
  });
  return { data, skippedOuter, skippedPools, skippedNoLinks, skippedSameFs };
}

const q = (s: string): string => (/^[A-Za-z0-9_./-]+$/.test(s) ? s : JSON.stringify(s));

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/**
 * The starter `safety.minFree`: 10GiB, but never more than 5 % of the smallest data filesystem whose size is known
 * (a 10GiB margin on a 8GiB disk would block every move to it), rounded down to whole GiB or MiB (at least 1MiB).
 */
export function starterMinFree(mounts: readonly DataMount[]): { text: string; why: string } {
  const sized = mounts.filter((m) => m.totalBytes !== undefined && m.totalBytes > 0);
  if (sized.length === 0) return { text: '10GiB', why: 'keep this much free on a target filesystem' };
  const smallest = sized.reduce((a, b) => (b.totalBytes! < a.totalBytes! ? b : a));
  const cap = smallest.totalBytes! * 0.05;
  if (cap >= 10 * GiB) return { text: '10GiB', why: 'keep this much free on a target filesystem' };
  const text = cap >= GiB ? `${Math.floor(cap / GiB)}GiB` : `${Math.max(1, Math.floor(cap / MiB))}MiB`;
  const size = smallest.totalBytes! >= GiB ? `${(smallest.totalBytes! / GiB).toFixed(1)} GiB` : `${Math.round(smallest.totalBytes! / MiB)} MiB`;
  return { text, why: `5 % of ${smallest.name} (${size}), the smallest filesystem here; 10GiB would block every move to it` };
}

/** The starter file text. It validates as written (paths that do not exist yet are only warnings). */
export function starterConfigText(opts: {
  mounts: DataMount[];
  skippedOuter: string[];
  skippedPools?: { path: string; name: string }[];
  skippedNoLinks?: { path: string; fsType: string }[];
  skippedSameFs?: { path: string; sameAs: string }[];
  schemaRef: string;
  mountInfoSource: string;
}): string {
  const fss = opts.mounts.length
    ? opts.mounts
    : [{ name: 'main', path: '/srv', aliases: [], fsType: '', source: '' }];
  const lines: string[] = [];
  lines.push(`# yaml-language-server: $schema=${opts.schemaRef}`);
  lines.push(`# hashall.yaml — starter written by \`hashall init\` from ${opts.mountInfoSource}.`);
  lines.push('# Edit the paths marked CHANGE ME, then run `hashall validate`. Every key is described in the schema above.');
  lines.push('version: 1');
  lines.push('');
  lines.push('# SQLite catalog of file hashes; relative paths are relative to this file.');
  lines.push('# Default: $XDG_STATE_HOME/hashall/catalog.db, else ~/.local/state/hashall/catalog.db');
  lines.push('# catalog: ./hashall-catalog.db');
  lines.push('');
  lines.push('# One entry per filesystem (disk, pool, dataset) that holds torrent data.');
  lines.push('# aliases: other host spellings of the same directory (bind mounts).');
  if (!opts.mounts.length) lines.push('# No data filesystem besides / was found on this machine: CHANGE ME to the directory that holds your torrents.');
  for (const s of opts.skippedOuter) lines.push(`# Not listed: ${s} (other listed mounts are inside it; filesystem paths must not nest).`);
  for (const p of opts.skippedPools ?? []) {
    lines.push(`# Not listed: ${p.path} (${aPool(p.name)}: its inode numbers do not identify files, so hashall cannot tell a hardlink from a copy there; list its branch disks, and give clients their paths).`);
  }
  for (const p of opts.skippedNoLinks ?? []) {
    lines.push(`# Not listed: ${p.path} (${p.fsType}: no hardlinks, and inode numbers made up per mount; keep seeding data on ext4, XFS, btrfs, ZFS or NTFS).`);
  }
  for (const p of opts.skippedSameFs ?? []) {
    lines.push(`# Not listed: ${p.path} (another mount of the filesystem listed at ${p.sameAs}, showing another folder of it: one filesystem is one entry; keep its seeding roots where ${p.sameAs} shows them).`);
  }
  lines.push('filesystems:');
  for (const fs of fss) {
    const volatile = fs.fsType === 'tmpfs' ? ' — in memory: its contents vanish at reboot' : '';
    lines.push(`  ${fs.name}:${fs.fsType ? `  # ${fs.fsType} ${fs.source}${volatile}`.trimEnd() : ''}`);
    lines.push(`    path: ${q(fs.path)}`);
    if (fs.aliases.length) lines.push(`    aliases: [${fs.aliases.map(q).join(', ')}]`);
  }
  lines.push('');
  lines.push('# Filesystem name → directories under which torrent payloads live.');
  lines.push('seeding:');
  for (const fs of fss) {
    lines.push(`  ${fs.name}:`);
    lines.push(`    - ${q(fs.path === '/' ? '/torrents' : `${fs.path}/torrents`)}  # CHANGE ME: where your client saves torrents on ${fs.name}`);
  }
  lines.push('');
  lines.push('# Library roots (media libraries the *arr apps hardlink into). Must not overlap seeding roots.');
  lines.push('libraries: []');
  lines.push('#  - /srv/media/movies');
  lines.push('');
  lines.push('# The torrent client. Keep secrets in the environment: password: ${QBT_PASSWORD}');
  lines.push('# client:');
  lines.push('#   type: qbittorrent');
  lines.push('#   url: http://127.0.0.1:8080');
  lines.push('#   username: admin');
  lines.push('#   password: ${QBT_PASSWORD}');
  lines.push('#   timeout: 30s');
  lines.push('#   pathMaps:            # container path → host path, when qBittorrent runs in Docker');
  lines.push('#     - { client: /data, host: /srv/data }');
  lines.push('');
  lines.push('# Client category → its folder below a seeding root (and optionally the filesystem it belongs on).');
  lines.push('categories: {}');
  lines.push('#   movies: { path: movies }');
  lines.push('');
  lines.push('# Where payloads belong: the first matching rule wins; `keep` leaves a payload where it is.');
  lines.push('placement:');
  lines.push('  default: keep');
  lines.push('  rules: []');
  lines.push(`#    - name: old-and-big-to-${fss[fss.length - 1]?.name ?? 'main'}`);
  lines.push('#      match: { minSeedingDays: 30, minSize: 10GiB }');
  lines.push(`#      place: ${fss[fss.length - 1]?.name ?? 'main'}`);
  lines.push('');
  lines.push('# Same-filesystem dedupe (identical files become hardlinks). Off until you list filesystems.');
  lines.push('dedupe:');
  lines.push('  filesystems: []');
  lines.push('  minSize: 1MiB');
  lines.push('');
  lines.push('safety:');
  lines.push('  verify: full            # full: re-read and SHA-256 every copied byte; sample: faster, weaker');
  lines.push('  retire:');
  lines.push('    mode: staged          # staged: rename the old copy aside, delete after observation; never: keep it');
  lines.push('    observeHours: 72h     # how long the new copy must seed healthily first');
  lines.push('    # purgeCheck: full    # before the trash purge deletes a retired source, every kept file is read again and must');
  lines.push('    #                       # hash as proven (bit rot keeps the source; the purge reads as many bytes as it frees);');
  lines.push('    #                       # stamp: trust kept files whose stamp is unchanged — no read, but blind to bit rot');
  const minFree = starterMinFree(opts.mounts);
  lines.push(`  minFree: ${minFree.text.padEnd(14)} # ${minFree.why}`);
  lines.push('  maxScanAgeHours: 24h    # older scans block planning');
  return lines.join('\n') + '\n';
}
