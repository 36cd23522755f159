// Test support: puts a torrent on a real qbittorrent-nox 4.5 into its check stuck at checkingUP, progress 0 (two rechecks while its check starts), retrying until it sticks.
import type { QbittorrentClient } from '../../src/clients/qbittorrent/client.js';
import type { ClientTorrent } from '../../src/clients/types.js';
import type { QbtSandbox } from '../../src/sandbox/qbt-sandbox.js';

/**
 * The gaps between the two requests, one per try. On a busy machine the second request may reach a check already
 * under way (which then simply ends), and on an idle one back-to-back requests can both land before the check starts
 * (a clean CI run ended every one of 6 back-to-back tries complete): each try waits for the torrent to settle, then
 * varies the gap.
 */
const GAPS_MS = [0, 30, 10, 60, 20, 100, 5, 45, 0, 30, 15, 80, 0, 30, 10, 60, 2, 25, 40, 120, 8, 50, 0, 35, 12, 70, 3, 150, 0, 30, 18, 90];

/**
 * What a kill mid-recheck followed by recovery does to qBittorrent 4.5: a recheck asked while the torrent's check is
 * just starting leaves it at checkingUP, progress 0 for good (no later recheck moves it). Two rechecks sent back to
 * back; the state is taken once it reads checking at progress 0 on polls 1.5 s apart (a check of a few MB ends well
 * before). `checkEnded` says the torrent settled without sticking (then the next try). Tests are about what hashall
 * does once a torrent is in that state; a daemon that never sticks fails the test, naming its log.
 */
export async function stickCheck(sb: QbtSandbox, qb: QbittorrentClient, hash: string, checkEnded = (t: ClientTorrent) => t.phase !== 'checking' && t.progress === 1): Promise<ClientTorrent> {
  const stuckNow = (t: ClientTorrent) => t.phase === 'checking' && t.progress === 0;
  for (const gap of GAPS_MS) {
    await sb.api('POST', '/torrents/recheck', { hashes: hash });
    if (gap > 0) await new Promise((r) => setTimeout(r, gap));
    await sb.api('POST', '/torrents/recheck', { hashes: hash });
    const seen = await qb.waitFor(hash, (t) => stuckNow(t) || checkEnded(t), { timeoutMs: 20_000, what: 'a check at progress 0, or the end of the check' });
    if (!stuckNow(seen)) continue;
    await new Promise((r) => setTimeout(r, 1_500));
    const later = await qb.waitFor(hash, (t) => stuckNow(t) || checkEnded(t), { timeoutMs: 20_000, what: 'the stuck check, or the end of the check' });
    if (stuckNow(later)) return later;
  }
  throw new Error(`qBittorrent did not stick at checkingUP, progress 0 in ${GAPS_MS.length} tries\n${sb.logTail(10)}`);
}
