// CPU time from a /proc stat file (10 ms ticks): a process's or thread's own user + system time, or that of its ended children.
import { readFileSync } from 'node:fs';

/** User + system CPU (ms) in `statFile` (/proc/PID/stat, /proc/self/task/TID/stat): its own, or with `children` its ended children's. */
export function procCpuMs(statFile: string, children = false): number {
  const fields = (readFileSync(statFile, 'utf8').split(') ')[1] ?? '').split(' ');
  const at = children ? 13 : 11; // utime stime, or cutime cstime (fields 14–17 of stat(5), counted after the name)
  return (Number(fields[at]) + Number(fields[at + 1])) * 10;
}
