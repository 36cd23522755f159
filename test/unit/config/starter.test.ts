// The starter config: which mounts become filesystems (pseudo, system, read-only and nesting ones do not).
import { describe, expect, it } from 'vitest';
import { parseMountInfo } from '../../../src/fs/mountinfo.js';
import { findDataMounts, starterConfigText, starterMinFree, type DataMount } from '../../../src/config/starter.js';
import { checkText } from './temp-config.js';

const MOUNTINFO = `21 26 0:20 / /proc rw,relatime - proc proc rw
22 26 0:21 / /sys rw,relatime - sysfs sysfs rw
23 26 0:6 / /dev rw - devtmpfs devtmpfs rw
26 1 0:40 / / rw,relatime - overlay overlay rw,lowerdir=/x
30 26 0:27 / /run/user/0 rw - tmpfs tmpfs rw
31 26 254:1 / /boot rw - ext4 /dev/sda1 rw
40 26 0:50 / /stash/media rw - zfs stash/media rw
41 26 0:51 / /pool/media rw - zfs pool/media rw
42 26 0:50 / /data/media rw - zfs stash/media rw
43 26 8:17 / /mnt/usb ro - exfat /dev/sdb1 ro
44 26 8:33 / /srv rw - ext4 /dev/sdc1 rw
45 44 8:49 / /srv/disk2 rw - xfs /dev/sdd1 rw
46 26 254:0 /etc/hosts /etc/hosts rw - ext4 /dev/vda rw
47 26 8:65 / /mnt/with\\040space rw - ext4 /dev/sde1 rw
48 26 0:60 / /scratch rw - tmpfs scratch rw,size=8388608k
49 26 0:61 / /dev/shm rw - tmpfs tmpfs rw
50 26 0:62 / /tmp rw - tmpfs tmpfs rw
51 26 0:63 / /mnt/pool rw,relatime - fuse.mergerfs disk1:disk2 rw,user_id=0,group_id=0
52 26 8:81 / /mnt/disk1 rw - ext4 /dev/sdf1 rw
53 26 0:64 / /mnt/user rw,noatime - fuse.shfs shfs rw,user_id=0,group_id=0,allow_other
54 26 8:97 / /mnt/card rw - vfat /dev/sdg1 rw
`;

describe('starter config', () => {
  const mounts = parseMountInfo(MOUNTINFO);
  const { data, skippedOuter, skippedPools, skippedNoLinks } = findDataMounts(mounts, (p) => p !== '/etc/hosts');

  it('keeps data mounts, turns bind mounts of one place into aliases, skips pseudo/system/ro/outer mounts', () => {
    expect(data.map((m) => [m.name, m.path, m.aliases])).toEqual([
      ['media', '/stash/media', ['/data/media']],
      ['media2', '/pool/media', []],
      ['disk2', '/srv/disk2', []],
      ['with-space', '/mnt/with space', []],
      ['scratch', '/scratch', []], // a tmpfs where data lives is offered; /dev/shm, /tmp, /run are not
      ['disk1', '/mnt/disk1', []], // a mergerfs branch is; the pool over it is not
    ]);
    expect(skippedOuter).toEqual(['/srv']);
    expect(skippedPools).toEqual([
      { path: '/mnt/pool', name: 'mergerfs' },
      { path: '/mnt/user', name: 'Unraid user-share' },
    ]);
    expect(skippedNoLinks).toEqual([{ path: '/mnt/card', fsType: 'vfat' }]); // no hardlinks: not offered
  });

  it('produces a file that validates (missing paths are only warnings)', () => {
    const text = starterConfigText({ mounts: data, skippedOuter, skippedPools, skippedNoLinks, schemaRef: '../schemas/hashall.schema.json', mountInfoSource: 'test' });
    const r = checkText(text);
    expect(r.errors).toEqual([]);
    expect(r.config?.filesystems['with-space']?.path).toBe('/mnt/with space');
    expect(r.config?.seeding.media).toEqual(['/stash/media/torrents']);
    expect(text).toContain('# Not listed: /srv');
    expect(text).toContain('# Not listed: /mnt/pool (a mergerfs pool: its inode numbers do not identify files');
    expect(text).toContain('# Not listed: /mnt/user (an Unraid user-share pool: its inode numbers do not identify files');
    expect(text).toContain('# Not listed: /mnt/card (vfat: no hardlinks, and inode numbers made up per mount');
  });

  it('mentions safety.retire.purgeCheck (commented, at its default, with the trade); uncommented as either choice it still validates', () => {
    const text = starterConfigText({ mounts: data, skippedOuter, schemaRef: '../schemas/hashall.schema.json', mountInfoSource: 'test' });
    const line = text.split('\n').find((l) => /^\s*#\s*purgeCheck:/.test(l));
    expect(line, 'a commented purgeCheck line').toBeDefined();
    expect(line).toMatch(/^ {4}# purgeCheck: full\b/); // under safety.retire, at the schema's default
    // Its comment (that line and the ones below it, up to the next key) says the other choice and what it gives up.
    const comment = text.slice(text.indexOf(line!), text.indexOf('\n  minFree:'));
    expect(comment).toMatch(/stamp/);
    expect(comment).toMatch(/bit rot/);
    expect(comment).toMatch(/reads as many bytes as it frees/);
    expect(checkText(text).config?.safety.retire.purgeCheck).toBe('full');
    for (const choice of ['full', 'stamp'] as const) {
      const on = text.replace(line!, line!.replace('# purgeCheck: full', `purgeCheck: ${choice}`));
      const r = checkText(on);
      expect(r.errors).toEqual([]);
      expect(r.config?.safety.retire.purgeCheck).toBe(choice);
    }
  });

  it('lists two mounts showing different folders of one filesystem once (two entries on one device are a config error), and says why', () => {
    const binds = parseMountInfo(`26 1 0:40 / / rw - overlay overlay rw
60 26 8:113 /data/torrents /mnt/pool rw - ext4 /dev/sdh1 rw
61 26 8:113 /data /mnt/stash rw - ext4 /dev/sdh1 rw
62 26 8:113 /data /srv/stash rw - ext4 /dev/sdh1 rw
`);
    const found = findDataMounts(binds, () => true);
    expect(found.data.map((m) => [m.path, m.aliases])).toEqual([['/mnt/stash', ['/srv/stash']]]);
    expect(found.skippedSameFs).toEqual([{ path: '/mnt/pool', sameAs: '/mnt/stash' }]);
    const text = starterConfigText({ mounts: found.data, skippedOuter: [], skippedSameFs: found.skippedSameFs, schemaRef: 'x', mountInfoSource: 'test' });
    expect(text).toContain('# Not listed: /mnt/pool (another mount of the filesystem listed at /mnt/stash, showing another folder of it: one filesystem is one entry');
  });

  it('falls back to a single CHANGE ME filesystem when no data mount exists', () => {
    const text = starterConfigText({ mounts: [], skippedOuter: [], schemaRef: 'x', mountInfoSource: 'test' });
    expect(text).toContain('CHANGE ME');
    const r = checkText(text);
    expect(r.errors).toEqual([]);
    expect(Object.keys(r.config?.filesystems ?? {})).toEqual(['main']);
  });

  it('sizes safety.minFree from the real disks: 10GiB, but at most 5 % of the smallest, and says why', () => {
    const m = (name: string, totalBytes?: number): DataMount => ({ name, path: `/${name}`, aliases: [], fsType: 'ext4', source: 'x', ...(totalBytes !== undefined ? { totalBytes } : {}) });
    expect(starterMinFree([m('big', 4 * 2 ** 40), m('huge', 16 * 2 ** 40)]).text).toBe('10GiB');
    expect(starterMinFree([m('unknown')]).text).toBe('10GiB');
    const small = starterMinFree([m('big', 4 * 2 ** 40), m('ssd', 64 * 2 ** 30)]);
    expect(small).toEqual({ text: '3GiB', why: '5 % of ssd (64.0 GiB), the smallest filesystem here; 10GiB would block every move to it' });
    expect(starterMinFree([m('tiny', 8 * 2 ** 20)]).text).toBe('1MiB');
    expect(starterMinFree([m('stick', 8 * 2 ** 30)]).text).toBe('409MiB');
    const text = starterConfigText({ mounts: [m('stick', 8 * 2 ** 30)], skippedOuter: [], schemaRef: 'x', mountInfoSource: 'test' });
    expect(text).toMatch(/minFree: 409MiB +# 5 % of stick/);
    expect(checkText(text).errors).toEqual([]);
    expect(checkText(text).config?.safety.minFree).toBe(409 * 2 ** 20);
  });

  it('marks a tmpfs as volatile in the starter file', () => {
    const text = starterConfigText({ mounts: data, skippedOuter, schemaRef: 'x', mountInfoSource: 'test' });
    expect(text).toContain('scratch:  # tmpfs scratch — in memory: its contents vanish at reboot');
  });
});
