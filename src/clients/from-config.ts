// Builds the configured TorrentClient from hashall.yaml's `client` section (the password is read at use, never kept).
import type { HashallConfig } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { createQbittorrentClient, type QbittorrentClient } from './qbittorrent/client.js';

/** The client of `config.client`; throws ConfigError (exit 3) when hashall.yaml has no `client` section. */
export function clientFromConfig(config: Pick<HashallConfig, 'client' | 'configPath'>, opts: { now?: () => number } = {}): QbittorrentClient {
  const c = config.client;
  if (!c) {
    throw new ConfigError(`${config.configPath} has no \`client\` section, so there is no torrent client to talk to`, [], {
      hint: 'add a `client:` section (type qbittorrent, url, credentials, pathMaps) to hashall.yaml',
    });
  }
  const password = c.password;
  return createQbittorrentClient({
    url: c.url,
    username: c.username,
    password: password ? () => password.reveal() : null,
    timeoutMs: c.timeoutMs,
    ...(opts.now ? { now: opts.now } : {}),
  });
}
