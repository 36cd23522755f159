// Experiment (not a bench): what qBittorrent alone needs to pause, relocate, recheck and resume N torrents at once, driven by bulk calls.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createQbittorrentClient } from '../src/clients/qbittorrent/client.js';
import { startQbt } from '../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent } from '../src/sandbox/torrent-file.js';
import { places } from './copy.js';
import { procCpuMs } from './proc-cpu.js';

const count = Number(process.env.N ?? 200);
const { srcBase, dstBase } = places(count * 80 * 1024);
const sb = await startQbt({ dir: path.join(dstBase, 'qbt') });
await sb.api('POST', '/app/setPreferences', { json: JSON.stringify({ max_active_checking_torrents: count }) });
const qb = createQbittorrentClient({ url: sb.url, timeoutMs: 30_000 });
const from = path.join(srcBase, 'm');
const to = path.join(dstBase, 'm');
const hashes: string[] = [];
for (let i = 0; i < count; i++) {
  const t = makeTorrent({ saveDir: from, name: `T.${i}`, files: [{ path: 'video.mkv', size: 64 * 1024 + i }, { path: 'info.nfo', content: `${i}\n` }], trackers: ['http://127.0.0.1:1/announce'] });
  await addTorrent(sb, t, { savepath: from, skipChecking: true });
  hashes.push(t.infoHash);
}
mkdirSync(dstBase, { recursive: true });
execFileSync('cp', ['-a', from, to]);
execFileSync('sync');
const all = async (pred: (t: Awaited<ReturnType<typeof qb.listTorrents>>[number]) => boolean) => {
  for (let i = 0; i < 2000; i++) {
    const l = await qb.listTorrents({ hashes });
    if (l.length === count && l.every(pred)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timeout');
};
const cpu0 = procCpuMs(`/proc/${sb.pid}/stat`);
const t0 = Date.now();
const lap: string[] = [];
const mark = (what: string) => lap.push(`${what} ${Date.now() - t0}`);
if (process.env.FILES) {
  await Promise.all(hashes.map((h) => qb.listFiles(h)));
  mark('files (all at once)');
  for (const h of hashes) await qb.listFiles(h);
  mark('files (one after another)');
}
await qb.pause(hashes);
await all((t) => !t.running);
mark('paused');
await qb.setLocation(hashes, to);
await all((t) => t.savePath.replace(/\/$/, '') === to && t.phase !== 'moving');
mark('moved');
await qb.recheck(hashes);
await all((t) => t.progress === 1 && t.phase !== 'checking' && t.phase !== 'moving' && !t.rawState.startsWith('checking'));
mark('rechecked');
await qb.resume(hashes);
await all((t) => t.running);
mark('resumed');
process.stderr.write(`qbt floor, ${count} torrents: ${lap.join(', ')} ms; qbittorrent-nox CPU ${procCpuMs(`/proc/${sb.pid}/stat`) - cpu0} ms\n`);
await qb.close();
await sb.stop();
rmSync(srcBase, { recursive: true, force: true });
rmSync(dstBase, { recursive: true, force: true });
