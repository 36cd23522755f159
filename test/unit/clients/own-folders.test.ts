// Reading each client's settings into the folders it keeps its own files in: what is on, what is off, and answers that cannot be read.
import { describe, expect, it } from 'vitest';
import { delugeOwnFolders, qbittorrentOwnFolders, rtorrentOwnFolders, transmissionOwnFolders } from '../../../src/clients/own-folders.js';
import { ClientError } from '../../../src/errors.js';

describe('client own folders (pure readers)', () => {
  it('qBittorrent: .torrent copies, watched folders, the incomplete folder only when enabled; empty settings are off', () => {
    expect(qbittorrentOwnFolders({ export_dir: '/d/.torrents', export_dir_fin: '', scan_dirs: { '/d/watch': 1, '/d/w2': '/d/movies' }, temp_path_enabled: false, temp_path: '/d/inc' })).toEqual([
      { role: 'torrent-copies', path: '/d/.torrents' },
      { role: 'watch', path: '/d/watch' },
      { role: 'watch', path: '/d/w2' },
    ]);
    expect(qbittorrentOwnFolders({ export_dir: '/d/t', export_dir_fin: '/d/t', scan_dirs: {}, temp_path_enabled: true, temp_path: '/d/inc' })).toEqual([
      { role: 'torrent-copies', path: '/d/t' },
      { role: 'incomplete', path: '/d/inc' },
    ]);
    // An older qBittorrent without some keys: those are off.
    expect(qbittorrentOwnFolders({})).toEqual([]);
  });

  it('Transmission: its configuration folder, and incomplete-dir when enabled', () => {
    expect(transmissionOwnFolders({ 'config-dir': '/var/lib/transmission', 'incomplete-dir': '/d/inc', 'incomplete-dir-enabled': false })).toEqual([{ role: 'config', path: '/var/lib/transmission' }]);
    expect(transmissionOwnFolders({ 'config-dir': '/c', 'incomplete-dir': '/d/inc', 'incomplete-dir-enabled': true })).toEqual([
      { role: 'config', path: '/c' },
      { role: 'incomplete', path: '/d/inc' },
    ]);
  });

  it('rTorrent: session.path, nothing when sessions are off', () => {
    expect(rtorrentOwnFolders('/d/.session/')).toEqual([{ role: 'session', path: '/d/.session/' }]);
    expect(rtorrentOwnFolders('')).toEqual([]);
  });

  it('Deluge: the configuration folder (parent of plugins_location), .torrent copies when on, the old auto-add folder when on', () => {
    expect(delugeOwnFolders({ plugins_location: '/config/plugins', copy_torrent_file: true, torrentfiles_location: '/d/copies', autoadd_enable: true, autoadd_location: '/d/watch' })).toEqual([
      { role: 'config', path: '/config' },
      { role: 'torrent-copies', path: '/d/copies' },
      { role: 'watch', path: '/d/watch' },
    ]);
    expect(delugeOwnFolders({ plugins_location: '/config/plugins', copy_torrent_file: false, torrentfiles_location: '/d/copies' })).toEqual([{ role: 'config', path: '/config' }]);
  });

  it('an answer of the wrong type is an error, never "no folders"', () => {
    expect(() => qbittorrentOwnFolders({ export_dir: 7 })).toThrow(ClientError);
    expect(() => qbittorrentOwnFolders({ scan_dirs: ['/d/watch'] })).toThrow(/scan_dirs as a list/);
    expect(() => qbittorrentOwnFolders({ temp_path_enabled: 'yes', temp_path: '/x' })).toThrow(/temp_path_enabled as string/);
    expect(() => transmissionOwnFolders({ 'config-dir': ['/c'] })).toThrow(ClientError);
    expect(() => rtorrentOwnFolders(3)).toThrow(/session\.path as number/);
    expect(() => delugeOwnFolders({ copy_torrent_file: 1, torrentfiles_location: '/x' })).toThrow(ClientError);
  });
});
