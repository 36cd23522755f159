// `hashall reconcile` refuses an endless loop that would hammer the clients: an unbounded loop waits at least a minute
// between iterations (each one scans and syncs every client); `--every 6` (a plain number is seconds) was accepted.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';

describe('reconcile --every', () => {
  it('an unbounded loop with --every under 1m is a usage error naming the floor (exit 1), before anything runs', async () => {
    for (const every of ['6', '1ms', '59s']) {
      const r = await runCli(['reconcile', '--every', every, '--config', '/nonexistent/hashall.yaml']);
      expect(r.code, every).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`--every ${every}: .*at least 1m`));
      expect(r.stderr).not.toMatch(/config file not found/);
    }
    const six = await runCli(['reconcile', '--every', '6', '--config', '/nonexistent/hashall.yaml']);
    expect(six.stderr).toMatch(/a plain number is seconds/);
  });

  it('bounded runs (--once, --iterations) and 1m or more pass the check (and reach the config)', async () => {
    for (const args of [['--every', '1s', '--iterations', '2'], ['--every', '0s', '--once'], ['--every', '1m']]) {
      const r = await runCli(['reconcile', ...args, '--config', '/nonexistent/hashall.yaml']);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr).toMatch(/not found/);
    }
  });
});
