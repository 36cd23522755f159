// The one construction point of the configured TorrentClient (qBittorrent, Transmission, rTorrent or Deluge) from a client's settings.
import type { ClientConfig, HashallConfig } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { createDelugeClient } from './deluge/client.js';
import { createQbittorrentClient } from './qbittorrent/client.js';
import { createRtorrentClient } from './rtorrent/client.js';
import { createTransmissionClient } from './transmission/client.js';
import type { TorrentClient } from './types.js';

/** A client for one instance's settings; the password is read at use, never kept. */
export function clientFromSettings(c: ClientConfig, opts: { now?: () => number } = {}): TorrentClient {
  const password = c.password;
  const common = {
    url: c.url,
    username: c.username,
    password: password ? () => password.reveal() : null,
    timeoutMs: c.timeoutMs,
    ...(opts.now ? { now: opts.now } : {}),
  };
  switch (c.type) {
    case 'qbittorrent':
      return createQbittorrentClient(common);
    case 'transmission':
      return createTransmissionClient(common);
    case 'rtorrent':
      return createRtorrentClient(common);
    case 'deluge':
      // deluge-web has one password and no user name.
      return createDelugeClient(common);
  }
}

/** The configured client, or null when hashall.yaml has no `client` section (plan/apply/recover work without one). */
export function optionalClient(config: Pick<HashallConfig, 'client'>, opts: { now?: () => number } = {}): TorrentClient | null {
  return config.client ? clientFromSettings(config.client, opts) : null;
}

/** The client of `config.client`; throws ConfigError (exit 3) when hashall.yaml has no `client` section. */
export function clientFromConfig(config: Pick<HashallConfig, 'client' | 'configPath'>, opts: { now?: () => number } = {}): TorrentClient {
  const c = config.client;
  if (!c) {
    throw new ConfigError(`${config.configPath} has no \`client\` section, so there is no torrent client to talk to`, [], {
      hint: 'add a `client:` section (type qbittorrent, transmission, rtorrent or deluge, url, credentials, pathMaps) to hashall.yaml',
    });
  }
  return clientFromSettings(c, opts);
}
