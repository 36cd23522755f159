// How a chat service's markdown reads a text, literally (test support): which markup characters stay live (not backslash-escaped), which lines start with a list or heading marker, and the text a reader sees.

/**
 * `text` read as a markdown receiver reads it: a backslash before ASCII punctuation shows that character; any other
 * character matching `inline` is live markup; a line matching `lineStart` is a list or underline marker.
 */
export function readMarkdown(text: string, inline: RegExp, lineStart: RegExp): { live: string[]; shown: string } {
  const live: string[] = [];
  let shown = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length && /[!-/:-@[-`{-~]/.test(text[i + 1]!)) {
      shown += text[++i];
      continue;
    }
    if (inline.test(c)) live.push(c);
    shown += c;
  }
  for (const line of text.split('\n')) if (lineStart.test(line)) live.push(`line start: ${line}`);
  return { live, shown };
}
