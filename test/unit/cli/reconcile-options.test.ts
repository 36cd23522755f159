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

  it('--iterations: a count past what a number holds is refused, and a bound that is no bound does not lift the floor', async () => {
    const huge = await runCli(['reconcile', '--every', '6h', '--iterations', '99999999999999999999', '--config', '/nonexistent/hashall.yaml']);
    expect(huge.code).toBe(1);
    expect(huge.stderr).toMatch(/--iterations 99999999999999999999: not a positive whole number/);
    // A quicker loop than 1m is for a few bounded runs (tests, a manual retry): a million of them hammers the clients as an endless one would.
    const quick = await runCli(['reconcile', '--every', '1ms', '--iterations', '1000000', '--config', '/nonexistent/hashall.yaml']);
    expect(quick.code).toBe(1);
    expect(quick.stderr).toMatch(/--every 1ms with --iterations 1000000: a loop quicker than 1m runs at most 100 iterations/);
    expect(quick.stderr).not.toMatch(/config file not found/);
    const slow = await runCli(['reconcile', '--every', '1m', '--iterations', '1000000', '--config', '/nonexistent/hashall.yaml']);
    expect(slow.code).toBe(3);
  });

  it('bounded runs (--once, --iterations) and 1m or more pass the check (and reach the config)', async () => {
    for (const args of [['--every', '1s', '--iterations', '2'], ['--every', '0s', '--once'], ['--every', '1m']]) {
      const r = await runCli(['reconcile', ...args, '--config', '/nonexistent/hashall.yaml']);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr).toMatch(/not found/);
    }
  });
});
