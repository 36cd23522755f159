// A hashall.yaml another local user could change is refused before it is read: whoever can edit it decides what hashall
// (run as root) moves, links and removes — a file writable by its group or others, owned by another user, or in a
// folder they could rename it out of. As logrotate and sshd judge their configs. Before: read and acted on silently.
// Runs as root (the suite does: it chowns files to another user).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, closeSync, fstatSync, lchownSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../../support/cli.js';
import { untrustedInput } from '../../../src/fs/trusted-place.js';

let dir: string;
let cfg: string;

beforeEach(() => {
  dir = mkdtempSync('/tmp/hashall-config-trust-');
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, 'seeding'));
  mkdirSync(path.join(dir, 'state'), { mode: 0o700 });
  cfg = path.join(dir, 'hashall.yaml');
  writeFileSync(cfg, `version: 1\ncatalog: ${dir}/state/catalog.db\nfilesystems:\n  disk: { path: ${dir} }\nseeding:\n  disk: [${dir}/seeding]\n`, { mode: 0o644 });
  chmodSync(cfg, 0o644);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('a config another user could change, read as root', () => {
  it('is valid as written by root, 0644, in folders only root can write', async () => {
    const r = await runCli(['validate', '--config', cfg]);
    expect(r.stdout).toContain('valid (0 errors');
    expect(r.code).toBe(0);
  });

  it.each([
    [0o666, 'other users'],
    [0o664, 'its group'],
  ])('mode %o (group nogroup, which user nobody is in): refused (exit 3) by validate, scan and plan, naming the file, who can write it and the fix; nothing is scanned', async (mode, who) => {
    chownSync(cfg, 0, 65534);
    chmodSync(cfg, mode);
    for (const cmd of [['validate'], ['scan'], ['plan']]) {
      const r = await runCli([...cmd, '--config', cfg]);
      expect(r.stderr, cmd[0]).toContain(`${cfg}:1:1: error: config ${cfg} is writable by ${who}`);
      expect(r.stderr, cmd[0]).toContain(`chmod go-w ${cfg}`);
      expect(r.code, cmd[0]).toBe(3);
    }
    expect(() => chmodSync(path.join(dir, 'state', 'catalog.db'), 0o600)).toThrow(/ENOENT/);
  });

  it('group-writable for a group that holds only its owner (a user private group; here root:root): valid', async () => {
    chownSync(cfg, 0, 0);
    chmodSync(cfg, 0o664);
    const r = await runCli(['validate', '--config', cfg]);
    expect(r.stdout).toContain('valid (0 errors');
    expect(r.code).toBe(0);
  });

  it('`hashall init` under umask 000 writes a config no other user may write (0644), which the next command reads', async () => {
    const at = mkdtempSync(path.join(dir, 'init-'));
    const before = process.umask(0);
    try {
      expect((await runCli(['init', '--path', at])).code).toBe(0);
    } finally {
      process.umask(before);
    }
    expect(statSync(path.join(at, 'hashall.yaml')).mode & 0o777).toBe(0o644);
    expect((await runCli(['validate', '--config', path.join(at, 'hashall.yaml')])).code).toBe(0);
  });

  it("owned by another user: refused — unless that user ran sudo (SUDO_UID), who can act as root anyway", async () => {
    chownSync(cfg, 65534, 65534);
    const r = await runCli(['validate', '--config', cfg]);
    expect(r.stderr).toContain(`error: config ${cfg} is owned by uid 65534, not root`);
    expect(r.code).toBe(3);
    const sudo = await runCli(['validate', '--config', cfg], { env: { ...process.env, NO_COLOR: '1', SUDO_UID: '65534' } });
    expect(sudo.stdout).toContain('valid (0 errors');
    expect(sudo.code).toBe(0);
  });

  it('in a folder others can write without the sticky bit: refused, naming the folder; a sticky one (like /tmp) is fine', async () => {
    chmodSync(dir, 0o777);
    const r = await runCli(['validate', '--config', cfg]);
    expect(r.stderr).toContain(`error: folder ${dir} holding the config is writable by other users`);
    expect(r.stderr).toContain(`chmod go-w ${dir}`);
    expect(r.code).toBe(3);
    chmodSync(dir, 0o1777);
    const sticky = await runCli(['validate', '--config', cfg]);
    expect(sticky.stdout).toContain('valid (0 errors');
    expect(sticky.code).toBe(0);
  });

  it('through a symlink, the file it points to is judged, and the folders on the way to it', async () => {
    const open = mkdtempSync('/tmp/hashall-config-trust-open-');
    try {
      chmodSync(open, 0o777);
      const real = path.join(open, 'hashall.yaml');
      writeFileSync(real, `version: 1\ncatalog: ${dir}/state/catalog.db\nfilesystems:\n  disk: { path: ${dir} }\n`, { mode: 0o644 });
      chmodSync(real, 0o644);
      rmSync(cfg);
      const { symlinkSync } = await import('node:fs');
      symlinkSync(real, cfg);
      const r = await runCli(['validate', '--config', cfg]);
      expect(r.stderr).toContain(`folder ${open} holding the config is writable by other users`);
      expect(r.code).toBe(3);
    } finally {
      rmSync(open, { recursive: true, force: true });
    }
  });

  // Before: only where the link led was judged (realPlace) — a root config reached through a link another user could
  // point anywhere (at their own copy, swapped in between the review and cron's run) was read as trusted.
  it('through a symlink another user owns (planted in their folder): refused naming the link, though it leads to root’s config', async () => {
    const theirs = mkdtempSync('/tmp/hashall-config-trust-theirs-');
    try {
      chmodSync(theirs, 0o755);
      chownSync(theirs, 65534, 65534);
      const link = path.join(theirs, 'hashall.yaml');
      symlinkSync(cfg, link);
      lchownSync(link, 65534, 65534);
      const r = await runCli(['validate', '--config', link]);
      expect(r.stderr).toContain(`symlink ${link} on the way to the config is owned by uid 65534, not root`);
      expect(r.code).toBe(3);
    } finally {
      rmSync(theirs, { recursive: true, force: true });
    }
  });

  it('through a root symlink in a folder others write without the sticky bit (they could swap it): refused', async () => {
    const open = mkdtempSync('/tmp/hashall-config-trust-swap-');
    try {
      chmodSync(open, 0o777);
      const link = path.join(open, 'hashall.yaml');
      symlinkSync(cfg, link);
      const r = await runCli(['validate', '--config', link]);
      expect(r.stderr).toContain(`symlink ${link} on the way to the config lies in folder ${open}, writable by other users`);
      expect(r.code).toBe(3);
      // A root link in a folder only root writes is fine.
      const safe = path.join(dir, 'state', 'link.yaml');
      symlinkSync(cfg, safe);
      expect((await runCli(['validate', '--config', safe])).code).toBe(0);
    } finally {
      rmSync(open, { recursive: true, force: true });
    }
  });

  it('the file judged is the one opened (its descriptor), not what its name leads to afterwards', () => {
    const open = mkdtempSync('/tmp/hashall-config-trust-fd-');
    try {
      chmodSync(open, 0o777);
      const planted = path.join(open, 'hashall.yaml');
      writeFileSync(planted, 'version: 1\n', { mode: 0o644 });
      chmodSync(planted, 0o644);
      // Opened where everyone may write; judged under the name of root's config (as a name swapped in between would lead).
      const fd = openSync(planted, 'r');
      try {
        const found = untrustedInput(cfg, fstatSync(fd), {}, fd);
        expect(found?.at).toBe(open);
        expect(found?.problem).toBe('is writable by other users');
      } finally {
        closeSync(fd);
      }
    } finally {
      rmSync(open, { recursive: true, force: true });
    }
  });
});
