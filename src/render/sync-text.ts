// The sync view: one instance's sync summary as text, its progress line, and the line for instances that did not answer (pure).
import type { SyncProgress, SyncSummary } from '../catalog/sync.js';
import type { ClientType } from '../config/types.js';
import { torrentLabel } from '../domain/instance.js';
import { formatBytes, formatDuration } from './format-bytes.js';
import { printable as p } from './escape.js';

const APP: Record<ClientType, string> = { qbittorrent: 'qBittorrent', transmission: 'Transmission', rtorrent: 'rTorrent', deluge: 'Deluge' };

/** The client as its version names it: Transmission, rTorrent and Deluge report "<App> <version>", qBittorrent "v4.5.2". */
function clientName(version: string | null, type?: ClientType): string {
  if (version !== null && Object.values(APP).some((app) => version.startsWith(`${app} `))) return p(version);
  return `${type ? APP[type] : 'client'} ${p(version ?? '?')}`;
}

/** One instance's summary (stdout). */
export function renderSync(s: SyncSummary, type?: ClientType): string {
  const st = s.byStatus;
  const lines = [
    `synced ${s.torrents} torrent(s) from ${clientName(s.clientVersion, type)} "${p(s.client)}" in ${formatDuration(s.durationMs)} (session ${s.sessionId}, catalog serial ${s.serial})`,
    `  ${s.added} added, ${s.changed} changed, ${s.unchanged} unchanged, ${s.removed} removed from the client`,
    `  data: ${st.ok} ok, ${st.incomplete} incomplete, ${st.missing} missing, ${st['not-in-catalog']} not in the catalog, ${st.unmapped} unmapped; ${s.hashUnknown} without payload hash`,
  ];
  if (s.movesUndone > 0) lines.push(`  ${s.movesUndone} earlier move(s) found undone in the client (its torrents seed from the source again): closed, their sources are never retired by them`);
  if (s.movesUnsettled > 0) lines.push(`  ${s.movesUnsettled} earlier move(s) with a torrent not settled on the target (checking, downloading, missing files or errored): their observation windows start again now`);
  if (s.hashed) lines.push(`  hashed ${s.hashed.files} payload file(s), ${formatBytes(s.hashed.bytes)}; ${s.hashed.failed.length} failed`);
  for (const f of s.filesystems) lines.push(`  ${p(f.name)}: ${f.freeBytes === null ? `free space unknown (${p(f.problem ?? '?')})` : `${formatBytes(f.freeBytes)} free`}`);
  for (const x of s.problems) lines.push(`  ${x.dataStatus.padEnd(14)} ${p(x.name)} [${p(torrentLabel({ client: s.client, hash: x.hash }))}]: ${p(x.detail ?? '')}`);
  if (s.hashed) for (const f of s.hashed.failed) lines.push(`  hash failed ${f.code} ${p(f.path)}: ${p(f.message)}`);
  return lines.join('\n') + '\n';
}

/** The progress line on a terminal. */
export function syncProgressLine(pr: SyncProgress): string {
  return `sync: ${pr.phase} ${pr.done}/${pr.total}`;
}

/** Several instances, some silent: what that blocks (stderr). */
export function syncFailedLine(failed: number, instances: number): string {
  return `sync: ${failed} of ${instances} client instance(s) did not answer; groups touching their torrents are blocked until a sync succeeds\n`;
}
