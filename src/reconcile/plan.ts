// Plan: refresh (unless told not to), read the catalog, build the plan — the front half shared by `plan`, `apply`
// without a file and each `reconcile` iteration.
import { openCatalog, type CatalogDb } from '../catalog/db.js';
import { closeAll } from '../clients/client-set.js';
import type { HashallConfig } from '../config/types.js';
import { buildPlan } from '../plan/build.js';
import type { Plan } from '../plan/types.js';
import type { RefreshOutput } from './refresh.js';
import { readForPlan } from './read.js';

export interface MakePlanInput {
  /** Scan the roots and sync the clients first. */
  refresh: boolean;
  now: () => number;
  /** Where relative scan paths resolve (the configured roots are absolute). */
  cwd: string;
  out: RefreshOutput;
  /** The caller's open catalog (left open); else the catalog is opened here and closed after. */
  catalog?: CatalogDb;
}

export async function makePlan(config: HashallConfig, input: MakePlanInput): Promise<Plan> {
  const catalog = input.catalog ?? openCatalog(config.catalog);
  try {
    if (input.refresh) {
      // The scanner and the client adapters load only for a refresh: `plan --no-refresh` starts without them.
      const [{ clientsFromConfig }, { refresh }] = await Promise.all([import('../clients/from-config.js'), import('./refresh.js')]);
      const clients = clientsFromConfig(config, { now: input.now });
      // Ctrl-C / SIGTERM stop the scan between batches, so its session is marked interrupted, not left running.
      const ac = new AbortController();
      const onSignal = (): void => ac.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await refresh(catalog, config, clients, input, input.out, ac.signal);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await closeAll(clients);
      }
    }
    const now = input.now();
    const read = readForPlan(catalog, config, now, input.out.info);
    return buildPlan({ config, now, createdAt: new Date(now).toISOString(), ...read });
  } finally {
    if (!input.catalog) catalog.close();
  }
}
