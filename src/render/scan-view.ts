// The scan view of `hashall scan`: the summary as text or JSON, the progress line and problem lines (pure).
import type { ScanProgress, ScanSummary } from '../catalog/scan/types.js';
import { formatBytes, formatDuration } from './format-bytes.js';
import { printable } from './escape.js';
import { jsonDocument } from './json.js';
import type { ViewOutput } from './view-output.js';

/** `hashall scan`'s progress line on a terminal: files, bytes seen and hashed, rate and ETA. */
export function scanProgressLine(p: ScanProgress, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (p.bytesHashed / elapsedMs) * 1000 : 0;
  const left = Math.max(0, p.bytesToHash - p.bytesHashed);
  const eta = p.walking ? 'walking' : rate > 0 ? `ETA ${formatDuration((left / rate) * 1000)}` : '';
  return `scan ${printable(p.root)}: ${p.filesSeen} files, ${formatBytes(p.bytesSeen)} seen, ${formatBytes(p.bytesHashed)}/${formatBytes(p.bytesToHash)} hashed, ${formatBytes(rate)}/s ${eta}`;
}

/** The summary as text (stdout) … */
export function renderScanSummary(s: ScanSummary): string {
  const lines = [
    `scan ${s.status} in ${formatDuration(s.durationMs)} (drift ${s.drift}, session ${s.sessionId})`,
    ...s.roots.map((r) => `  ${printable(r.path)} [${r.kind}${r.filesystem.name ? `, ${printable(r.filesystem.name)}` : ''}]${r.coveredBy ? ` covered by ${printable(r.coveredBy)}` : `: ${r.files} files, ${r.deleted} deleted`}`),
    `  files: ${s.filesSeen} seen, ${s.added} added, ${s.changed} changed, ${s.unchanged} unchanged, ${s.deleted} deleted`,
    `  hashed: ${s.filesHashed} files, ${formatBytes(s.bytesHashed)}; symlinks recorded (never followed): ${s.symlinks}; problems: ${s.problems.length}`,
    ...(s.unhashed > 0 ? [`  ${unhashedLine(s.unhashed)}`] : []),
    ...s.skippedMounts.map((m) => `  not entered (another filesystem or btrfs subvolume): ${printable(m)}`),
  ];
  return lines.join('\n') + '\n';
}

/**
 * The catalog's files without a full hash, in words: unknown, not unique. Size-first scans leave them so while no
 * other file has their size; `plan`/`apply` hash a torrent's payload files when they need them.
 */
export function unhashedLine(n: number): string {
  return `not hashed yet: ${n} catalogued file(s) whose size no other file has (read when one does; \`hashall verify\` or \`scan --hash-all\` hashes them now)`;
}

/** … or as one JSON document (stdout, exact paths). */
export function renderScanJson(s: ScanSummary): string {
  return jsonDocument(s);
}

/** The first 50 problems, one stderr line each (human view only: the JSON summary carries them all). */
function scanProblemLines(s: ScanSummary): string {
  return s.problems
    .slice(0, 50)
    .map((p) => `hashall: ${p.code} ${printable(p.path)}: ${printable(p.message)}\n`)
    .join('');
}

/** The end of a scan, in the form chosen once: JSON (one document, every problem in it) or text with the first problems on stderr. */
export function scanSummaryView(s: ScanSummary, json: boolean): ViewOutput[] {
  if (json) return [{ to: 'stdout', text: renderScanJson(s) }];
  const problems = scanProblemLines(s);
  return [{ to: 'stdout', text: renderScanSummary(s) }, ...(problems ? [{ to: 'stderr' as const, text: problems }] : [])];
}

/** What an interrupted scan says before it fails (stderr). */
export const SCAN_INTERRUPTED = 'hashall: scan interrupted; the catalog is consistent, run `hashall scan` again to finish\n';
