// Human text for apply events and run records (pure): one line per event for stderr, tables for `hashall runs`.
import type { ApplyEvent } from '../apply/events.js';
import type { RunDetail, RunSummary } from '../apply/run-store.js';
import { formatBytes } from './format-bytes.js';
import { printable as p, printableLines } from './escape.js';

/** One human line for an event, or null for events shown only as a progress line on a terminal (copy, recheck). */
export function formatEvent(e: ApplyEvent): string | null {
  switch (e.type) {
    case 'run-start':
      return `apply ${e.runId}: ${e.groups} group(s) to apply${e.planFile ? ` from ${p(e.planFile)}` : ''}`;
    case 'recover':
      return `recover: run ${e.interruptedRunId} was interrupted — ${p(e.message)}`;
    case 'group-start':
      return `▶ ${p(e.groupId)} ${e.action} ${p(e.title)} (${e.steps} step(s))`;
    case 'step-start':
      return `  · ${p(e.what)}`;
    case 'step-done':
      return e.status === 'noop' ? `    already done (no-op)` : `    done`;
    case 'step-failed':
      return `    FAILED: ${p(e.error)}`;
    case 'copy-progress':
    case 'recheck-progress':
      return null;
    case 'undo':
      return e.status === 'undone' ? `  ↶ undid step ${e.step} (${e.kind})` : `  ↶ UNDO FAILED for step ${e.step} (${e.kind}): ${p(e.error ?? '')}`;
    case 'group-done':
      return `${e.status === 'done' ? '✔' : '✘'} ${p(e.groupId)} ${e.status}${e.error ? `: ${p(e.error)}` : ''}`;
    case 'refresh-failed':
      return `  ! catalog not refreshed for ${p(e.path)}: ${p(e.error)} — run \`hashall scan\` (or plan with its refresh) before relying on the catalog`;
    case 'guard':
      return `GUARD: torrents not healthy after apply:\n${e.problems.map((x) => `  - ${p(x)}`).join('\n')}`;
    case 'trash':
      return `trash: ${e.action} ${p(e.path)} (${e.files} file(s), ${formatBytes(e.bytes)}): ${p(e.message)}`;
    case 'run-done':
      return `apply ${e.runId} ${e.status}: ${formatBytes(e.bytesCopied)} copied, ${formatBytes(e.bytesFreed)} freed`;
  }
}

/** A one-line progress bar for a copy; with the group's copy rate so far, its speed and the time left. */
export function progressBar(e: Extract<ApplyEvent, { type: 'copy-progress' }>, rate: { bytesPerSec: number } | null = null, width = 30): string {
  const frac = e.groupTotal > 0 ? Math.min(1, e.groupBytes / e.groupTotal) : 1;
  const full = Math.round(frac * width);
  const bar = `  [${'#'.repeat(full)}${' '.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}% ${formatBytes(e.groupBytes)} / ${formatBytes(e.groupTotal)}`;
  if (!rate || !(rate.bytesPerSec > 0)) return bar;
  const left = Math.max(0, e.groupTotal - e.groupBytes);
  return `${bar}  ${formatBytes(rate.bytesPerSec)}/s  ETA ${formatEta((left / rate.bytesPerSec) * 1000)}`;
}

/** Time left as `45s`, `3m 20s`, `1h 05m`. */
export function formatEta(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A one-line status while the client rechecks a repointed torrent. */
export function recheckLine(e: Extract<ApplyEvent, { type: 'recheck-progress' }>): string {
  return `  waiting for ${p(e.torrentName)} to recheck: ${(e.progress * 100).toFixed(1)}% (${p(e.state)}, ${formatEta(e.elapsedMs)} so far)`;
}

/**
 * The progress line while several groups are in flight: the copy under way (its bar) and the rechecks the client is
 * running, the longest first, with as many names as fit in about `width` characters.
 */
export function inFlightLine(
  copy: { e: Extract<ApplyEvent, { type: 'copy-progress' }>; rate: { bytesPerSec: number } | null } | null,
  rechecks: Extract<ApplyEvent, { type: 'recheck-progress' }>[],
  width = 120,
): string {
  if (copy && rechecks.length === 0) return progressBar(copy.e, copy.rate);
  if (!copy && rechecks.length === 1) return recheckLine(rechecks[0]!);
  const sorted = [...rechecks].sort((a, b) => b.elapsedMs - a.elapsedMs);
  const head = copy ? `${progressBar(copy.e, copy.rate, 20)}  + ` : '  waiting for ';
  let line = `${head}${rechecks.length} recheck(s), longest ${formatEta(sorted[0]?.elapsedMs ?? 0)}`;
  const names: string[] = [];
  for (const r of sorted) {
    const item = `${p(r.torrentName)} ${(r.progress * 100).toFixed(0)}%`;
    if (line.length + names.join(', ').length + item.length + 4 > width) break;
    names.push(item);
  }
  if (names.length) line += `: ${names.join(', ')}${names.length < sorted.length ? ', …' : ''}`;
  return line;
}

function when(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function formatRunList(runs: RunSummary[]): string {
  if (!runs.length) return 'no runs recorded yet\n';
  const lines = runs.map(
    (r) =>
      `${r.id}  ${r.status.padEnd(15)} ${when(r.startedAt)} → ${when(r.endedAt)}  ${p(r.user)}@${p(r.host)}  groups ${r.groups.done}/${r.groups.total} done` +
      `${r.groups.rolledBack ? `, ${r.groups.rolledBack} rolled back` : ''}${r.groups.failed ? `, ${r.groups.failed} failed` : ''}` +
      `  copied ${formatBytes(r.bytesCopied)} freed ${formatBytes(r.bytesFreed)}  ${r.planFile === null && r.command.startsWith('hashall trash') ? p(r.command) : `plan ${p(r.planFile ?? '-')}`}`,
  );
  return lines.join('\n') + '\n';
}

export function formatRunDetail(r: RunDetail): string {
  const out: string[] = [];
  out.push(`run ${r.id}: ${r.status}`);
  out.push(`  started ${when(r.startedAt)}, ended ${when(r.endedAt)} by ${p(r.user)}@${p(r.host)} (pid ${r.pid}): ${p(r.command)}`);
  // A plan made by the run itself was not saved (no file, no hash): its groups below are the plan as run. Records of
  // older versions kept a hash of the plan as it would have been written.
  const plan = r.planFile === null && r.planHash === null ? 'plan not saved (the groups below are the plan as run)' : `plan ${p(r.planFile ?? '-')} (sha256 ${r.planHash ?? '-'})`;
  out.push(`  ${plan}, config sha256 ${r.configHash ?? '-'}`);
  out.push(`  copied ${formatBytes(r.bytesCopied)}, freed ${formatBytes(r.bytesFreed)}${r.recoveredBy ? `, recovered by ${p(r.recoveredBy)}` : ''}`);
  if (r.ackedAt !== null) out.push(`  acknowledged by ${p(r.ackedBy ?? '?')} at ${new Date(r.ackedAt).toISOString()}`);
  if (r.error) out.push(`  error: ${printableLines(r.error).split('\n').join('\n         ')}`);
  for (const a of r.attention) out.push(`  NEEDS ATTENTION: ${p(a)}`);
  for (const n of r.notes) out.push(`  note: ${p(n)}`);
  for (const n of r.notifications) {
    out.push(`  notified ${p(n.target)} (${n.event}): ${n.status}${n.attempts > 1 ? ` after ${n.attempts} attempts` : ''}${n.error ? ` — ${p(n.error)}` : ''}`);
  }
  for (const g of r.groupRecords) {
    out.push(`  group ${p(g.id)} ${g.action} "${p(g.title)}": ${g.status}${g.error ? ` — ${p(g.error)}` : ''}`);
    for (const reason of g.reasons) out.push(`    why: ${p(reason)}`);
    for (const s of g.steps) {
      out.push(`    step ${s.index} ${s.kind}: ${s.status}${s.error ? ` — ${p(s.error)}` : ''}`);
    }
  }
  return out.join('\n') + '\n';
}
