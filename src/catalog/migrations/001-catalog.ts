// Catalog migration 1: files, filesystems, scan roots and scan sessions (owned by the catalog/scanner).
import type { Migration } from './index.js';

export const m001Catalog: Migration = {
  version: 1,
  name: 'catalog',
  up: `
`,
};
