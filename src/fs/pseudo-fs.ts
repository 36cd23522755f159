// The kernel's pseudo filesystems (state, devices, control files: nothing stored) by mount type and by statfs magic, and the test of an open file.
import { statfsSync } from 'node:fs';
import { anchoredPath } from '../domain/anchored-path.js';

/** Filesystem types the kernel makes up: never data a scan could catalogue, never a file hashall reads as input. */
export const KERNEL_PSEUDO_FS = new Set(['proc', 'sysfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'debugfs', 'tracefs', 'securityfs', 'pstore', 'bpf', 'configfs', 'fusectl', 'efivarfs', 'mqueue', 'hugetlbfs', 'binfmt_misc', 'autofs', 'rpc_pipefs', 'nsfs', 'selinuxfs']);

/** statfs f_type of those (linux/magic.h); devtmpfs reports tmpfs's and is told by its files, which are devices. */
const MAGIC: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x6165676c, 'pstore'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0x65735543, 'fusectl'],
  [0xde5e81e4, 'efivarfs'],
  [0x19800202, 'mqueue'],
  [0x958458f6, 'hugetlbfs'],
  [0x42494e4d, 'binfmt_misc'],
  [0x0187, 'autofs'],
  [0x67596969, 'rpc_pipefs'],
  [0x6e736673, 'nsfs'],
  [0xf97cff8c, 'selinuxfs'],
]);

/**
 * The kernel pseudo filesystem holding the file open as `fd` (by its descriptor, so a path swapped meanwhile does not
 * matter), or null: a real file, or no /proc to ask through.
 */
export function pseudoFsOfFd(fd: number): string | null {
  try {
    return MAGIC.get(Number(statfsSync(anchoredPath(fd)).type)) ?? null;
  } catch {
    return null;
  }
}
