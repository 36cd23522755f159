// The one refusal of a command about torrents when hashall.yaml configures no client (exit 3, with what to add) (pure).
import type { HashallConfig } from './types.js';
import { ConfigError } from '../errors.js';

/** Throws ConfigError (exit 3) when hashall.yaml configures no client: for the commands that are about torrents only. */
export function requireClientSection(config: Pick<HashallConfig, 'clients' | 'configPath'>): void {
  if (Object.keys(config.clients).length === 0) {
    throw new ConfigError(`${config.configPath} has no \`client\` or \`clients\` section, so there is no torrent client to talk to`, [], {
      hint: 'add a `client:` section (type qbittorrent, transmission, rtorrent or deluge, url, credentials, pathMaps), or `clients:` with one such entry per named instance',
    });
  }
}
