// Markdown and HTML pieces that keep untrusted text (file, torrent and run names, paths, reasons) literal (pure).
//
// Must never: let a name end a code span, a table cell, a code block or an HTML element, start a line, or reach the
// renderer as markdown or HTML. Every untrusted string goes through exactly one of these, after printable() (so it
// holds no line break or control character): inside code, GitHub also leaves @mentions, #references and URLs alone.
import { printable } from './escape.js';

function longestRun(text: string, ch: string): number {
  let best = 0;
  let run = 0;
  for (const c of text) {
    run = c === ch ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

/**
 * An inline code span holding `text` literally: the backtick fence is longer than any backtick run inside it, so
 * only its own closing fence ends it (a code span opened first wins over any HTML tag or autolink inside). In a
 * table cell (`inTable`) a `|` is written `\|`: GFM splits cells before it parses code spans and turns `\|` back
 * into `|` inside them.
 */
export function mdCode(text: string, opts: { inTable?: boolean } = {}): string {
  let t = printable(text);
  if (t === '') return '` `';
  const fence = '`'.repeat(longestRun(t, '`') + 1);
  // One space each side is stripped by the parser; it keeps a leading/trailing backtick from joining the fence.
  if (t.startsWith('`') || t.endsWith('`') || (t.startsWith(' ') && t.endsWith(' '))) t = ` ${t} `;
  if (opts.inTable) t = t.replaceAll('|', '\\|');
  return `${fence}${t}${fence}`;
}

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an HTML context (a `<summary>` line): printable, then `& < > " '` as character references. */
export function htmlText(text: string): string {
  return printable(text).replace(/[&<>"']/g, (c) => HTML[c]!);
}

/** `<code>…</code>` around htmlText(text). */
export function htmlCode(text: string): string {
  return `<code>${htmlText(text)}</code>`;
}

/**
 * A fenced code block of lines that are already printable (no line breaks inside a line). The fence is tildes,
 * longer than any tilde run in the lines, so no line can close it.
 */
export function mdCodeBlock(lines: readonly string[]): string {
  const fence = '~'.repeat(Math.max(3, ...lines.map((l) => longestRun(l, '~') + 1)));
  return [fence, ...lines, fence].join('\n');
}

/** CommonMark markup characters outside code: emphasis, code, strikethrough, links and images, HTML and autolinks, entities, tables, headings, math. */
const MD_INLINE = /[\\`*_~[\]()<>&|#!$]/g;
/** Markup that only counts at a line's start: lists, setext underlines (`-`, `+`, `=`, `1.`, `1)`); `#` and `>` are escaped everywhere. */
const MD_LINE_START = /^(\s*)([-+=]|\d+[.)])/gm;

/**
 * Text for a markdown receiver that has no plain-text switch (Mattermost), kept literal outside code: every markup
 * character backslash-escaped, as CommonMark shows any escaped ASCII punctuation literally (an escaped `&` starts no
 * entity). Line breaks are kept: each line must already be printable. Mentions are the receiver's own affair.
 */
export function mdLiteral(text: string): string {
  return text.replace(MD_INLINE, '\\$&').replace(MD_LINE_START, (_m, space: string, mark: string) => `${space}${mark.replace(/[-+=.)]$/, '\\$&')}`);
}
