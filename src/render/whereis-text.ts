// Human text of the `hashall whereis` report: copies, hardlinks, the torrents using each copy (pure).
import { torrentLabel } from '../domain/instance.js';
import type { WhereisResult } from '../catalog/whereis-report.js';
import { formatBytes } from '../domain/format-bytes.js';
import { printable as p } from './escape.js';

export function renderWhereis(r: WhereisResult): string {
  const lines = [`${p(r.query)} (${r.matched}) → ${r.roots.map(p).join(', ')}`, `payload hash ${r.payloadHash ?? 'unknown (files without full SHA-256)'}`];
  if (r.via) lines.splice(1, 0, `${p(r.via.link)} is a symlink to ${p(r.via.target)}: shown is what it names (hashall never moves or links through a symlink)`);
  for (const f of r.files) {
    lines.push(`${p(f.relpath)} (${formatBytes(f.size)}${f.sha256 ? `, sha256 ${f.sha256.slice(0, 16)}…` : ', no full hash'}): ${f.copies.length} cop${f.copies.length === 1 ? 'y' : 'ies'}`);
    for (const c of f.copies) {
      lines.push(`  ${c.fs ?? `fs#${c.fsId}`} inode ${c.ino} (${c.nlink} link(s))`);
      for (const path of c.paths) lines.push(`    ${p(path)}${c.external.includes(path) ? '   [external]' : ''}`);
      for (const t of c.torrents) lines.push(`    used by ${p(t.name)} [${p(torrentLabel(t))}]`);
      for (const l of c.symlinks ?? []) lines.push(`    reached by symlink ${p(l)}   [holds it in place]`);
    }
  }
  // What the torrents are is what the last syncs recorded: never "none" when a client was never synced (unknown).
  const never = r.syncs.filter((x) => x.syncedAt === null).map((x) => p(x.client));
  const asOf = r.syncs.filter((x) => x.syncedAt !== null).map((x) => `${p(x.client)} ${new Date(x.syncedAt!).toISOString().slice(0, 16)}Z`);
  if (r.syncs.length === 0) lines.push(r.torrents.length === 0 ? 'torrents using this content: unknown (no client configured)' : 'torrents using this content (recorded earlier; no client configured now):');
  else if (r.torrents.length === 0 && never.length > 0) lines.push(`torrents using this content: unknown — never synced: ${never.join(', ')} (run \`hashall sync\`)`);
  else if (r.torrents.length === 0) lines.push(`torrents using this content: none (as of the last sync: ${asOf.join(', ')})`);
  else lines.push(`torrents using this content (as of the last sync${asOf.length === 1 ? '' : 's'}: ${asOf.join(', ')}${never.length > 0 ? `; never synced: ${never.join(', ')}` : ''}):`);
  for (const t of r.torrents) lines.push(`  ${p(t.name)} [${p(torrentLabel(t))}] ${t.hostContentPath === null ? '(no host path)' : p(t.hostContentPath)}`);
  return lines.join('\n') + '\n';
}
