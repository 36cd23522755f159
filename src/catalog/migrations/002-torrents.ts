// Catalog migration 2: torrents, torrent files, payloads and relocations (owned by the client sync).
import type { Migration } from './index.js';

export const m002Torrents: Migration = {
  version: 2,
  name: 'torrents',
  up: `
`,
};
