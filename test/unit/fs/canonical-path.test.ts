// Canonical path helpers: whole-segment prefixes, aliases, preferred mount choice and bind-mount mapping.
import { describe, expect, it } from 'vitest';
import { applyAliases, canonicalFromFsPath, choosePreferredMount, fsInternalPath, rewritePrefix } from '../../../src/fs/canonical-path.js';
import { isAtOrUnder as isUnder } from '../../../src/domain/path-string.js';
import { parseMountInfo } from '../../../src/fs/mountinfo.js';
import { identifyFilesystem, uuidFromSuperblock, type IdentityProbes } from '../../../src/fs/filesystem-identity.js';

const MOUNTS = parseMountInfo(
  [
    '22 1 254:1 / / rw - ext4 /dev/vda1 rw',
    '40 22 0:45 / /stash rw - zfs stash rw',
    '41 22 0:45 /media /data/media rw - zfs stash rw',
    '42 22 0:46 /sub /only-bind rw - tmpfs t rw',
  ].join('\n'),
);

const probes = (over: Partial<IdentityProbes> = {}): IdentityProbes => ({
  byUuid: () => new Map(),
  readDevice: () => null,
  zfsGuid: () => null,
  deviceNumber: () => null,
  ...over,
});

describe('canonical paths', () => {
  it('matches prefixes on whole segments only', () => {
    expect(isUnder('/a/foo/x', '/a/foo')).toBe(true);
    expect(isUnder('/a/foo bar', '/a/foo')).toBe(false);
    expect(isUnder('/a/foo_', '/a/foo')).toBe(false);
    expect(rewritePrefix('/data/media/x', '/data/media', '/stash/media')).toBe('/stash/media/x');
    expect(rewritePrefix('/data/mediax', '/data/media', '/stash/media')).toBeNull();
    expect(applyAliases('/srv/m/a', [{ from: '/srv', to: '/x' }, { from: '/srv/m', to: '/stash/media' }])).toBe('/stash/media/a');
  });

  it('maps a bind mount to the mount showing the whole filesystem unless the config prefers another', () => {
    const bind = MOUNTS[2]!;
    expect(fsInternalPath('/data/media/tv/a', bind)).toBe('/media/tv/a');
    const pref = choosePreferredMount('0:45', MOUNTS, []);
    expect(pref?.mountPoint).toBe('/stash');
    expect(canonicalFromFsPath('/media/tv/a', pref!)).toBe('/stash/media/tv/a');
    expect(choosePreferredMount('0:45', MOUNTS, ['/data/media/x'])?.mountPoint).toBe('/data/media');
    expect(canonicalFromFsPath('/other', MOUNTS[2]!)).toBeNull();
  });

  it('identifies filesystems by by-uuid link, superblock, zfs guid, or the documented fallback', () => {
    expect(identifyFilesystem(MOUNTS[1]!, MOUNTS, probes({ zfsGuid: (d) => (d === 'stash' ? '123' : null) })).uuid).toBe('zfs:123');
    expect(identifyFilesystem(MOUNTS[1]!, MOUNTS, probes()).uuid).toBe('fallback:zfs:stash:/stash');
    expect(identifyFilesystem(MOUNTS[3]!, MOUNTS, probes()).uuid).toBe('fallback:tmpfs:t:/only-bind@/sub');
    expect(identifyFilesystem(MOUNTS[0]!, MOUNTS, probes({ byUuid: () => new Map([['/dev/vda1', 'abcd']]) })).uuid).toBe('uuid:abcd');
    const sb = Buffer.alloc(1024);
    sb.writeUInt16LE(0xef53, 0x38);
    Buffer.from('00112233445566778899aabbccddeeff', 'hex').copy(sb, 0x68);
    const ext = identifyFilesystem(MOUNTS[0]!, MOUNTS, probes({ deviceNumber: () => '254:1', readDevice: (_d, o) => (o === 1024 ? sb : null) }));
    expect(ext).toMatchObject({ uuid: 'uuid:00112233-4455-6677-8899-aabbccddeeff', method: 'superblock' });
    // A superblock of a device whose number does not match st_dev is not trusted.
    expect(identifyFilesystem(MOUNTS[0]!, MOUNTS, probes({ deviceNumber: () => '8:1', readDevice: () => sb })).method).toBe('fallback');
    expect(uuidFromSuperblock('xfs', () => Buffer.alloc(64))).toBeNull();
  });

  it('identifies an NTFS volume (ntfs-3g fuseblk, ntfs3) by its volume serial as blkid spells it; a fuseblk that is not NTFS keeps the fallback', () => {
    const boot = Buffer.alloc(0x50);
    boot.write('NTFS    ', 3, 'latin1');
    Buffer.from('0a3b9427a0ca2e01', 'hex').copy(boot, 0x48); // blkid: UUID=012ECAA027943B0A
    const ntfs = parseMountInfo('66 22 7:0 / /pool rw,relatime - fuseblk /dev/loop0 rw,user_id=0,group_id=0,allow_other')[0]!;
    const all = [...MOUNTS, ntfs];
    const at = (b: Buffer) => probes({ deviceNumber: () => '7:0', readDevice: (_d, o, l) => (o === 0 ? b.subarray(0, l) : null) });
    for (const fsType of ['fuseblk', 'ntfs3']) {
      expect(identifyFilesystem({ ...ntfs, fsType }, all, at(boot))).toMatchObject({ uuid: 'uuid:012ECAA027943B0A', method: 'superblock' });
    }
    // With udev's by-uuid link (same spelling), once the boot sector says NTFS.
    expect(identifyFilesystem(ntfs, all, { ...at(boot), byUuid: () => new Map([['/dev/loop0', '012ECAA027943B0A']]) })).toMatchObject({ uuid: 'uuid:012ECAA027943B0A', method: 'by-uuid' });
    const exfat = Buffer.from(boot);
    exfat.write('EXFAT   ', 3, 'latin1');
    expect(identifyFilesystem(ntfs, all, { ...at(exfat), byUuid: () => new Map([['/dev/loop0', '1234-ABCD']]) })).toMatchObject({ uuid: 'fallback:fuseblk:/dev/loop0:/pool', method: 'fallback' });
  });
});
