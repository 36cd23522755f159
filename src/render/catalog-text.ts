// The `catalog stats` view as text: per filesystem files, bytes, hashed fraction, last scan; whether payload summaries are current (pure).
import type { catalogStats } from '../catalog/reports.js';
import { formatBytes } from './format-bytes.js';
import { printable } from './escape.js';

export function renderCatalogStats(catalogPath: string, s: ReturnType<typeof catalogStats>): string {
  const out: string[] = [];
  out.push(`catalog ${printable(catalogPath)} (lineage ${s.lineage}, serial ${s.serial})\n`);
  if (s.filesystems.length === 0) out.push('  no filesystems scanned yet; run `hashall scan`\n');
  for (const f of s.filesystems) {
    const last = f.lastScanAt === null ? 'never completed' : new Date(f.lastScanAt).toISOString();
    out.push(
      `  ${printable(f.name ?? '(unnamed)')} ${printable(f.mountPoint)} [${printable(f.fsType)}]: ${f.files} files, ${formatBytes(f.bytes)} (${formatBytes(f.uniqueBytes)} unique), ` +
        `${(f.hashedFraction * 100).toFixed(1)}% hashed, last scan ${last}\n`,
    );
  }
  const sm = s.summaries;
  out.push(
    sm.serial === null
      ? '  payload summaries: none yet (the next `hashall sync` stores them; plan reads every payload file by file until then)\n'
      : sm.current
        ? `  payload summaries: ${sm.payloads}, current (stored by the last sync)\n`
        : `  payload summaries: ${sm.payloads}, stale (stored at serial ${sm.serial}; the catalog changed since — \`hashall sync\` refreshes them)\n`,
    );
  return out.join('');
}
