// Catalog migration 3: apply runs, journal and lock (owned by apply).
import type { Migration } from './index.js';

export const m003Runs: Migration = {
  version: 3,
  name: 'runs',
  up: `
`,
};
