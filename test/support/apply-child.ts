// Test support: runs `runApply` in a child process (so tests can kill -9 it, or send it SIGINT/SIGTERM, at a journal boundary via
// HASHALL_TEST_CRASH_AT, or kill -9 it right after its Nth disk mutation via HASHALL_TEST_CRASH_FS_AT), with apply's own
// signal handling; the human summary goes to stderr, a JSON line to stdout.
// Usage: node --import ./test/support/ts-register.mjs test/support/apply-child.ts CONFIG.json PLAN.json [CLIENT_URL [CLIENT_TYPE]]
// (without CLIENT_URL: the clients of CONFIG.json's `clients`, without passwords)
import { readFileSync } from 'node:fs';
import { crashHookFromEnv } from '../../src/apply/crash-hook.js';
import { realFsPort, type FsPort } from '../../src/apply/fs-port.js';
import { runApply } from '../../src/reconcile/apply.js';
import { clientFromSettings } from '../../src/clients/from-config.js';
import { clientSet, closeAll, singleClient } from '../../src/clients/client-set.js';
import { applySummary } from '../../src/render/apply-summary.js';
import { stopOnSignals } from '../../src/cli/stop-signals.js';
import { makeSecret } from '../../src/config/normalize.js';
import type { ClientType, HashallConfig } from '../../src/config/types.js';
import type { Plan } from '../../src/plan/types.js';

const [configFile, planFile, clientUrl, clientType] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configFile!, 'utf8')) as HashallConfig;
const plan = JSON.parse(readFileSync(planFile!, 'utf8')) as Plan;
// A client that needs a password (deluge-web) gets it from HASHALL_TEST_CLIENT_PASSWORD, as hashall.yaml would from ${VAR}.
const password = process.env.HASHALL_TEST_CLIENT_PASSWORD ? makeSecret('${HASHALL_TEST_CLIENT_PASSWORD}', process.env) : null;
// A client URL on the command line: that client as the single instance `default`; else every instance of the config.
const clients = clientUrl
  ? singleClient(clientFromSettings({ name: 'default', at: ['client'], type: (clientType ?? 'qbittorrent') as ClientType, url: clientUrl, username: null, password, pathMaps: [], timeoutMs: 10_000 }, { now: Date.now }))
  : clientSet(Object.values(config.clients).map((c) => [c.name, clientFromSettings({ ...c, password: null }, { now: Date.now })] as const));
/** The real FsPort, killing this process with SIGKILL right after its `at`-th mutation (copy, link, unlink, rename, rmdir, mkdir, fsync). */
function killingFs(at: number): FsPort {
  const fs = realFsPort();
  let n = 0;
  const after = <T>(p: Promise<T>): Promise<T> =>
    p.then((v) => {
      if (++n === at) process.kill(process.pid, 'SIGKILL');
      return v;
    });
  return {
    ...fs,
    copyFileVerified: (a, b, o) => after(fs.copyFileVerified(a, b, o)),
    link: (a, b) => after(fs.link(a, b)),
    unlink: (a) => after(fs.unlink(a)),
    rename: (a, b) => after(fs.rename(a, b)),
    renameAt: (a, n, b, m) => after(fs.renameAt(a, n, b, m)),
    rmdir: (d) => after(fs.rmdir(d)),
    rmdirAt: (d, n) => after(fs.rmdirAt(d, n)),
    mkdirUnder: (b, r) => after(fs.mkdirUnder(b, r)),
    mkdirAt: (p, n, o) => after(fs.mkdirAt(p, n, o)),
    fsyncDir: (d) => after(fs.fsyncDir(d)),
    fsyncFile: (f, e) => after(fs.fsyncFile(f, e)),
    syncFilesystem: (f, e) => after(fs.syncFilesystem(f, e)),
  };
}
const fsAt = Number(process.env.HASHALL_TEST_CRASH_FS_AT ?? '0');

const stop = stopOnSignals((l) => process.stderr.write(`hashall: ${l}\n`));
const out = await runApply({
  fs: fsAt > 0 ? killingFs(fsAt) : undefined,
  config,
  clients,
  plan,
  planFile: planFile!,
  planHash: null,
  command: 'apply-child',
  now: () => Date.now(),
  emit: () => undefined,
  onBoundary: crashHookFromEnv(process.env),
  clientTimeoutMs: () => Number(process.env.HASHALL_TEST_CLIENT_TIMEOUT_MS ?? 60_000),
  stop: stop.signal,
});
process.stderr.write(applySummary(out.result, stop.received()));
process.exitCode = stop.exitCode() ?? 0;
process.stdout.write(JSON.stringify({ status: out.result.status, runId: out.result.runId, recovered: out.recovered }) + '\n');
await closeAll(clients);
