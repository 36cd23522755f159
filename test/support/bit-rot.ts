// Bit rot on a real file for tests: one byte flipped in place with the mtime put back exactly (`touch -r`, nanoseconds).
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

/** Overwrite one byte in place and put the mtime back exactly: what bit rot looks like to size + mtime checks. */
export function rot(file: string, offset: number): void {
  const ref = `${file}.mtime-ref`;
  execFileSync('touch', ['-r', file, ref]);
  const fd = openSync(file, 'r+');
  const byte = Buffer.alloc(1);
  byte[0] = (readFileSync(file)[offset]! ^ 0x5a) & 0xff;
  writeSync(fd, byte, 0, 1, offset);
  closeSync(fd);
  execFileSync('touch', ['-r', ref, file]);
  execFileSync('rm', [ref]);
}
