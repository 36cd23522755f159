// The torrents view as text: each synced torrent with payload, filesystem, siblings, consumers and flags (pure).
import type { TorrentReport } from '../catalog/torrent-report.js';
import { torrentLabel } from '../domain/instance.js';
import { formatBytes } from './format-bytes.js';
import { printable as p } from './escape.js';

export function renderTorrents(r: TorrentReport): string {
  const never = Object.entries(r.clients).filter(([, c]) => c.syncedAt === null).map(([n]) => n);
  if (r.lastSyncAt === null && never.length === Object.keys(r.clients).length) return 'no torrents: the client has never been synced (run `hashall sync`)\n';
  const lines = [`${r.torrents.length} torrent(s), last sync ${r.lastSyncAt === null ? `never for ${never.map((n) => `"${p(n)}"`).join(', ')}` : new Date(r.lastSyncAt).toISOString()}`];
  for (const [name, c] of Object.entries(r.clients)) {
    if (c.failedAt !== null) lines.push(`client "${p(name)}" did not answer its last sync (${p(c.failure ?? '?')}): its torrents below are as last seen, and plans block them`);
  }
  for (const t of r.torrents) {
    lines.push(`${p(t.name)} [${p(torrentLabel(t))}] ${t.phase}${t.category ? `, category ${p(t.category)}` : ''}`);
    if (t.payload) {
      lines.push(`  payload ${p(t.payload.root)} (${p(t.filesystem ?? 'unknown filesystem')}, ${t.payload.kind}, ${t.payload.files} file(s), ${formatBytes(t.payload.bytes)})`);
      lines.push(`  payload hash ${t.payload.payloadHash ?? 'unknown (files without full SHA-256: `hashall sync --hash-missing`)'}; ${t.siblings} sibling(s)`);
    } else lines.push(`  payload: none (${p(t.hostContentPath ?? t.clientContentPath)})`);
    if (t.consumers) {
      const c = t.consumers;
      lines.push(`  external consumers: ${c.status}${c.paths.length ? ` — ${c.paths.map(p).join(', ')}` : ''}`);
      if (c.symlinks?.length) lines.push(`  symlinks reaching it: ${c.symlinks.map(p).join(', ')}`);
      for (const why of c.reasons) lines.push(`    ${p(why)}`);
    }
    if (t.dataStatus !== 'ok' || t.detail) lines.push(`  ${t.dataStatus}: ${p(t.detail ?? '')}`);
  }
  return lines.join('\n') + '\n';
}
