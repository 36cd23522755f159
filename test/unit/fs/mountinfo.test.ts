// mountinfo parsing: escapes, bind-mount roots, longest-prefix lookup on whole segments, st_dev decoding.
import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { devToMajorMinor, findMountFor, parseMountInfo, readMountInfo } from '../../../src/fs/mountinfo.js';

const SAMPLE = [
  '22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
  '40 22 0:45 / /stash rw shared:20 - tmpfs stash rw,size=65536k',
  '41 22 0:45 /media /data/media rw shared:20 - tmpfs stash rw,size=65536k',
  '42 22 0:46 / /stash\\040two rw - tmpfs x rw',
].join('\n');

describe('mountinfo', () => {
  it('parses fields, bind roots and octal escapes', () => {
    const m = parseMountInfo(SAMPLE);
    expect(m).toHaveLength(4);
    expect(m[2]).toMatchObject({ majorMinor: '0:45', root: '/media', mountPoint: '/data/media', fsType: 'tmpfs' });
    expect(m[3]?.mountPoint).toBe('/stash two');
  });

  it('finds the mount by longest whole-segment prefix', () => {
    const m = parseMountInfo(SAMPLE);
    expect(findMountFor(m, '/stash/media/x')?.mountPoint).toBe('/stash');
    expect(findMountFor(m, '/stashy/file')?.mountPoint).toBe('/');
    expect(findMountFor(m, '/data/media')?.root).toBe('/media');
    expect(findMountFor(m, '/stash two/a')?.mountPoint).toBe('/stash two');
  });

  it('decodes st_dev to the major:minor of the real mount table', () => {
    const entries = readMountInfo();
    const st = statSync('/proc/self');
    const mm = devToMajorMinor(st.dev);
    expect(entries.some((e) => e.majorMinor === mm)).toBe(true);
    expect(devToMajorMinor((259 << 8) | 3)).toBe('259:3');
  });
});
