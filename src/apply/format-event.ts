// Human text for apply events and run records (pure): one line per event for stderr, tables for `hashall runs`.
import type { ApplyEvent } from './events.js';
import type { RunDetail, RunSummary } from './run-store.js';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** One human line for an event, or null for events shown only as a progress bar (copy-progress). */
export function formatEvent(e: ApplyEvent): string | null {
  switch (e.type) {
    case 'run-start':
      return `apply ${e.runId}: ${e.groups} group(s) to apply${e.planFile ? ` from ${e.planFile}` : ''}`;
    case 'recover':
      return `recover: run ${e.interruptedRunId} was interrupted — ${e.message}`;
    case 'group-start':
      return `▶ ${e.groupId} ${e.action} ${e.title} (${e.steps} step(s))`;
    case 'step-start':
      return `  · ${e.what}`;
    case 'step-done':
      return e.status === 'noop' ? `    already done (no-op)` : `    done`;
    case 'step-failed':
      return `    FAILED: ${e.error}`;
    case 'copy-progress':
      return null;
    case 'undo':
      return e.status === 'undone' ? `  ↶ undid step ${e.step} (${e.kind})` : `  ↶ UNDO FAILED for step ${e.step} (${e.kind}): ${e.error ?? ''}`;
    case 'group-done':
      return `${e.status === 'done' ? '✔' : '✘'} ${e.groupId} ${e.status}${e.error ? `: ${e.error}` : ''}`;
    case 'guard':
      return `GUARD: torrents not healthy after apply:\n${e.problems.map((p) => `  - ${p}`).join('\n')}`;
    case 'trash':
      return `trash: ${e.action} ${e.path} (${e.files} file(s), ${formatBytes(e.bytes)}): ${e.message}`;
    case 'run-done':
      return `apply ${e.runId} ${e.status}: ${formatBytes(e.bytesCopied)} copied, ${formatBytes(e.bytesFreed)} freed`;
  }
}

/** A one-line progress bar for a copy. */
export function progressBar(e: Extract<ApplyEvent, { type: 'copy-progress' }>, width = 30): string {
  const frac = e.groupTotal > 0 ? Math.min(1, e.groupBytes / e.groupTotal) : 1;
  const full = Math.round(frac * width);
  return `  [${'#'.repeat(full)}${' '.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}% ${formatBytes(e.groupBytes)} / ${formatBytes(e.groupTotal)}`;
}

function when(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function formatRunList(runs: RunSummary[]): string {
  if (!runs.length) return 'no runs recorded yet\n';
  const lines = runs.map(
    (r) =>
      `${r.id}  ${r.status.padEnd(15)} ${when(r.startedAt)} → ${when(r.endedAt)}  ${r.user}@${r.host}  groups ${r.groups.done}/${r.groups.total} done` +
      `${r.groups.rolledBack ? `, ${r.groups.rolledBack} rolled back` : ''}${r.groups.failed ? `, ${r.groups.failed} failed` : ''}` +
      `  copied ${formatBytes(r.bytesCopied)} freed ${formatBytes(r.bytesFreed)}  plan ${r.planFile ?? '-'}`,
  );
  return lines.join('\n') + '\n';
}

export function formatRunDetail(r: RunDetail): string {
  const out: string[] = [];
  out.push(`run ${r.id}: ${r.status}`);
  out.push(`  started ${when(r.startedAt)}, ended ${when(r.endedAt)} by ${r.user}@${r.host} (pid ${r.pid}): ${r.command}`);
  out.push(`  plan ${r.planFile ?? '-'} (sha256 ${r.planHash ?? '-'}), config sha256 ${r.configHash ?? '-'}`);
  out.push(`  copied ${formatBytes(r.bytesCopied)}, freed ${formatBytes(r.bytesFreed)}${r.recoveredBy ? `, recovered by ${r.recoveredBy}` : ''}`);
  if (r.error) out.push(`  error: ${r.error.split('\n').join('\n         ')}`);
  for (const a of r.attention) out.push(`  NEEDS ATTENTION: ${a}`);
  for (const n of r.notes) out.push(`  note: ${n}`);
  for (const g of r.groupRecords) {
    out.push(`  group ${g.id} ${g.action} "${g.title}": ${g.status}${g.error ? ` — ${g.error}` : ''}`);
    for (const reason of g.reasons) out.push(`    why: ${reason}`);
    for (const s of g.steps) {
      out.push(`    step ${s.index} ${s.kind}: ${s.status}${s.error ? ` — ${s.error}` : ''}`);
    }
  }
  return out.join('\n') + '\n';
}
