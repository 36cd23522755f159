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

/** GitHub's longest comment body, in characters: the markdown view is made to fit it (a longer one is refused). */
export const COMMENT_LIMIT = 65_536;

/** Characters of `lines` joined by newlines, with the newline after the last one. */
const sizeOf = (lines: readonly string[]): number => lines.reduce((n, l) => n + l.length + 1, 0);

/**
 * The plan as a pull-request comment (GitHub-flavoured markdown), at most `limit` characters (default: GitHub's
 * comment limit). The heading, the summary table and the section headings always count every group; when the whole
 * plan does not fit (a first adoption: thousands of groups), the blocked table takes up to half of the room left and
 * the group sections the rest, whole sections only, and what is left out is counted with where to see all of it.
 */
export function renderPlanMarkdown(plan: Plan, opts: { limit?: number } = {}): string {
  const limit = opts.limit ?? COMMENT_LIMIT;
  const all = renderWithin(plan, Infinity);
  return all.length <= limit ? all : renderWithin(plan, limit);
}

function renderWithin(plan: Plan, limit: number): string {
  const unlimited = limit === Infinity;
  const head: string[] = [headline(plan), ''];
  head.push(`Plan of ${mdCode(plan.createdAt)} for ${mdCode(plan.configPath)} (catalog serial ${plan.catalog.serial}).`, '');
  const runs = plan.unresolvedRuns ?? [];
  const blocked = plan.groups.filter((g) => g.action === 'blocked');
  if (runs.length > 0) {
    head.push('> [!CAUTION]', `> ${runs.length} earlier apply run(s) are unresolved: every group touching their paths is blocked until they are resolved.`, '');
    head.push(mdCodeBlock(runs.flatMap((r) => unresolvedRunLines(r, { color: false })).slice(0, -1)), '');
  }
  const blockedRows = blocked.map((g) => `| ${mdCode(g.id, { inTable: true })} | ${mdCode(g.title, { inTable: true })} | ${g.reasons.length > 0 ? mdCode(g.reasons[0]!, { inTable: true }) : ''} |`);
  const summary = plan.groups.length > 0 ? [...summaryTable(plan), ''] : [];
  const sections = SECTIONS.map(([actions, title]) => {
    const gs = plan.groups.filter((g) => actions.includes(g.action));
    return { heading: `#### ${title} (${gs.length})`, bodies: gs.map(groupSection) };
  }).filter((x) => x.bodies.length > 0);
  const keep = plan.groups.filter((g) => g.action === 'keep').length;
  const tail = keep > 0 ? [`${keep} group(s) already where they belong are not listed.`, ''] : [];
  // Room for the fixed parts and the two "not shown" lines; the rest is shared by the blocked rows and the sections.
  const NOTE = 240;
  let room = limit - sizeOf(head) - sizeOf(summary) - sizeOf(tail) - sections.reduce((n, x) => n + sizeOf([x.heading, '']), 0) - 2 * NOTE;
  const out: string[] = [...head];
  if (blocked.length > 0) {
    const intro = [`**${blocked.length} blocked** — nothing happens to these until the reason is resolved:`, '', '| group | title | why |', '|---|---|---|'];
    room -= sizeOf(intro) + 1;
    out.push(...intro);
    const share = unlimited ? Infinity : room / 2;
    let used = 0;
    let shown = 0;
    for (const row of blockedRows) {
      if (used + row.length + 1 > share) break;
      out.push(row);
      used += row.length + 1;
      shown++;
    }
    room -= used;
    out.push('');
    if (shown < blocked.length) out.push(`${blocked.length - shown} more blocked group(s) not listed (the comment would pass GitHub's limit of ${COMMENT_LIMIT} characters): \`hashall show\` of the plan file on the host lists every group.`, '');
  }
  out.push(...summary);
  let omitted = 0;
  for (const x of sections) {
    const shown: string[][] = [];
    for (const b of x.bodies) {
      const n = sizeOf(b);
      if (!unlimited && (omitted > 0 || n > room)) {
        omitted++;
        continue;
      }
      shown.push(b);
      room -= n;
    }
    if (shown.length === 0) continue;
    out.push(x.heading, '');
    for (const b of shown) out.push(...b);
  }
  if (omitted > 0) out.push(`${omitted} more group section(s) not shown (the comment would pass GitHub's limit of ${COMMENT_LIMIT} characters): \`hashall show\` of the plan file on the host prints every group.`, '');
  out.push(...tail);
  return out.join('\n').replace(/\n+$/, '') + '\n';
}
