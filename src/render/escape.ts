// The one place human output makes untrusted text (file names, torrent names, messages) safe to print (pure).

/**
 * Characters a terminal acts on instead of showing: C0 controls (newline, carriage return, ESC …), DEL, C1
 * controls, the Unicode line/paragraph separators and the bidirectional overrides/isolates that reorder what a
 * reviewer reads. The backslash is escaped too, so the escaped form is unambiguous.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\\]/g;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

function escapeChar(ch: string): string {
  const short = SHORT[ch];
  if (short !== undefined) return short;
  const code = ch.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Text as it may appear in human output: every character that could move the cursor, start a new line, change
 * colours or reorder text is shown as a C-style escape (`\n`, `\x1b`, `\u202e`, `\\`), like `ls -b`. A crafted
 * name can then never forge or hide a line of a plan under review. JSON output does not use this: it stays exact.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** A multi-line text whose line breaks are meant (an error listing problems): each line made printable on its own. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
