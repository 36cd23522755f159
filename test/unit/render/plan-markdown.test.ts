// The pull-request markdown of a plan: file snapshot, structure read back by a real markdown parser (marked, GFM),
// and hostile names (HTML, markdown, table pipes, backtick and tilde fences, mentions) that must stay literal text.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { marked, type Token, type Tokens } from 'marked';
import { renderPlanMarkdown } from '../../../src/render/plan-markdown.js';
import { groupLines } from '../../../src/render/plan-text.js';
import { htmlCode, mdCode, mdCodeBlock } from '../../../src/render/markdown-escape.js';
import { printable } from '../../../src/render/escape.js';
import { serializePlan } from '../../../src/plan/plan-file.js';
import type { Plan } from '../../../src/plan/types.js';
import { runCli } from '../../support/cli.js';
import { showcasePlan } from './showcase.js';

const dir = mkdtempSync(path.join(tmpdir(), 'hashall-md-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** marked's escaping of text inside <code> (the same five characters). */
const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Every HTML tag name in rendered output (text is escaped by then, so a literal `<` starts a real tag). */
const tagNames = (html: string): string[] => [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!.toLowerCase());

const ALLOWED_TAGS = new Set(['h3', 'h4', 'p', 'code', 'pre', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'strong', 'details', 'summary', 'b', 'blockquote']);

const HOSTILE = [
  '</summary></details><img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  '| col | injected |',
  'a`b``c```',
  '`',
  '~~~~\n# Heading from a name\n~~~~',
  '@everyone see #1 [click](javascript:alert(1)) <https://evil.example> www.evil.example',
  '**bold** _em_ &lt; &amp; \\| \\',
  '  padded  ',
  'x\x1b[2K\u202eevil',
];

describe('markdown escapes', () => {
  it.each(HOSTILE)('mdCode keeps %j literal inline and in a table cell', (s) => {
    const want = `<code>${escapeHtml(printable(s))}</code>`;
    expect(marked.parseInline(mdCode(s))).toBe(want);
    const table = marked.lexer(`| a | b |\n|---|---|\n| ${mdCode(s, { inTable: true })} | z |\n`);
    const t = table[0] as Tokens.Table;
    expect(t.type).toBe('table');
    expect(t.rows).toHaveLength(1);
    expect(t.rows[0]).toHaveLength(2);
    expect(marked.parseInline(t.rows[0]![0]!.text)).toBe(want);
    expect(t.rows[0]![1]!.text).toBe('z');
  });

  it('a code block cannot be closed by its lines; htmlCode escapes HTML', () => {
    const lines = HOSTILE.map(printable);
    const toks = marked.lexer(mdCodeBlock(lines) + '\n\nafter\n');
    expect(toks[0]).toMatchObject({ type: 'code', text: lines.join('\n') });
    expect(toks.filter((t) => t.type === 'code')).toHaveLength(1);
    expect(htmlCode('</summary><b>')).toBe('<code>&lt;/summary&gt;&lt;b&gt;</code>');
  });
});

describe('renderPlanMarkdown', () => {
  it('renders the showcase plan (snapshot)', async () => {
    await expect(renderPlanMarkdown(showcasePlan())).toMatchFileSnapshot('__snapshots__/showcase.md');
  });

  it('reads back as: heading, blocked reasons first, the summary table, then one collapsible section per group', () => {
    const plan = showcasePlan();
    const toks = marked.lexer(renderPlanMarkdown(plan));
    const kinds = toks.filter((t) => t.type !== 'space');
    expect(kinds[0]).toMatchObject({ type: 'heading', depth: 3, text: 'hashall plan: 1 to move, 1 to reuse, 1 to dedupe, 1 to retire, 1 blocked' });
    const tables = toks.filter((t): t is Tokens.Table => t.type === 'table');
    expect(tables).toHaveLength(2);
    const [blocked, summary] = tables as [Tokens.Table, Tokens.Table];
    // Blocked reasons come before the summary table and before every group section.
    const firstDetails = toks.findIndex((t) => t.type === 'html' && t.raw.startsWith('<details>'));
    expect(toks.indexOf(blocked)).toBeLessThan(toks.indexOf(summary));
    expect(toks.indexOf(summary)).toBeLessThan(firstDetails);
    expect(blocked.header.map((h) => h.text)).toEqual(['group', 'title', 'why']);
    const g3 = plan.groups.find((g) => g.action === 'blocked')!;
    expect(blocked.rows.map((r) => r.map((c) => c.text))).toEqual([[mdCode(g3.id), mdCode(g3.title), mdCode(g3.reasons[0]!)]]);
    expect(summary.rows.map((r) => [r[0]!.text, r[1]!.text, r[2]!.text])).toEqual([
      ['move', '1', '9.0 GiB'],
      ['reuse', '1', '0 B'],
      ['dedupe', '1', ''],
      ['retire', '1', ''],
      ['blocked', '1', ''],
      ['pending', '1', ''],
      ['stay', '1', ''],
      ['keep', '2', ''],
      ['**total**', '9', '9.0 GiB'],
    ]);
    // One <details> per listed group, each followed by a code block holding exactly the text view's lines.
    const listed = plan.groups.filter((g) => g.action !== 'keep');
    const details = toks.flatMap((t, i) => (t.type === 'html' && t.raw.startsWith('<details>') ? [i] : []));
    expect(details).toHaveLength(listed.length);
    const bodies = details.map((i) => toks.slice(i + 1).find((t): t is Tokens.Code => t.type === 'code')!.text);
    expect(new Set(bodies)).toEqual(new Set(listed.map((g) => groupLines(g, { color: false }).join('\n'))));
    expect(toks.filter((t) => t.type === 'html' && t.raw.trim() === '</details>')).toHaveLength(listed.length);
    expect(tagNames(marked.parse(renderPlanMarkdown(plan)) as string).every((n) => ALLOWED_TAGS.has(n))).toBe(true);
  });

  it("a first adoption's plan fits GitHub's comment limit (65,536 characters), well-formed, saying what it leaves out and where to see it", () => {
    const base = showcasePlan();
    const move = base.groups.find((g) => g.action === 'move')!;
    const blocked = base.groups.find((g) => g.action === 'blocked')!;
    // 3,000 moves and 2,000 blocked groups: the whole markdown is megabytes.
    const groups = [
      ...Array.from({ length: 3000 }, (_, i) => ({ ...move, id: `m${i}`, title: `Movie.${i}.2019.1080p` })),
      ...Array.from({ length: 2000 }, (_, i) => ({ ...blocked, id: `b${i}`, title: `Show.${i}.S01` })),
    ];
    const plan: Plan = { ...base, groups };
    const md = renderPlanMarkdown(plan);
    expect(md.length).toBeLessThanOrEqual(65_536);
    // The heading and the summary table count everything.
    expect(md.split('\n')[0]).toBe('### hashall plan: 3000 to move, 0 to reuse, 0 to dedupe, 0 to retire, 2000 blocked');
    const toks = marked.lexer(md);
    const tables = toks.filter((t): t is Tokens.Table => t.type === 'table');
    const summary = tables.find((t) => t.header[0]!.text === 'action')!;
    expect(summary.rows.find((r) => r[0]!.text === 'move')![1]!.text).toBe('3000');
    // Every <details> opened is closed; nothing is cut mid-section.
    const opened = toks.filter((t) => t.type === 'html' && t.raw.startsWith('<details>')).length;
    const closed = toks.filter((t) => t.type === 'html' && t.raw.trim() === '</details>').length;
    expect(opened).toBeGreaterThan(0);
    expect(closed).toBe(opened);
    // What is left out is counted, with the way to see all of it.
    const shownBlocked = tables.find((t) => t.header[0]!.text === 'group')!.rows.length;
    expect(shownBlocked).toBeGreaterThan(0);
    expect(md).toContain(`${2000 - shownBlocked} more blocked group(s) not listed`);
    expect(md).toContain(`${5000 - opened} more group section(s) not shown`);
    expect(md).toMatch(/hashall show/);
    // A plan that fits is not touched by the limit.
    expect(renderPlanMarkdown(base)).not.toMatch(/more group section|more blocked group/);
  });

  it('a plan without changes says so in its heading', () => {
    const plan = showcasePlan();
    const quiet: Plan = { ...plan, groups: plan.groups.filter((g) => g.action === 'keep') };
    const md = renderPlanMarkdown(quiet);
    expect(md.split('\n')[0]).toBe('### hashall plan: no changes (0 blocked, 0 pending)');
    expect(md).toContain('2 group(s) already where they belong are not listed.');
  });

  it('hostile names in every string of the plan stay literal: no tag, heading, link, row or section of their own', () => {
    const base = showcasePlan();
    HOSTILE.forEach((evil, n) => {
      // Every string field of the plan (names, paths, reasons, ids, filesystem names, rule) becomes hostile.
      const poison = (v: unknown): unknown =>
        typeof v === 'string' ? `${v}${evil}` : Array.isArray(v) ? v.map(poison) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'action' || k === 'kind' ? x : poison(x)])) : v;
      const plan = { ...base, groups: poison(base.groups) as Plan['groups'], unresolvedRuns: [{ runId: `r${evil}`, status: 'needs-attention', startedAt: 0, command: `apply ${evil}`, attention: [`fix ${evil}`], paths: [], pausedTorrents: [{ hash: 'ab'.repeat(20), name: evil }] }] };
      const md = renderPlanMarkdown(plan);
      const toks = marked.lexer(md);
      const html = marked.parse(md) as string;
      const tags = tagNames(html);
      expect(tags.filter((t) => !ALLOWED_TAGS.has(t)), `case ${n}`).toEqual([]);
      const count = (name: string): number => tags.filter((t) => t === name).length;
      expect(count('details'), `case ${n}`).toBe(2 * base.groups.filter((g) => g.action !== 'keep').length);
      expect(count('summary'), `case ${n}`).toBe(2 * base.groups.filter((g) => g.action !== 'keep').length);
      expect(count('table'), `case ${n}`).toBe(4);
      expect(toks.filter((t) => t.type === 'heading').map((t) => (t as Tokens.Heading).depth)).toEqual([3, 4, 4, 4, 4]);
      const tables = toks.filter((t): t is Tokens.Table => t.type === 'table');
      expect(tables[0]!.rows.map((r) => r.length)).toEqual([3]);
      expect(marked.parseInline(tables[0]!.rows[0]![1]!.text)).toBe(`<code>${escapeHtml(printable(base.groups.find((g) => g.action === 'blocked')!.title + evil))}</code>`);
      // Each group's body is one code block holding the text view's lines; nothing leaked out of it.
      const codes = toks.filter((t): t is Tokens.Code => t.type === 'code').map((t) => t.text);
      for (const g of plan.groups.filter((x) => x.action !== 'keep')) expect(codes).toContain(groupLines(g, { color: false }).join('\n'));
      expect(html).not.toMatch(/<(img|script|a|h[126])\b/i);
      // No control character survives (printable first); the summaries carry the name escaped, inside <code>.
      expect(md).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f\u202e]/);
      const summaries = toks.filter((t: Token) => t.type === 'html' && t.raw.startsWith('<details>')).map((t) => t.raw);
      for (const s of summaries) expect(s.match(/<\/summary>/g)).toHaveLength(1);
    });
  });

  it('`hashall show FILE --format markdown` prints it; --json with another --format is refused', async () => {
    const plan = showcasePlan();
    const file = path.join(dir, 'plan.json');
    writeFileSync(file, serializePlan(plan));
    const r = await runCli(['show', file, '--format', 'markdown']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(renderPlanMarkdown(plan));
    const both = await runCli(['show', file, '--json', '--format', 'markdown']);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('--json and --format markdown ask for two different outputs');
    const bad = await runCli(['show', file, '--format', 'html']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Allowed choices are text, json, markdown/);
  });
});
