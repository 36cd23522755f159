// The one construction point of the configured TorrentClients (qBittorrent, Transmission, rTorrent or Deluge), one per instance.
import type { ClientConfig, HashallConfig } from '../config/types.js';
import { requireClientSection } from '../config/require-client.js';
import { createDelugeClient } from './deluge/client.js';
import { createQbittorrentClient } from './qbittorrent/client.js';
import { createRtorrentClient } from './rtorrent/client.js';
import { createTransmissionClient } from './transmission/client.js';
import type { TorrentClient } from './types.js';
import { clientSet, type ClientSet } from './client-set.js';

/** A client for one instance's settings; the password is read at use, never kept. */
/** The clock is required (the injected one: its polls and timeouts follow the caller's clock, on every path). */
export function clientFromSettings(c: ClientConfig, opts: { now: () => number }): TorrentClient {
  const password = c.password;
  const common = {
    url: c.url,
    username: c.username,
    password: password ? () => password.reveal() : null,
    timeoutMs: c.timeoutMs,
    now: opts.now,
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

/** Every configured instance's client, by name (none when hashall.yaml has no `client:`/`clients:`). Construction does no I/O. */
export function clientsFromConfig(config: Pick<HashallConfig, 'clients'>, opts: { now: () => number }): ClientSet {
  return clientSet(Object.values(config.clients).map((c) => [c.name, clientFromSettings(c, opts)] as const));
}

/** Every configured instance's client; throws ConfigError (exit 3) when hashall.yaml configures none. */
export function requireClients(config: Pick<HashallConfig, 'clients' | 'configPath'>, opts: { now: () => number }): ClientSet {
  requireClientSection(config);
  return clientsFromConfig(config, opts);
}
