// The trash views as text: what is staged (`hashall trash`), what a restore and a purge did (pure).
import type { TrashItem } from '../apply/trash-list.js';
import type { RestoreOutcome } from '../apply/trash-restore.js';
import type { PurgeOutcome, PurgeProgress } from '../apply/trash.js';
import { formatBytes } from './format-bytes.js';
import { printable } from './escape.js';

/** What a restore does not do, said after every restore (and in README). */
export const RESTORE_NOTE =
  'a restore puts files back only: no torrent client is repointed (torrents that were moved keep seeding from where hashall put them), and the catalog learns of the files at the refresh below or the next `hashall scan`';

export function renderTrashList(items: readonly TrashItem[]): string {
  const out: string[] = [];
  for (const i of items) {
    const size = i.bytes === null ? '' : ` ${formatBytes(i.bytes)}${i.files === null ? '' : ` in ${i.files} file(s)`}`;
    out.push(`${i.state === 'staged' ? '' : `${i.state.toUpperCase()} `}${printable(i.trash)}${size}\n`);
    if (i.runId) out.push(`  run ${i.runId} (${i.runStatus}); from ${printable(i.origin ?? '?')}\n`);
    out.push(`  purged ${i.purge}\n  why: ${printable(i.reason)}\n`);
  }
  const bytes = items.reduce((n, i) => n + (i.bytes ?? 0), 0);
  out.push(`${items.length} trash entr${items.length === 1 ? 'y' : 'ies'}, ${formatBytes(bytes)} staged\n`);
  return out.join('');
}

export function renderTrashRestore(runId: string, result: readonly RestoreOutcome[]): string {
  const out = result.map((o) => `${o.action.toUpperCase()} ${printable(o.trash)} → ${printable(o.origin)}: ${printable(o.reason)}\n`);
  out.push(`run ${runId}: ${RESTORE_NOTE}\n`);
  return out.join('');
}

/** A restore put files back but the rescan under them failed (stderr). */
export function restoreNotRefreshedLine(dir: string, error: string): string {
  return `warning: the catalog was not refreshed under ${printable(dir)}: ${printable(error)}; run \`hashall scan\`\n`;
}

export function renderTrashPurge(runId: string, result: readonly PurgeOutcome[]): string {
  const out = result.map((o) => `${o.action.toUpperCase()} ${printable(o.path)} (${o.files} file(s), ${formatBytes(o.bytes)}): ${printable(o.reason)}\n`);
  const removed = result.filter((o) => o.action === 'removed');
  out.push(`run ${runId}: ${removed.length} removed (${formatBytes(removed.reduce((n, o) => n + o.bytes, 0))}), ${result.length - removed.length} kept\n`);
  return out.join('');
}

/** The progress line of `hashall trash purge` while it reads a kept copy again (stderr, on a terminal; per kept copy, so no rate over the whole command). */
export function purgeProgressLine(p: PurgeProgress): string {
  const pct = p.totalBytes > 0 ? ` ${Math.floor((p.bytes / p.totalBytes) * 100)}%` : '';
  return `trash purge: reading the kept copy ${printable(p.keptRoot)} again:${pct} ${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)} (${printable(p.file)})`;
}
