// doctor's hardlink probe in a seeding root another user writes: it removes only the files it made (device + inode),
// through the root held open — never a name that user planted or swapped in between its create and its removal.
// Runs as root (the suite does): the other user is uid 65534, acting through setpriv at the probe's hook.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mountTmpfs, unmount } from '../../support/mounts.js';
import path from 'node:path';
import { hardlinkProbe } from '../../../src/doctor/link-probe.js';

let root: string;
const asThem = (script: string): void => {
  execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', script], { cwd: root, stdio: 'pipe' });
};

beforeEach(() => {
  root = mkdtempSync('/tmp/hashall-link-probe-');
  chownSync(root, 65534, 65534);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('hardlink probe in a root another user writes', () => {
  it('leaves nothing behind when nobody interferes', () => {
    expect(hardlinkProbe(root)).toBeNull();
    expect(readdirSync(root)).toEqual([]);
  });

  it('their file planted at the link’s name (seen by inotify) is not removed; the probe file hashall made is', () => {
    const failed = hardlinkProbe(root, { beforeLink: (file) => asThem(`echo theirs > '${path.basename(file)}.link'`) });
    expect(failed).toMatch(/EEXIST/);
    const left = readdirSync(root);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/\.link$/);
    expect(readFileSync(path.join(root, left[0]!), 'utf8')).toBe('theirs\n');
  });

  it('the probe file swapped for theirs before the link: their file (and the link hashall made of it) is left, said so', () => {
    const failed = hardlinkProbe(root, { beforeLink: (file) => asThem(`mv '${path.basename(file)}' mine.moved && echo theirs > '${path.basename(file)}'`) });
    expect(failed).toMatch(/not a hardlink of|left as it is/);
    const names = readdirSync(root).sort();
    const probe = names.find((n) => /^\.hashall-probe-[0-9a-f]+$/.test(n));
    expect(probe, names.join(',')).toBeDefined();
    expect(readFileSync(path.join(root, probe!), 'utf8')).toBe('theirs\n');
    expect(statSync(path.join(root, probe!)).uid).toBe(65534);
  });

  it('the root proven by name, then swapped for their symlink to another filesystem before it is held: nothing is created there, said so', () => {
    // root/seeding on the proven filesystem (this one); root itself is theirs, so they can rename inside it.
    const seeding = path.join(root, 'seeding');
    mkdirSync(seeding);
    const provenDev = statSync(seeding).dev;
    const elsewhere = path.join(root, 'elsewhere');
    mountTmpfs(elsewhere, 1 << 20, 'elsewhere');
    try {
      const failed = hardlinkProbe(seeding, {
        beforeHold: () => asThem('mv seeding seeding.old && ln -s elsewhere seeding'),
        refuseDevice: (dev) => (dev === provenDev ? null : `is on device ${dev}, not the proven filesystem's ${provenDev}`),
      });
      expect(failed).toMatch(/not the proven filesystem/);
      expect(failed).toMatch(/nothing was created/);
      expect(readdirSync(elsewhere)).toEqual([]);
      expect(readdirSync(path.join(root, 'seeding.old'))).toEqual([]);
    } finally {
      unmount(elsewhere);
    }
  });

  it('on the proven filesystem the probe runs as before', () => {
    const dev = statSync(root).dev;
    expect(hardlinkProbe(root, { refuseDevice: (d) => (d === dev ? null : 'elsewhere') })).toBeNull();
    expect(readdirSync(root)).toEqual([]);
  });
});
