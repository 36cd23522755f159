// The FsPort's verified copy, hash and byte comparison read files with buffers sized to the file: every size around the buffer bounds hashes, copies and compares exactly.
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { bytesFor, makeApplyFixture, sha256, type ApplyFixture } from '../../support/apply-fixture.js';

let w: ApplyFixture | null = null;
afterEach(() => {
  w?.cleanup();
  w = null;
});

describe('FsPort buffers sized to the file', () => {
  it('copyFileVerified and hashFile are exact at 0, 1, 64 KiB ± 1, 1 MiB ± 1, 4 MiB ± 1 and 9 MiB + 3 bytes', async () => {
    w = makeApplyFixture();
    const fs = realFsPort();
    const sizes = [0, 1, (64 << 10) - 1, 64 << 10, (64 << 10) + 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, (4 << 20) - 1, 4 << 20, (4 << 20) + 1, (9 << 20) + 3];
    for (const [i, size] of sizes.entries()) {
      const src = path.join(w.stash, `f${i}.bin`);
      const data = bytesFor(`buf-${size}`, size);
      writeFileSync(src, data);
      const want = sha256(data);
      expect(await fs.hashFile(src), `hash of ${size} bytes`).toBe(want);
      // Fsynced in the call (thread pool), and not (small files with synchronous calls): the same copy either way.
      for (const syncData of [true, false]) {
        const tmp = path.join(w.pool, `f${i}-${syncData}.part`);
        utimesSync(src, new Date('2020-02-03T04:05:06.789Z'), new Date('2021-02-03T04:05:06.123Z'));
        chmodSync(src, 0o640);
        const res = await fs.copyFileVerified(src, tmp, { syncData });
        expect({ sha256: res.sha256, bytes: res.bytes }, `copy of ${size} bytes`).toEqual({ sha256: want, bytes: size });
        expect(sha256(readFileSync(tmp)), `bytes of the copy of ${size}`).toBe(want);
        const [a, b] = [statSync(src, { bigint: true }), statSync(tmp, { bigint: true })];
        expect({ mode: b.mode, mtime: b.mtimeNs / 1_000_000n, uid: b.uid, gid: b.gid, ino: Number(b.ino) }, `metadata of the copy of ${size}`).toEqual({ mode: a.mode, mtime: a.mtimeNs / 1_000_000n, uid: a.uid, gid: a.gid, ino: res.ino });
        // O_EXCL: a second copy onto the same temp name is refused and leaves it as it was.
        await expect(fs.copyFileVerified(src, tmp, { syncData })).rejects.toThrow(/EEXIST|exists/);
        expect(sha256(readFileSync(tmp))).toBe(want);
      }
    }
  });

  it('small files copied and hashed at once through one port (they share its read buffer) each get their own bytes and hash', async () => {
    w = makeApplyFixture();
    const fs = realFsPort();
    const files = Array.from({ length: 40 }, (_, i) => {
      const src = path.join(w!.stash, `many${i}.bin`);
      const data = bytesFor(`many-${i}`, 1000 + i * 7919);
      writeFileSync(src, data);
      return { src, want: sha256(data), size: data.length, tmp: path.join(w!.pool, `many${i}.part`) };
    });
    // Small copies not fsynced in the call read synchronously and then wait for their folder's fsync: the next copy
    // reads into the same buffer meanwhile.
    const [copies, hashes] = await Promise.all([
      Promise.all(files.map((f) => fs.copyFileVerified(f.src, f.tmp, { syncData: false, syncDir: true }))),
      Promise.all(files.map((f) => fs.hashFile(f.src))),
    ]);
    files.forEach((f, i) => {
      expect({ sha256: copies[i]!.sha256, bytes: copies[i]!.bytes }, `copy ${i}`).toEqual({ sha256: f.want, bytes: f.size });
      expect(sha256(readFileSync(f.tmp)), `bytes of copy ${i}`).toBe(f.want);
      expect(hashes[i], `hash ${i}`).toBe(f.want);
    });
  });

  it('large files copied and hashed at once, twice, through one port (the second round reads into buffers the first gave back) each get their own bytes and hash', async () => {
    w = makeApplyFixture();
    const fs = realFsPort();
    const sizes = [(9 << 20) + 3, (4 << 20) + 1, 2 << 20, (1 << 20) + 1, (3 << 20) + 17, (1 << 20) + 2];
    for (const round of [1, 2]) {
      const files = sizes.map((size, i) => {
        const src = path.join(w!.stash, `large${round}-${i}.bin`);
        const data = bytesFor(`large-${round}-${i}`, size);
        writeFileSync(src, data);
        return { src, want: sha256(data), size, tmp: path.join(w!.pool, `large${round}-${i}.part`) };
      });
      const [copies, hashes] = await Promise.all([
        Promise.all(files.map((f) => fs.copyFileVerified(f.src, f.tmp))),
        Promise.all(files.map((f) => fs.hashFile(f.src))),
      ]);
      files.forEach((f, i) => {
        expect({ sha256: copies[i]!.sha256, bytes: copies[i]!.bytes }, `round ${round}, copy ${i}`).toEqual({ sha256: f.want, bytes: f.size });
        expect(sha256(readFileSync(f.tmp)), `round ${round}, bytes of copy ${i}`).toBe(f.want);
        expect(hashes[i], `round ${round}, hash ${i}`).toBe(f.want);
      });
    }
  });

  it('sampleHash reads its blocks into the port\'s kept buffers: the same answer at every size, alone or at once, after larger reads', async () => {
    w = makeApplyFixture();
    const fs = realFsPort();
    const B = 65536;
    // The sample format, written out independently: the size, then the whole file up to 3 blocks, else 3 blocks.
    const expected = (data: Buffer): string => {
      const h = createHash('sha256').update(`hashall-sample-v1\n${data.length}\n`);
      if (data.length <= 3 * B) return h.update(data).digest('hex');
      for (const off of [0, Math.floor((data.length - B) / 2), data.length - B]) h.update(data.subarray(off, off + B));
      return h.digest('hex');
    };
    const sizes = [0, 1, B - 1, 3 * B, 3 * B + 1, (9 << 20) + 3, 5 * B + 7];
    const files = sizes.map((size, i) => {
      const p = path.join(w!.stash, `sample${i}.bin`);
      const data = bytesFor(`sample-${size}`, size);
      writeFileSync(p, data);
      return { p, want: expected(data) };
    });
    await fs.hashFile(files[5]!.p); // a large read first: its buffers are kept and lent to the samples
    for (const f of files) expect(await fs.sampleHash(f.p), f.p).toBe(f.want);
    const together = await Promise.all(files.map((f) => fs.sampleHash(f.p)));
    expect(together).toEqual(files.map((f) => f.want));
  });

  it('sameBytes: equal files are equal at every size (smaller ones after larger: the read buffers are kept); one differing byte (first, middle, last) or length is not', async () => {
    w = makeApplyFixture();
    const fs = realFsPort();
    for (const size of [1, (64 << 10) + 1, (4 << 20) + 5, 300_000, 70_000, 3]) {
      const data = bytesFor(`same-${size}`, size);
      const a = path.join(w.stash, `a${size}`);
      const b = path.join(w.stash, `b${size}`);
      writeFileSync(a, data);
      writeFileSync(b, data);
      const same = await fs.sameBytes(a, b);
      expect(same, `equal, ${size} bytes`).not.toBeNull();
      // Each file's status, read on the descriptor compared.
      expect([same!.a.ino, same!.a.size, same!.b.ino, same!.b.size]).toEqual([lstatSync(a).ino, size, lstatSync(b).ino, size]);
      for (const at of [0, Math.floor(size / 2), size - 1]) {
        const other = Buffer.from(data);
        other[at] = other[at]! ^ 1;
        writeFileSync(b, other);
        expect(await fs.sameBytes(a, b), `byte ${at} of ${size} differs`).toBeNull();
      }
      writeFileSync(b, Buffer.concat([data, Buffer.from([0])]));
      expect(await fs.sameBytes(a, b), `one byte longer than ${size}`).toBeNull();
      // The compare reads only as far as the first file's size: a second file one byte shorter, or a first one longer.
      writeFileSync(b, data.subarray(0, size - 1));
      expect(await fs.sameBytes(a, b), `one byte shorter than ${size}`).toBeNull();
      expect(await fs.sameBytes(b, a), `one byte longer than ${size - 1}`).toBeNull();
    }
  });

  it('sameBytes with the size expected: equal only when both files are exactly that long and the inodes named', async () => {
    w = makeApplyFixture();
    const fs = realFsPort();
    for (const size of [1, (64 << 10) + 1, (4 << 20) + 5, 3]) {
      const data = bytesFor(`sized-${size}`, size);
      const a = path.join(w.stash, `a${size}`);
      const b = path.join(w.stash, `b${size}`);
      writeFileSync(a, data);
      writeFileSync(b, data);
      const inodes = { a: lstatSync(a).ino, b: lstatSync(b).ino };
      const same = await fs.sameBytes(a, b, { ...inodes, size });
      expect([same?.a.ino, same?.a.size, same?.b.ino, same?.b.size], `equal, ${size} bytes`).toEqual([inodes.a, size, inodes.b, size]);
      // Another inode at either path than the one named (a read of the whole file does not make it the planned one).
      expect(await fs.sameBytes(a, b, { a: inodes.b, b: inodes.b, size }), `a is not the inode named`).toBeNull();
      expect(await fs.sameBytes(a, b, { a: inodes.a, b: inodes.a, size }), `b is not the inode named`).toBeNull();
      // Both equal but longer than the size expected and than a read (4 MiB): bytes were left unread, so not equal. Both
      // equal and shorter: every byte was compared, and the sizes read on the descriptors say how long they are (the
      // caller checks its own against them, as dedupe-link does against the plan).
      if (size > 4 << 20) expect(await fs.sameBytes(a, b, { ...inodes, size: 1 }), `both longer than 1 byte`).toBeNull();
      const shorter = await fs.sameBytes(a, b, { ...inodes, size: size + 1 });
      expect([shorter?.a.size, shorter?.b.size], `both shorter than ${size + 1}`).toEqual([size, size]);
      // One byte appended to either (same inode): not equal.
      writeFileSync(b, Buffer.concat([data, Buffer.from([0])]));
      expect(await fs.sameBytes(a, b, { ...inodes, size }), `b one byte longer`).toBeNull();
      expect(await fs.sameBytes(b, a, { a: inodes.b, b: inodes.a, size }), `a one byte longer`).toBeNull();
    }
  });
});
