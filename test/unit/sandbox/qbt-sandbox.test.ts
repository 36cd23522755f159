// The qBittorrent sandbox names a daemon that died on its own (how it ended) instead of leaving a test with a bare ECONNREFUSED.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { qbtSandboxes } from '../../../src/sandbox/qbt-sandbox.js';

const qbts = qbtSandboxes();
afterAll(() => qbts.stopAll());

describe('qbt sandbox: a daemon that exits without being stopped', () => {
  it('is reported on stderr at once, and the next API call fails naming the signal', async () => {
    const sb = await qbts.start();
    expect((await sb.api('GET', '/app/version')).status).toBe(200);
    const said: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      said.push(String(chunk));
      return true;
    });
    try {
      process.kill(sb.pid, 'SIGKILL'); // the daemon this test started, by its PID
      await expect.poll(() => said.join(''), { timeout: 10_000, interval: 50 }).toContain(`qbittorrent-nox (pid ${sb.pid}) exited on its own: signal SIGKILL`);
    } finally {
      spy.mockRestore();
    }
    await expect(sb.api('GET', '/app/version')).rejects.toThrow(/qbt sandbox: qbittorrent-nox \(pid \d+\) exited on its own: signal SIGKILL/);
    // A restart clears it: the new daemon answers and nothing is reported for the one stop() ends.
    await sb.restart();
    expect((await sb.api('GET', '/app/version')).status).toBe(200);
  });
});
