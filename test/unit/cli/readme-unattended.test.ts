// The README's cron line and systemd units work when copied: cron runs with PATH=/usr/bin:/bin (an npm-installed
// hashall is in /usr/local/bin), and systemd takes no comment after a value (`KEY=value  # note` makes the note part
// of the value: EnvironmentFile then names a file that does not exist and the service never starts).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const blocks = (lang: string): string[] => [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

describe('README: running unattended', () => {
  it('the cron line names hashall by its absolute path', () => {
    const lines = blocks('cron').flatMap((b) => b.split('\n')).filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l.split(/\s+/)[5], l).toMatch(/^\/\S*\/hashall$/);
  });

  it('the systemd units put comments on lines of their own and run hashall by its absolute path', () => {
    const lines = blocks('ini').flatMap((b) => b.split('\n'));
    expect(lines.some((l) => l.startsWith('ExecStart='))).toBe(true);
    for (const l of lines) {
      if (l.trim() === '' || /^[#;]/.test(l) || /^\[[A-Za-z]+\]$/.test(l)) continue;
      expect(l, 'KEY=value').toMatch(/^[A-Za-z]+=\S/);
      expect(l, 'a comment after a value becomes part of it').not.toMatch(/\s[#;]/);
      if (l.startsWith('ExecStart=')) expect(l).toMatch(/^ExecStart=\/\S*\/hashall /);
    }
  });
});
