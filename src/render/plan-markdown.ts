// GitHub-flavoured markdown of a Plan for a pull-request comment: summary table, blocked reasons first, one
// collapsible section per group (pure). Rendered from the same plan data as the text and --json views.
//
// Must never: let a name from the plan (torrent and file names come from other people) become markdown or HTML —
// every string of the plan goes through markdown-escape.ts; only numbers and our own words are written bare.
import { ACTIONABLE, type GroupAction, type Plan, type PlanGroup } from '../plan/types.js';
import { formatBytes } from './format-bytes.js';
import { SYMBOLS, groupLines, unresolvedRunLines } from './plan-text.js';
import { htmlCode, htmlText, mdCode, mdCodeBlock } from './markdown-escape.js';

const ORDER: GroupAction[] = ['move', 'reuse', 'dedupe', 'retire', 'repair', 'blocked', 'pending', 'stay', 'keep'];

const MEANING: Record<GroupAction, string> = {
  move: 'copied to another filesystem, verified, torrents repointed',
  reuse: 'repointed to a copy already there (nothing copied)',
  dedupe: 'identical files hardlinked on one filesystem',
  retire: 'old copy removed after the observation window',
  repair: 'corrupted file restored from a good copy',
  blocked: 'nothing happens until resolved',
  pending: 'waiting (observation window)',
  stay: 'held where it is by an external consumer',
  keep: 'already where it belongs',
};

const SECTIONS: [GroupAction[], string][] = [
  [['move', 'reuse', 'dedupe', 'retire', 'repair'], 'Changes'],
  [['blocked'], 'Blocked'],
  [['pending'], 'Pending'],
  [['stay'], 'Staying (held by an external consumer)'],
];

/** Bytes freed per filesystem as `3.0 GiB on `stash``, or '' when nothing is freed. */
function freedText(byFs: Map<string, number>): string {
  return [...byFs.entries()]
    .filter(([, b]) => b > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([fs, b]) => `${formatBytes(b)} on ${mdCode(fs, { inTable: true })}`)
    .join(', ');
}

function summaryTable(plan: Plan): string[] {
  const rows: string[] = ['| action | groups | copies | frees | meaning |', '|---|--:|--:|---|---|'];
  const allFreed = new Map<string, number>();
  let total = 0;
  let copies = 0;
  for (const action of ORDER) {
    const gs = plan.groups.filter((g) => g.action === action);
    if (gs.length === 0) continue;
    const freed = new Map<string, number>();
    let copy = 0;
    for (const g of gs) {
      copy += g.bytesToCopy;
      if (g.bytesToFree > 0) {
        const fs = g.from?.fs ?? '?';
        freed.set(fs, (freed.get(fs) ?? 0) + g.bytesToFree);
        allFreed.set(fs, (allFreed.get(fs) ?? 0) + g.bytesToFree);
      }
    }
    total += gs.length;
    copies += copy;
    const copyCell = copy > 0 || action === 'move' || action === 'reuse' ? formatBytes(copy) : '';
    rows.push(`| ${action} | ${gs.length} | ${copyCell} | ${freedText(freed)} | ${MEANING[action]} |`);
  }
  rows.push(`| **total** | ${total} | ${formatBytes(copies)} | ${freedText(allFreed)} | |`);
  return rows;
}

function headline(plan: Plan): string {
  const n = (a: GroupAction): number => plan.groups.filter((g) => g.action === a).length;
  if (ACTIONABLE.every((a) => n(a) === 0)) return `### hashall plan: no changes (${n('blocked')} blocked, ${n('pending')} pending)`;
  return `### hashall plan: ${n('move')} to move, ${n('reuse')} to reuse, ${n('dedupe')} to dedupe, ${n('retire')} to retire, ${n('blocked')} blocked`;
}

/** The `<summary>` line of a group: symbol, action, title, where, bytes, id — all plan text HTML-escaped. */
function groupSummary(g: PlanGroup): string {
  const where = g.from && g.to && g.from.fs !== g.to.fs ? ` ${htmlCode(g.from.fs)} → ${htmlCode(g.to.fs)}` : g.from ? ` on ${htmlCode(g.from.fs)}` : '';
  const bytes: string[] = [];
  if (g.bytesToCopy > 0) bytes.push(`copies ${formatBytes(g.bytesToCopy)}`);
  if (g.bytesToFree > 0) bytes.push(`frees ${formatBytes(g.bytesToFree)}`);
  const extra = bytes.length > 0 ? ` · ${bytes.join(' · ')}` : '';
  return `<summary>${htmlText(SYMBOLS[g.action].trim())} <b>${g.action}</b> ${htmlCode(g.title)}${where}${extra} (${htmlCode(g.id)})</summary>`;
}

function groupSection(g: PlanGroup): string[] {
  // The body is the text view's block of the group, uncoloured, in a code block: paths and names stay literal.
  return [`<details>${groupSummary(g)}`, '', mdCodeBlock(groupLines(g, { color: false })), '', '</details>', ''];
}

/** The plan as a pull-request comment (GitHub-flavoured markdown). */
export function renderPlanMarkdown(plan: Plan): string {
  const out: string[] = [headline(plan), ''];
  out.push(`Plan of ${mdCode(plan.createdAt)} for ${mdCode(plan.configPath)} (catalog serial ${plan.catalog.serial}).`, '');
  const runs = plan.unresolvedRuns ?? [];
  const blocked = plan.groups.filter((g) => g.action === 'blocked');
  if (runs.length > 0) {
    out.push('> [!CAUTION]', `> ${runs.length} earlier apply run(s) are unresolved: every group touching their paths is blocked until they are resolved.`, '');
    out.push(mdCodeBlock(runs.flatMap((r) => unresolvedRunLines(r, { color: false })).slice(0, -1)), '');
  }
  if (blocked.length > 0) {
    out.push(`**${blocked.length} blocked** — nothing happens to these until the reason is resolved:`, '');
    out.push('| group | title | why |', '|---|---|---|');
    for (const g of blocked) out.push(`| ${mdCode(g.id, { inTable: true })} | ${mdCode(g.title, { inTable: true })} | ${g.reasons.length > 0 ? mdCode(g.reasons[0]!, { inTable: true }) : ''} |`);
    out.push('');
  }
  if (plan.groups.length > 0) out.push(...summaryTable(plan), '');
  for (const [actions, title] of SECTIONS) {
    const gs = plan.groups.filter((g) => actions.includes(g.action));
    if (gs.length === 0) continue;
    out.push(`#### ${title} (${gs.length})`, '');
    for (const g of gs) out.push(...groupSection(g));
  }
  const keep = plan.groups.filter((g) => g.action === 'keep').length;
  if (keep > 0) out.push(`${keep} group(s) already where they belong are not listed.`, '');
  return out.join('\n').replace(/\n+$/, '') + '\n';
}
