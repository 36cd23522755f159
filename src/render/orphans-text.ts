// `hashall orphans` views: the orphan trees with what reclaiming frees, per filesystem, as text or one JSON document (pure).
import type { OrphanReport, OrphanTree } from '../plan/orphans.js';
import { printable } from './escape.js';
import { formatBytes } from './format-bytes.js';
import { describeClientFolder } from '../domain/client-folder.js';

/** The JSON document: trees without their file lists (fileCount says how many), totals, classes, blockers. */
export function orphansJson(r: OrphanReport): Record<string, unknown> {
  return {
    proven: r.proven,
    blockers: r.blockers,
    trees: r.trees.map(({ files: _files, ...t }) => t),
    totals: r.totals,
    classes: { files: r.counts, bytes: r.bytes },
    unknownSamples: r.unknownSamples,
    clientFolders: r.clientFolders,
  };
}

function frees(t: Pick<OrphanTree, 'freedBytes' | 'duplicatedBytes' | 'uniqueBytes' | 'linkedBytes' | 'unhashedBytes'>): string {
  const parts: string[] = [];
  if (t.duplicatedBytes > 0) parts.push(`${formatBytes(t.duplicatedBytes)} also exists elsewhere`);
  if (t.uniqueBytes > 0) parts.push(`${formatBytes(t.uniqueBytes)} is the only copy`);
  if (t.unhashedBytes > 0) parts.push(`${formatBytes(t.unhashedBytes)} not hashed yet`);
  const linked = t.linkedBytes > 0 ? `; ${formatBytes(t.linkedBytes)} is hardlinked elsewhere (reclaiming it frees nothing)` : '';
  return `frees ${formatBytes(t.freedBytes)}${parts.length ? ` (${parts.join(', ')})` : ''}${linked}`;
}

export function orphansText(r: OrphanReport): string {
  const out: string[] = [];
  if (!r.proven) {
    out.push('NOT PROVEN: nothing below can be called an orphan yet (orphan retirement is blocked) because:');
    for (const b of r.blockers) out.push(`  - ${printable(b)}`);
    out.push('');
  }
  const word = r.proven ? 'orphan' : 'candidate';
  for (const t of r.trees) {
    const newest = new Date(t.newestMtimeMs).toISOString().slice(0, 10);
    out.push(`${printable(t.fs)} ${printable(t.path)}${t.kind === 'dir' ? '/' : ''}  ${t.fileCount} file(s), ${formatBytes(t.bytes)}, newest ${newest}; ${frees(t)}`);
  }
  for (const tot of r.totals) {
    out.push(`${printable(tot.fs)}: ${tot.trees} ${word} tree(s), ${tot.files} file(s), ${formatBytes(tot.bytes)}; ${frees(tot)}`);
  }
  if (r.trees.length === 0) out.push(r.proven ? 'no orphans: every file under the seeding roots is used, held, in progress or excluded' : `no ${word} trees`);
  const c = r.counts;
  for (const f of r.clientFolders) out.push(`kept by a client, never orphans: ${printable(f.path)} (${describeClientFolder(f.role, printable(f.client))})`);
  out.push(`classified: ${c.payload} payload, ${c.consumer} held by a consumer, ${c.client} a client's own, ${c['in-progress']} in progress, ${c.hashall} hashall's own, ${c.excluded} excluded, ${c.unknown} unknown, ${c.orphan} orphan`);
  for (const u of r.unknownSamples.slice(0, 5)) out.push(`  unknown: ${printable(u.path)}: ${printable(u.why)}`);
  return out.join('\n') + '\n';
}
