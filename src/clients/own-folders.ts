// Reads each client's settings answer into the folders it keeps its own files in (pure): one reader per client, strict on types.
import path from 'node:path';
import { ClientError } from '../errors.js';
import type { ClientFolder, ClientFolderRole } from '../domain/client-folder.js';

type Settings = Record<string, unknown>;

/** A setting as a folder path: absent or empty → null; anything but a string → the client's answer cannot be read. */
function folder(client: string, s: Settings, key: string): string | null {
  const v = s[key];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') throw new ClientError('protocol', `${client} sent ${key} as ${typeof v}, not a folder path`);
  return v;
}

/** A switch: absent → off; anything but a boolean → unreadable. */
function on(client: string, s: Settings, key: string): boolean {
  const v = s[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new ClientError('protocol', `${client} sent ${key} as ${typeof v}, not true or false`);
  return v;
}

function push(out: ClientFolder[], role: ClientFolderRole, p: string | null): void {
  if (p !== null && !out.some((f) => f.role === role && f.path === p)) out.push({ role, path: p });
}

/**
 * qBittorrent's /app/preferences: "Copy .torrent files to" (export_dir) and "… for finished downloads to"
 * (export_dir_fin), the watched folders (scan_dirs: folder → where its torrents go), and "Keep incomplete torrents
 * in" (temp_path, when temp_path_enabled). Its profile (BT_backup) is not in the API: it lives in its config folder.
 */
export function qbittorrentOwnFolders(prefs: Settings): ClientFolder[] {
  const who = 'qBittorrent';
  const out: ClientFolder[] = [];
  push(out, 'torrent-copies', folder(who, prefs, 'export_dir'));
  push(out, 'torrent-copies', folder(who, prefs, 'export_dir_fin'));
  const scan = prefs.scan_dirs;
  if (scan !== undefined && scan !== null) {
    if (typeof scan !== 'object' || Array.isArray(scan)) throw new ClientError('protocol', `${who} sent scan_dirs as ${Array.isArray(scan) ? 'a list' : typeof scan}, not a folder map`);
    for (const watched of Object.keys(scan)) if (watched !== '') push(out, 'watch', watched);
  }
  if (on(who, prefs, 'temp_path_enabled')) push(out, 'incomplete', folder(who, prefs, 'temp_path'));
  return out;
}

/** Transmission's session-get: its configuration folder (resume files, .torrent copies) and incomplete-dir when enabled. Its watch-dir is not in the RPC. */
export function transmissionOwnFolders(session: Settings): ClientFolder[] {
  const who = 'Transmission';
  const out: ClientFolder[] = [];
  push(out, 'config', folder(who, session, 'config-dir'));
  if (on(who, session, 'incomplete-dir-enabled')) push(out, 'incomplete', folder(who, session, 'incomplete-dir'));
  return out;
}

/** rTorrent's session.path (one .torrent and its state files per torrent); empty when sessions are off. Watch schedules are not readable. */
export function rtorrentOwnFolders(sessionPath: unknown): ClientFolder[] {
  const out: ClientFolder[] = [];
  push(out, 'session', folder('rTorrent', { 'session.path': sessionPath }, 'session.path'));
  return out;
}

/**
 * Deluge's core config: its configuration folder (the parent of plugins_location; it holds state/ with every
 * torrent's .torrent and resume data), "Copy of .torrent files to" (torrentfiles_location, when copy_torrent_file),
 * and the 1.x auto-add folder where a daemon still has it.
 */
export function delugeOwnFolders(config: Settings): ClientFolder[] {
  const who = 'Deluge';
  const out: ClientFolder[] = [];
  const plugins = folder(who, config, 'plugins_location');
  if (plugins !== null && path.posix.isAbsolute(plugins)) push(out, 'config', path.posix.dirname(path.posix.normalize(plugins)));
  if (on(who, config, 'copy_torrent_file')) push(out, 'torrent-copies', folder(who, config, 'torrentfiles_location'));
  if (on(who, config, 'autoadd_enable')) push(out, 'watch', folder(who, config, 'autoadd_location'));
  return out;
}

/** The keys delugeOwnFolders reads (core.get_config_values). */
export const DELUGE_FOLDER_KEYS = ['plugins_location', 'copy_torrent_file', 'torrentfiles_location', 'autoadd_enable', 'autoadd_location'];
