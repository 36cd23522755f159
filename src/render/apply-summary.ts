// The summary apply prints when it ends (apply, reconcile, the crash-test child): groups, bytes, what needs attention, when sources retire and staged trash is purged (pure).
import type { RunResult } from '../apply/executor.js';
import type { HashallConfig } from '../config/types.js';
import type { Plan } from '../plan/types.js';
import { formatBytes } from './format-bytes.js';
import { printable } from './escape.js';

/** What a finished apply leaves for later: the sources of moved groups retire after the observation window (when, how much). */
export interface RetireContext {
  plan: Plan;
  retire: HashallConfig['safety']['retire'];
  now: number;
}

/** One line on the sources a move or reuse kept, or null when no such group was done. */
export function retireLine(result: RunResult, ctx: RetireContext): string | null {
  const done = new Set(result.groups.filter((g) => g.status === 'done' && (g.action === 'move' || g.action === 'reuse')).map((g) => g.id));
  const groups = ctx.plan.groups.filter((g) => done.has(g.id) && g.from);
  if (groups.length === 0) return null;
  const byFs = new Map<string, number>();
  for (const g of groups) {
    // The payload's size: at most what retiring its source frees (files also linked elsewhere stay).
    const bytes = Math.max(0, ...g.steps.map((s) => (s.kind === 'copy' || s.kind === 'repoint' ? s.bytes : 0)));
    byFs.set(g.from!.fs, (byFs.get(g.from!.fs) ?? 0) + bytes);
  }
  const amount = [...byFs].map(([fs, b]) => `${formatBytes(b)} on ${fs}`).join(', ');
  const what = `the sources of ${groups.length} moved group(s) (up to ${amount})`;
  if (ctx.retire.mode === 'never') return `  Nothing is freed: safety.retire.mode is never, so ${what} stay until you remove them.`;
  const after = new Date(ctx.now + ctx.retire.observeHours * 3_600_000).toISOString().replace(/:\d\d\.\d+Z$/, 'Z');
  return (
    `  Nothing is freed yet: ${what} stay until their torrents have seeded from the new place for ${ctx.retire.observeHours}h; ` +
    `an apply after ${after} retires them (\`hashall plan\` lists them as pending until then).`
  );
}

/** One line on what retire groups staged: their "freed" bytes wait in the trash until the purge gives the space back. */
export function stagedLine(result: RunResult, ctx: RetireContext): string | null {
  const staged = result.groups.filter((g) => g.status === 'done' && g.action === 'retire').reduce((n, g) => n + g.bytesFreed, 0);
  if (staged === 0) return null;
  const head = `  ${formatBytes(staged)} of it is staged in .hashall-trash (\`hashall trash\` lists it): `;
  const restore = `\`hashall trash restore ${result.runId}\` puts it back`;
  if (ctx.retire.mode === 'never') return `${head}safety.retire.mode is never, so it stays there until you remove it; ${restore}.`;
  const after = new Date(ctx.now + ctx.retire.observeHours * 3_600_000).toISOString().replace(/:\d\d\.\d+Z$/, 'Z');
  return `${head}the disk space comes back when the trash is purged, by an apply after ${after} or \`hashall trash purge\`; until then ${restore}.`;
}

/** The human summary apply prints on stdout when it ends (also after SIGINT/SIGTERM: what happened and what to run). */
export function applySummary(result: RunResult, signal: string | null, retire?: RetireContext): string {
  const lines: string[] = [];
  const done = result.groups.filter((g) => g.status === 'done').length;
  const head = result.status === 'interrupted' && signal ? `interrupted by ${signal}` : result.status;
  lines.push(`Apply ${head}: ${done}/${result.groups.length} group(s) done, ${formatBytes(result.bytesCopied)} copied, ${formatBytes(result.bytesFreed)} freed (run ${result.runId}).`);
  for (const g of result.groups.filter((x) => x.status !== 'done')) lines.push(`  ${printable(g.id)} ${printable(g.title)}: ${g.status}${g.error ? ` — ${printable(g.error)}` : ''}`);
  for (const p of result.guardProblems) lines.push(`  GUARD: ${printable(p)}`);
  for (const a of result.attention) lines.push(`  NEEDS ATTENTION: ${printable(a)}`);
  const kept = retire ? retireLine(result, retire) : null;
  if (kept) lines.push(kept);
  const staged = retire ? stagedLine(result, retire) : null;
  if (staged) lines.push(staged);
  if (signal && result.status === 'interrupted') {
    lines.push(
      `  Stopped safely on ${signal}: finished groups are kept, the group(s) in progress were rolled back, later groups were not started,`,
      '  and torrents hashall had paused run again. Nothing is left half done. To continue: `hashall apply` (a saved plan is',
      '  refused as stale if the world moved: re-plan with `hashall plan --out FILE`).',
    );
  } else if (signal) {
    lines.push(`  ${signal} arrived when nothing was left to stop: the run ended as recorded above.`);
  }
  if (result.status !== 'succeeded') lines.push(`  details: hashall runs show ${result.runId}`);
  return lines.join('\n') + '\n';
}
