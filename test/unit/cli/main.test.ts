// The CLI shell: help lists the exit codes, unknown commands fail with exit 1.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';

describe('hashall CLI', () => {
  it('prints help with the documented exit codes and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: hashall');
    expect(r.stdout).toMatch(/4 +another hashall run holds the lock/);
  });

  it('rejects an unknown command with exit 1', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown command|too many arguments/);
  });

  it('a mistyped command gets one line and a did-you-mean, not the whole help', async () => {
    const r = await runCli(['paln']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("error: unknown command 'paln'\n(Did you mean plan?)\n(add --help for usage)\n");
    const opt = await runCli(['plan', '--bogus']);
    expect(opt.stderr).toBe("error: unknown option '--bogus'\n(add --help for usage)\n");
  });
});
