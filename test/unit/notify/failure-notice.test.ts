// A failure before any run as the targets read it: its own line breaks kept (a stale plan's reasons, one a line), a control character inside a line escaped.
import { describe, expect, it } from 'vitest';
import { failureNotice } from '../../../src/notify/notice.js';

describe('failureNotice', () => {
  it('keeps the line breaks of a multi-line error and escapes what a name could smuggle into a line', () => {
    const n = failureNotice('apply', 'saved plan is stale:\n  - g2 (Show\x1b[2J.B): no longer exists\n  - g7 (RT.Movie.B): torrent rt/979b71cc is no longer in client "rt"', { host: 'h', at: 0 });
    expect(n.message.split('\n')).toEqual(['saved plan is stale:', '  - g2 (Show\\x1b[2J.B): no longer exists', '  - g7 (RT.Movie.B): torrent rt/979b71cc is no longer in client "rt"']);
    expect(n.message).not.toContain('\\n');
  });
});
