// A real qbittorrent-nox SIGSTOPped (by its pid) during a repoint: the run ends needs-attention with the torrent paused;
// after SIGCONT `plan` shows the run first and blocks its group, and the next apply resolves it and resumes the torrent.
import { singleClient } from '../../../src/clients/client-set.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSeedboxOnTmpfs } from '../../support/demo-on-tmpfs.js';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DemoSeedbox } from '../../../src/demo/seedbox.js';
import { loadConfig } from '../../../src/config/load.js';
import { runApply } from '../../../src/reconcile/apply.js';
import { readPlanFile } from '../../../src/plan/plan-file-io.js';
import { getRun, unresolvedRuns } from '../../../src/apply/run-store.js';
import { openCatalog } from '../../../src/catalog/db.js';
import { createQbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import type { Plan } from '../../../src/plan/types.js';
import { makeTempDir, type TempDir } from '../../support/mounts.js';
import { runCli } from '../../support/cli.js';

let tmp: TempDir;
let seedbox: DemoSeedbox;
let stopped = false;

function contentHashes(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (lstatSync(p).isDirectory()) walk(p);
      else out.push(createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}
const allContent = (): Set<string> => new Set([...contentHashes(seedbox.stash), ...contentHashes(seedbox.pool)]);

async function hashall(...args: string[]) {
  return runCli([...args, '--config', seedbox.configPath], { cwd: seedbox.base });
}

/** The real client, except that asking it to set a location first freezes qBittorrent (SIGSTOP), once. */
function stallingClient(real: TorrentClient): TorrentClient {
  return new Proxy(real, {
    get(target, key) {
      if (key === 'setLocation' && !stopped) {
        return async (hashes: string[], location: string) => {
          process.kill(seedbox.qbt.pid, 'SIGSTOP');
          stopped = true;
          return target.setLocation(hashes, location);
        };
      }
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

beforeAll(async () => {
  tmp = makeTempDir('hashall-stall-');
  seedbox = await demoSeedboxOnTmpfs(tmp.path);
});

afterAll(async () => {
  if (stopped && seedbox) process.kill(seedbox.qbt.pid, 'SIGCONT');
  await seedbox?.qbt.stop();
  tmp?.cleanup();
});

describe('a client stalled during a repoint', () => {
  it('needs attention → plan shows the run and blocks its group → the next apply resumes the torrent and converges', async () => {
    const before = allContent();
    const planned = await hashall('plan', '--out', 'plan.json');
    expect(planned.code, planned.stderr).toBe(0);
    const { plan: whole } = readPlanFile(path.join(seedbox.base, 'plan.json'));
    // Only the first group that repoints: the stall is about one repoint. (With several groups in flight, every group
    // waiting for the frozen client would need attention too — each then resolved the same way.)
    const plan = { ...whole, groups: [whole.groups.find((g) => g.steps.some((s) => s.kind === 'repoint'))!] };
    const config = loadConfig(seedbox.configPath, { env: {}, cwd: seedbox.base }).config;
    const real = createQbittorrentClient({ url: seedbox.qbt.url, timeoutMs: 2_000 }); // a short client timeout, injected
    let runId: string;
    let album: { hash: string; name: string };
    try {
      const out = await runApply({
        config,
        clients: singleClient(stallingClient(real)),
        plan,
        planFile: null,
        planHash: null,
        command: 'test apply (client stalls)',
        now: () => Date.now(),
        emit: () => undefined,
        clientTimeoutMs: () => 3_000,
      });
      expect(stopped).toBe(true);
      expect(out.result.status).toBe('needs-attention');
      runId = out.result.runId;
      const failed = out.result.groups.find((g) => g.status === 'needs-attention')!;
      const g = plan.groups.find((x) => x.id === failed.id)!;
      const step = g.steps.find((s) => s.kind === 'repoint')!;
      album = step.kind === 'repoint' ? { hash: step.torrentHash, name: step.torrentName } : { hash: '', name: '' };
    } finally {
      process.kill(seedbox.qbt.pid, 'SIGCONT');
      await real.close();
    }
    stopped = false;
    // Woken up, qBittorrent carries out what it had queued (the setLocation): wait until it has settled.
    const watcher = createQbittorrentClient({ url: seedbox.qbt.url, timeoutMs: 10_000 });
    try {
      const settled = await watcher.waitFor(album.hash, (t) => t.phase !== 'moving' && t.phase !== 'checking', { timeoutMs: 60_000 });
      expect(settled.running).toBe(false); // hashall paused it and could not resume it: the bug's starting point
    } finally {
      await watcher.close();
    }

    // The run store knows what it left paused (durably, in the journal).
    const catalog = openCatalog(config.catalog, { readonly: true });
    try {
      const open = unresolvedRuns(catalog.db);
      expect(open.map((r) => [r.runId, r.status])).toEqual([[runId, 'needs-attention']]);
      expect(open[0]!.pausedTorrents).toEqual([{ client: 'default', ...album }]);
    } finally {
      catalog.close();
    }

    // plan: the run first, the torrent named as still paused, its group blocked — not offered again toward the same target.
    const p = await hashall('plan', '--json');
    expect(p.code, p.stderr).toBe(0);
    const pj = JSON.parse(p.stdout) as Plan;
    expect(pj.unresolvedRuns?.map((r) => [r.runId, r.pausedTorrents])).toEqual([[runId, [{ client: 'default', ...album }]]]);
    const blocked = pj.groups.find((x) => x.torrents.some((t) => t.hash === album.hash))!;
    expect(blocked.action).toBe('blocked');
    expect(blocked.reasons[0]).toContain(`apply run ${runId} needs attention`);
    expect(pj.groups.filter((x) => x.action === 'move').length).toBeGreaterThan(0); // unrelated groups still go ahead
    const text = await hashall('plan', '--no-refresh');
    expect(text.stdout.indexOf('Unresolved apply runs')).toBe(0);
    expect(text.stdout).toContain(`torrent ${album.name} (default/${album.hash.slice(0, 8)}) was paused by hashall and is still paused`);
    expect(text.stdout).toContain('`hashall recover` retries its rollback');

    // The next cron apply resolves it first (the torrent runs again), then plans and applies everything.
    const a = await hashall('apply', '--auto-approve');
    expect(a.code, a.stderr + a.stdout).toBe(0);
    expect(a.stderr).toContain(`resolved needs-attention run ${runId}`);
    expect(a.stdout).toContain('Apply succeeded');
    const c2 = openCatalog(config.catalog, { readonly: true });
    try {
      expect(getRun(c2.db, runId)!.status).toBe('recovered');
      expect(unresolvedRuns(c2.db)).toEqual([]);
    } finally {
      c2.close();
    }
    const res = await seedbox.qbt.api('GET', '/torrents/info');
    for (const t of JSON.parse(res.text) as { name: string; state: string; progress: number }[]) {
      expect(t.progress, t.name).toBe(1);
      expect(t.state, t.name).not.toMatch(/^(paused|stopped)/);
    }
    expect(allContent()).toEqual(before); // every content byte re-hashed: nothing lost
    const again = await hashall('plan', '--no-refresh');
    expect(again.stdout).not.toContain('Unresolved apply runs');
  }, 300_000);
});
