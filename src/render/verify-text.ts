// Human text of `hashall verify`: each damaged, changed, missing or unreadable file, payload verdicts, totals (pure).
import type { VerifyProgress, VerifyReport } from '../catalog/verify.js';
import type { RepairOutcome } from '../reconcile/repair.js';
import { formatBytes, formatDuration } from './format-bytes.js';
import { printable } from './escape.js';
import { torrentLabel } from '../domain/instance.js';

const WORD: Record<string, string> = {
  corrupted: 'CORRUPTED  ',
  unreadable: 'UNREADABLE ',
  changed: 'changed    ',
  missing: 'missing    ',
};

export function renderVerify(r: VerifyReport, repairing = false): string {
  const lines: string[] = [];
  for (const f of r.findings) {
    const extra = f.status === 'corrupted' ? ` (recorded sha256 ${f.expected?.slice(0, 16)}…, read ${f.found?.slice(0, 16) ?? '?'}…)` : f.detail ? ` (${printable(f.detail)})` : '';
    lines.push(`${WORD[f.status]}${printable(f.path)}${extra}`);
  }
  for (const p of r.payloads) if (p.status === 'mismatch') lines.push(`payload hash differs: ${printable(p.root)} [${printable(p.fs)}]`);
  if (lines.length > 0) lines.push('');
  for (const t of r.totals) {
    lines.push(
      `${printable(t.fs)}: ${t.files} files, ${formatBytes(t.bytes)} — ${t.ok} ok, ${t.baseline ? `${t.baseline} hashed for the first time, ` : ''}${t.corrupted} corrupted, ${t.changed} changed, ${t.missing} missing, ${t.unreadable} unreadable`,
    );
  }
  const baseline = r.totals.reduce((n, t) => n + t.baseline, 0);
  if (baseline > 0) {
    lines.push(
      `${baseline} file(s) had no hash yet (scans hash only files whose size another file has): read now and recorded as their first baseline — nothing to compare them with, so not verified; later runs verify them`,
    );
  }
  const payloadsOk = r.payloads.filter((p) => p.status === 'ok').length;
  if (r.payloads.length > 0) lines.push(`payloads: ${payloadsOk} of ${r.payloads.length} re-hashed in full and equal to the recorded payload hash`);
  if (r.scheduled) {
    lines.push(
      `scheduled: ${r.inodes} of ${r.scheduled.dueInodes} due inode(s) verified within the ${formatBytes(r.scheduled.budgetBytes)} budget; ${r.scheduled.leftInodes} left for the next run`,
    );
  }
  lines.push(`${baseline > 0 ? 'read' : 'verified'} ${r.inodes} inode(s), ${formatBytes(r.bytesRead)} read`);
  const corrupted = r.findings.filter((f) => f.status === 'corrupted' || f.status === 'unreadable').length;
  if (corrupted > 0 && !repairing) {
    lines.push(
      `${corrupted} damaged file(s): plans now block every group that would copy, link or retire with them; \`hashall verify --repair\` restores each corrupted one from a good copy, or has the torrent holding it re-downloaded from the swarm (an unreadable one: restore it from a backup), then run \`hashall verify PATH\` again`,
    );
  }
  if (r.findings.some((f) => f.status === 'changed' || f.status === 'missing')) lines.push('changed or missing files are edits or deletions since the last scan: `hashall scan` records them');
  return lines.join('\n') + '\n';
}

/** One progress line for a terminal: inodes and bytes done, rate and time left. */
export function verifyProgressLine(p: VerifyProgress, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (p.bytes / elapsedMs) * 1000 : 0;
  const eta = rate > 0 ? `, ETA ${formatDuration(((p.totalBytes - p.bytes) / rate) * 1000)}` : '';
  return `verify: ${p.inodes}/${p.totalInodes} files, ${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)}, ${formatBytes(rate)}/s${eta}`;
}

/** The `catalog stats` line on verification coverage and open integrity problems. */
export function renderCoverage(v: { inodes: number; verifiedSince: number; oldestProofAt: number | null; open: number }, everyMs: number): string {
  const oldest = v.oldestProofAt === null ? 'none' : new Date(v.oldestProofAt).toISOString();
  const problems = v.open > 0 ? `; ${v.open} open integrity problem(s) — \`hashall verify\` lists them` : '';
  return `  verification: ${v.verifiedSince} of ${v.inodes} hashed inodes read back within the last ${formatDuration(everyMs)}, oldest proof ${oldest}${problems}\n`;
}

/** The closing lines of a `verify --repair` stopped by SIGINT/SIGTERM: what was left undone, and how to continue. */
export function repairStopped(signal: string, outcomes: readonly RepairOutcome[]): string {
  const undone = outcomes.filter((o) => o.status === 'failed');
  if (undone.length === 0) return `\n${signal} arrived when nothing was left to stop: every repair ran to its end as reported above.\n`;
  const done = outcomes.filter((o) => o.status === 'repaired' || o.status === 'needs-redownload').length;
  return (
    `\nRepair interrupted by ${signal}: ${done} of ${outcomes.length} done; the repair in progress was rolled back (or finished when only its bookkeeping was left) and later ones were not started. ` +
    `Nothing is left half done: each damaged file is either restored or untouched. To continue: \`hashall verify --repair ${undone.map((o) => printable(o.paths[0]!)).join(' ')}\`.\n`
  );
}

/** What `verify --repair` did for each corrupted inode, and what the user can do where it could not. */
export function renderRepair(outcomes: readonly RepairOutcome[]): string {
  if (outcomes.length === 0) return '';
  const lines = [''];
  for (const o of outcomes) {
    const where = o.paths.map(printable).join(', ');
    if (o.status === 'repaired') {
      lines.push(`REPAIRED   ${where} from ${printable(o.source ?? '?')} (${formatBytes(o.size)}, run ${printable(o.runId ?? '?')}; the damaged file is in .hashall-trash until the observation window ends)`);
      continue;
    }
    if (o.status === 'needs-redownload' && o.recheck) {
      const t = o.recheck;
      const state = t.progress === null ? '' : ` (${Math.floor(t.progress * 1000) / 10}% complete, ${printable(t.state ?? '?')})`;
      lines.push(
        `NEEDS RE-DOWNLOAD ${where}: no good copy; torrent ${printable(t.name)} (${printable(torrentLabel(t))}) is rechecked in client "${printable(t.client)}"${state} and needs re-download from the swarm (run ${printable(o.runId ?? '?')})`,
      );
      if (t.running === false) lines.push(`    it is paused: resume it in the client so it downloads the damaged pieces`);
      lines.push(`    once it is complete again, \`hashall verify ${printable(o.paths[0]!)}\` reads it whole and closes the problem`);
      continue;
    }
    if (o.status === 'failed') {
      const undone = o.recheck ? `the recheck of torrent ${printable(o.recheck.name)} (${printable(torrentLabel(o.recheck))}) failed; hashall wrote no file` : 'rolled back, nothing changed';
      lines.push(`NOT REPAIRED ${where}: ${printable(o.error ?? 'failed')} — ${undone} (\`hashall runs show ${printable(o.runId ?? 'ID')}\`)`);
      continue;
    }
    lines.push(`NO GOOD COPY ${where}: ${o.error ? printable(o.error) : 'hashall knows no other file with its recorded SHA-256 that reads back right'}; nothing was changed`);
    for (const r of o.rejected) lines.push(`    copy ${printable(r.path)}: ${printable(r.why)}`);
    if (o.torrents.length > 0) {
      for (const t of o.torrents) lines.push(`    it belongs to torrent ${printable(t.name)} (${printable(torrentLabel(t))}): force a recheck in the client — it re-downloads the damaged pieces from the swarm — then \`hashall verify ${printable(o.paths[0]!)}\``);
    } else {
      lines.push(`    restore it from a backup or download it again, then \`hashall verify ${printable(o.paths[0]!)}\``);
    }
  }
  return lines.join('\n') + '\n';
}
