// Terraform-like human text of a Plan, rendered only from the plan data (the same data as --json; pure).
// Every name and path goes through printable(): a crafted file name cannot forge a line of the review.
import { ACTIONABLE, type Plan, type PlanGroup, type PlanTorrent, type GroupAction } from '../plan/types.js';
import type { UnresolvedRun } from '../domain/unresolved-run.js';
import { torrentLabel } from '../domain/instance.js';
import { formatBytes } from '../domain/format-bytes.js';
import { trackerFolder } from '../plan/target-path.js';
import { formatMeta } from '../plan/dedupe.js';
import { makeStyle, pathChange, type Style } from './path-diff.js';
import { resolveHint } from '../plan/unresolved.js';
import { printable as p } from './escape.js';

export interface RenderOptions {
  color: boolean;
}

export const SYMBOLS: Record<GroupAction, string> = {
  move: '~',
  reuse: '+',
  dedupe: '=',
  retire: '-',
  repair: '^',
  pending: '…',
  blocked: '!',
  stay: '·',
  keep: ' ',
};

function symbol(action: GroupAction, st: Style): string {
  const s = SYMBOLS[action];
  switch (action) {
    case 'move':
    case 'pending':
      return st.yellow(s);
    case 'reuse':
    case 'dedupe':
      return st.green(s);
    case 'retire':
    case 'blocked':
      return st.red(s);
    default:
      return s;
  }
}

function torrentLine(t: PlanTorrent): string {
  const parts = [t.name, torrentLabel(t), t.category === '' ? '(no category)' : t.category];
  parts.push(trackerFolder(t.tracker) ?? '(no tracker)');
  return parts.map(p).join('  ');
}

function header(g: PlanGroup, st: Style): string {
  const fs = g.from && g.to && g.from.fs !== g.to.fs ? `  ${p(g.from.fs)} → ${p(g.to.fs)}` : g.from ? `  on ${p(g.from.fs)}` : '';
  return `${symbol(g.action, st)} ${st.bold(g.action)} ${p(g.title)}${fs}  (${p(g.id)})`;
}

function bytesLine(g: PlanGroup): string | null {
  const parts: string[] = [];
  if (g.bytesToCopy > 0) parts.push(`copies ${formatBytes(g.bytesToCopy)}`);
  if (g.action === 'reuse') parts.push('copies nothing');
  if (g.bytesToFree > 0) parts.push(`frees ${formatBytes(g.bytesToFree)} on ${p(g.from?.fs ?? '?')}`);
  if (g.rule) parts.push(`rule ${p(g.rule)}`);
  return parts.length > 0 ? parts.join(' · ') : null;
}

function reasonLines(g: PlanGroup, indent: string): string[] {
  return g.reasons.map((r, i) => `${indent}${i === 0 ? 'why: ' : '     '}${p(r)}`);
}

function actionBlock(g: PlanGroup, st: Style, color: boolean): string[] {
  const out = [`  ${header(g, st)}`];
  const ind = '      ';
  for (const [i, t] of g.torrents.entries()) out.push(`${ind}${i === 0 ? 'torrents: ' : '          '}${torrentLine(t)}`);
  if (g.action === 'dedupe') {
    const links = g.steps.filter((s) => s.kind === 'dedupe-link');
    const keeper = links[0]?.keeper;
    // Which way each link goes: the duplicate's path becomes a hardlink of the keeper and shows the keeper's metadata.
    if (keeper) out.push(`${ind}keep ${p(keeper.path)}  (inode ${keeper.ino}; ${formatMeta(keeper.meta)} — every linked path shows the keeper's metadata)`);
    for (const s of links) out.push(`${ind}${st.green('=')} ${p(s.keeper.path)} ← ${p(s.duplicate.path)}`);
  } else if (g.action === 'retire') {
    for (const s of g.steps) if (s.kind === 'retire') out.push(`${ind}${st.red('-')} ${p(s.root)}  (kept: ${p(s.keptRoot)} on ${p(s.keptFs)})`);
    for (const s of g.steps) if (s.kind === 'retire-orphan') out.push(`${ind}${st.red('-')} ${p(s.path)}${s.treeKind === 'dir' ? '/' : ''}  (orphan: ${s.files} file(s) into the trash on ${p(s.fs)})`);
  } else {
    const repoints = g.steps.filter((s) => s.kind === 'repoint');
    for (const r of repoints) {
      const [a, b] = pathChange(p(r.hostFrom), p(r.hostTo), st, color);
      if (repoints.length > 1) out.push(`${ind}${p(r.torrentName)}:`);
      out.push(`${ind}${a}`, `${ind}${b}`);
    }
  }
  const bl = bytesLine(g);
  if (bl) out.push(`${ind}${bl}`);
  out.push(...reasonLines(g, ind));
  return out;
}

function shortBlock(g: PlanGroup, st: Style): string[] {
  const out = [`  ${header(g, st)}`];
  const ind = '      ';
  for (const [i, t] of g.torrents.entries()) out.push(`${ind}${i === 0 ? 'torrents: ' : '          '}${torrentLine(t)}`);
  if (g.from) out.push(`${ind}at ${p(g.from.path)}`);
  out.push(...reasonLines(g, ind));
  return out;
}

/** The one-line summary, e.g. `Plan: 2 to move, 1 to reuse, 14 to dedupe, 1 to retire, 3 blocked. Copies 9.4 GiB, frees 12.1 GiB on stash.` */
export function summaryLine(plan: Plan): string {
  const s = plan.summary;
  const frees = Object.entries(s.bytesToFree)
    .filter(([, b]) => b > 0)
    .map(([fs, b]) => `${formatBytes(b)} on ${p(fs)}`);
  if (s.move + s.reuse + s.dedupe + s.retire === 0) {
    const held = [`${s.keep} in place`, `${s.stay} held by external consumers`, `${s.pending} pending`, `${s.blocked} blocked`];
    return `No changes. ${held.join(', ')}.`;
  }
  const counts = `${s.move} to move, ${s.reuse} to reuse, ${s.dedupe} to dedupe, ${s.retire} to retire, ${s.blocked} blocked.`;
  return `Plan: ${counts} Copies ${formatBytes(s.bytesToCopy)}${frees.length > 0 ? `, frees ${frees.join(', ')}` : ''}.`;
}

/** The lines of one group as the text view shows it (actionable groups in full, the others short); every name printable. */
export function groupLines(g: PlanGroup, opts: RenderOptions): string[] {
  const st = makeStyle(opts.color);
  return ACTIONABLE.includes(g.action) ? actionBlock(g, st, opts.color) : shortBlock(g, st);
}

/** The lines of one unresolved apply run (what it is, what it paused, what a person must do), followed by a blank line. */
export function unresolvedRunLines(r: UnresolvedRun, opts: RenderOptions): string[] {
  const st = makeStyle(opts.color);
  const what = r.status === 'needs-attention' ? 'needs attention' : r.status === 'running' ? 'is unfinished (still running, or killed)' : 'is unfinished (its recovery was cut short)';
  const lines = [`  ${st.red('!')} run ${p(r.runId)} ${what}  (${new Date(r.startedAt).toISOString()}, ${p(r.command)})`];
  for (const t of r.pausedTorrents) lines.push(`      torrent ${p(t.name)} (${p(torrentLabel(t))}) was paused by hashall and is still paused`);
  for (const a of r.attention) lines.push(`      ${p(a)}`);
  lines.push(`      resolve: ${p(resolveHint(r))}`, '');
  return lines;
}

/** Render the whole plan: actionable groups, then staying, pending and blocked sections, then the summary. */
export function renderPlanText(plan: Plan, opts: RenderOptions): string {
  const st = makeStyle(opts.color);
  const lines: string[] = [];
  const runs = plan.unresolvedRuns ?? [];
  if (runs.length > 0) {
    lines.push(st.bold('Unresolved apply runs (groups touching their paths are blocked until they are resolved):'), '');
    for (const r of runs) lines.push(...unresolvedRunLines(r, opts));
  }
  const actionable = plan.groups.filter((g) => g.action === 'move' || g.action === 'reuse' || g.action === 'dedupe' || g.action === 'retire');
  if (actionable.length > 0) {
    lines.push('hashall will perform these changes:', '');
    for (const g of actionable) lines.push(...actionBlock(g, st, opts.color), '');
  }
  const sections: [GroupAction, string][] = [
    ['stay', 'Staying (held by an external consumer):'],
    ['pending', 'Pending (not actionable yet):'],
    ['blocked', 'Blocked (nothing will happen until resolved):'],
  ];
  for (const [action, title] of sections) {
    const gs = plan.groups.filter((g) => g.action === action);
    if (gs.length === 0) continue;
    lines.push(st.bold(title), '');
    for (const g of gs) lines.push(...shortBlock(g, st), '');
  }
  lines.push(st.bold(summaryLine(plan)));
  return lines.join('\n') + '\n';
}
