// A throwaway stash/pool seedbox for scenarios: two tmpfs filesystems with their seeding and library folders, the hashall.yaml naming them (written by stashPoolConfigText), the CLI bound to it, and the plan read as JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { Plan } from '../../src/plan/types.js';
import { stashPoolConfigText, type StashPoolConfig } from '../../src/sandbox/stash-pool-config.js';
import { runCli, type CliResult } from './cli.js';
import { makeTempDir, mountTmpfs, type TempDir } from './mounts.js';

export interface StashPoolWorld {
  tmp: TempDir;
  /** Mount points of the two filesystems. */
  stash: string;
  pool: string;
  /** `<stash or pool>/seeding[/folder]`: the seeding roots, and their category folders. */
  seeding(fs: 'stash' | 'pool', folder?: string): string;
  /** `<stash>/library`: the (empty) library root. */
  library: string;
  configFile: string;
  /** Write hashall.yaml: catalog, both filesystems, their seeding roots, the library, these client instances, then `extra` top-level lines. */
  writeConfig(clients: NonNullable<StashPoolConfig['clients']>, extra: readonly string[]): void;
  /** The CLI with `--config` of this world, run in its folder (with the world's environment). */
  cli(...args: string[]): Promise<CliResult>;
  /** `plan --json`: the plan (its exit is 0 or 2). */
  plan(): Promise<Plan>;
  /** Unmount and remove everything. */
  cleanup(): void;
}

/**
 * A world under a fresh temp dir named after `name`: stash and pool tmpfs of `sizeMiB` each, `stash/seeding/<folder>`
 * for each of `folders`, `pool/seeding` and `stash/library`. `env` gives the variables the CLI sees besides the process's
 * (credentials of sandboxes started later).
 */
export function stashPoolWorld(name: string, opts: { folders?: readonly string[]; sizeMiB?: number; env?: () => Record<string, string> } = {}): StashPoolWorld {
  const tmp = makeTempDir(`hashall-${name}-`);
  const stash = path.join(tmp.path, 'stash');
  const pool = path.join(tmp.path, 'pool');
  const size = (opts.sizeMiB ?? 32) << 20;
  mountTmpfs(stash, size, `${name}-stash`);
  mountTmpfs(pool, size, `${name}-pool`);
  const seeding = (fs: 'stash' | 'pool', folder?: string): string => path.join(fs === 'stash' ? stash : pool, 'seeding', ...(folder === undefined ? [] : [folder]));
  const library = path.join(stash, 'library');
  for (const d of [...(opts.folders ?? []).map((f) => seeding('stash', f)), seeding('pool'), library]) mkdirSync(d, { recursive: true });
  const configFile = path.join(tmp.path, 'hashall.yaml');
  const cli = (...args: string[]): Promise<CliResult> =>
    runCli([...args, '--config', configFile], { cwd: tmp.path, env: { ...process.env, NO_COLOR: '1', ...(opts.env?.() ?? {}) } });
  return {
    tmp,
    stash,
    pool,
    seeding,
    library,
    configFile,
    writeConfig(clients, extra) {
      const config: StashPoolConfig = { catalog: 'catalog.db', stash, pool, seeding: { stash: [seeding('stash')], pool: [seeding('pool')] }, libraries: [library], clients };
      writeFileSync(configFile, stashPoolConfigText(config, extra));
    },
    cli,
    async plan() {
      const r = await cli('plan', '--json');
      expect([0, 2], r.stdout + r.stderr).toContain(r.code);
      return JSON.parse(r.stdout) as Plan;
    },
    cleanup: () => tmp.cleanup(),
  };
}
