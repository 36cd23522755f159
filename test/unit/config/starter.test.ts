// The starter config: which mounts become filesystems (pseudo, system, read-only and nesting ones do not).
import { describe, expect, it } from 'vitest';
import { parseMountInfo } from '../../../src/fs/mountinfo.js';
import { findDataMounts, starterConfigText } from '../../../src/config/starter.js';
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
`;

describe('starter config', () => {
  const mounts = parseMountInfo(MOUNTINFO);
  const { data, skippedOuter } = findDataMounts(mounts, (p) => p !== '/etc/hosts');

  it('keeps data mounts, turns bind mounts of one place into aliases, skips pseudo/system/ro/outer mounts', () => {
    expect(data.map((m) => [m.name, m.path, m.aliases])).toEqual([
      ['media', '/stash/media', ['/data/media']],
      ['media2', '/pool/media', []],
      ['disk2', '/srv/disk2', []],
      ['with-space', '/mnt/with space', []],
    ]);
    expect(skippedOuter).toEqual(['/srv']);
  });

  it('produces a file that validates (missing paths are only warnings)', () => {
    const text = starterConfigText({ mounts: data, skippedOuter, schemaRef: '../schemas/hashall.schema.json', mountInfoSource: 'test' });
    const r = checkText(text);
    expect(r.errors).toEqual([]);
    expect(r.config?.filesystems['with-space']?.path).toBe('/mnt/with space');
    expect(r.config?.seeding.media).toEqual(['/stash/media/torrents']);
    expect(text).toContain('# Not listed: /srv');
  });

  it('falls back to a single CHANGE ME filesystem when no data mount exists', () => {
    const text = starterConfigText({ mounts: [], skippedOuter: [], schemaRef: 'x', mountInfoSource: 'test' });
    expect(text).toContain('CHANGE ME');
    const r = checkText(text);
    expect(r.errors).toEqual([]);
    expect(Object.keys(r.config?.filesystems ?? {})).toEqual(['main']);
  });
});
