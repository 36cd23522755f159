// The walk on a real tmpfs: every kind of entry, raw-byte names, other mounts, a path too long to lstat — the same
// events whether directories are lstat'ed on worker threads, on the calling thread or by GNU find; the Node walk when
// there is no GNU find; what find could not read is reported, never silently missing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readMountInfo } from '../../../src/fs/mountinfo.js';
import { walkTree, type WalkEvent } from '../../../src/fs/walk.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';

let tmp: TempDir;
let root: string;

beforeEach(() => {
  tmp = makeTempDir('hashall-walk-');
  root = path.join(tmp.path, 'root');
  mountTmpfs(root, 64 * 1024 * 1024, 'walk-test');
});
afterEach(() => tmp.cleanup());

/**
 * The walk's events as sorted lines. `exact`: a file's path as the walk gives it (a string, or bytes); else as its
 * bytes, with its inode and mtime (the Node walk keeps a whole directory as bytes when one name in it is not UTF-8;
 * find only the paths that are not).
 */
async function walk(offloadFrom: number, mountPoints = new Set<string>(), find: string | null = null, exact = true): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of walkTree(root, { mountPoints, offloadFrom, offloadAfter: 0, batchSize: 7, find })) {
    for (const e of batch as WalkEvent[]) {
      if (e.kind === 'file') {
        const abs = exact ? (typeof e.abs === 'string' ? e.abs : `bytes:${e.abs.toString('hex')}`) : `bytes:${Buffer.from(e.abs).toString('hex')} ${e.ino} ${e.mtimeNs}`;
        out.push(`file ${e.rel} ${e.size} ${e.nlink} ${String(e.mtimeNs).length > 0} ${abs}`);
      } else if (e.kind === 'problem') out.push(`problem ${e.rel} ${e.code} ${e.isDir}`);
      else if (e.kind === 'incomplete') out.push('incomplete');
      else out.push(`${e.kind} ${e.rel}`);
    }
  }
  return out.sort();
}

/** Every kind of entry: many files, raw-byte names, symlinks, a FIFO, another tmpfs, a listed mount, a path too long. */
function buildTree(): Buffer {
  mkdirSync(path.join(root, 'many'));
  for (let i = 0; i < 150; i++) writeFileSync(path.join(root, 'many', `f${i}`), 'x'.repeat(i));
  // Raw bytes in a name make its directory's listing (and everything below) go by bytes: kept out of the root.
  mkdirSync(path.join(root, 'odd'));
  const raw = Buffer.concat([Buffer.from(root + '/odd/caf'), Buffer.from([0xe9]), Buffer.from('-dir')]);
  mkdirSync(raw);
  for (let i = 0; i < 70; i++) writeFileSync(Buffer.concat([raw, Buffer.from(`/n${i}`)]), String(i));
  writeFileSync(Buffer.concat([raw, Buffer.from('/'), Buffer.from([0xff])]), 'raw name');
  // A literal U+FFFD in a name is escaped too (the catalog's text form stays reversible).
  writeFileSync(path.join(root, 'odd', 'lit\uFFFD.bin'), 'replacement char');
  writeFileSync(path.join(root, 'odd', 'new\nline é.bin'), 'newline and accent');
  symlinkSync('many', path.join(root, 'link-to-dir'));
  symlinkSync('nowhere', path.join(root, 'dangling'));
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
  mkdirSync(path.join(root, 'empty'));
  mountTmpfs(path.join(root, 'other'), 1024 * 1024, 'walk-other');
  writeFileSync(path.join(root, 'other', 'inside'), 'not walked');
  mkdirSync(path.join(root, 'listed-mount', 'sub'), { recursive: true });
  writeFileSync(path.join(root, 'listed-mount', 'sub', 'hidden'), 'not walked either');
  // A path longer than PATH_MAX: its entries cannot be lstat-ed or listed by absolute path; reported, never dropped.
  const deep = `const fs = require('node:fs'); process.chdir(process.argv[1]);
    for (let i = 1; i <= 17; i++) { const n = String(i).padStart(250, '0'); fs.mkdirSync(n); process.chdir(n); }
    fs.writeFileSync('deep-file', 'deep');`;
  execFileSync(process.execPath, ['-e', deep, root]);
  return raw;
}

/** A program standing in for `find` (a shell script). */
function fakeFind(name: string, script: string): string {
  const file = path.join(tmp.path, name);
  writeFileSync(file, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return file;
}

describe('walkTree', () => {
  it('yields the same events with every directory lstat-ed on the threads as on the calling thread', async () => {
    const raw = buildTree();
    const onThreads = await walk(0, new Set([path.join(root, 'listed-mount')]));
    const here = await walk(Number.POSITIVE_INFINITY, new Set([path.join(root, 'listed-mount')]));
    expect(onThreads).toEqual(here);
    expect(here.filter((e) => e.startsWith('file many/'))).toHaveLength(150);
    expect(here.filter((e) => e.startsWith('file odd/caf\uFFFDe9-dir/'))).toHaveLength(71);
    expect(here).toContain(`file odd/caf\uFFFDe9-dir/\uFFFDff 8 1 true bytes:${Buffer.concat([raw, Buffer.from('/'), Buffer.from([0xff])]).toString('hex')}`);
    expect(here).toEqual(expect.arrayContaining(['symlink link-to-dir', 'symlink dangling', 'special fifo', 'mount other', 'mount listed-mount']));
    expect(here.some((e) => e.includes('inside') || e.includes('deep-file'))).toBe(false);
    expect(here.filter((e) => e.startsWith('problem ')).map((e) => e.split(' ').slice(2).join(' '))).toEqual(['ENAMETOOLONG false']);
  });

  it('GNU find yields the same entries as the Node walk, with exact bytes, inodes and nanosecond mtimes', async () => {
    buildTree();
    // Times find prints in unusual shapes: before 1970 (negative seconds, nanoseconds added), in the first second.
    execFileSync('touch', ['-h', '-d', '1960-01-01 00:00:00.123456789', path.join(root, 'many', 'f1')]);
    execFileSync('touch', ['-h', '-d', '1969-12-31 23:59:59.25', path.join(root, 'many', 'f2')]);
    execFileSync('touch', ['-h', '-d', '1970-01-01 00:00:00.000000007', path.join(root, 'many', 'f3')]);
    const mounts = new Set([path.join(root, 'listed-mount')]);
    const byFind = await walk(Number.POSITIVE_INFINITY, mounts, 'find', false);
    const inNode = await walk(Number.POSITIVE_INFINITY, mounts, null, false);
    expect(byFind).toEqual(inNode);
    expect(byFind.filter((e) => e.startsWith('file many/'))).toHaveLength(150);
    expect(byFind.find((e) => e.startsWith('file many/f1 '))).toContain(' -315619199876543211');
    expect(byFind.find((e) => e.startsWith('file many/f2 '))).toContain(' -750000000');
    expect(byFind.find((e) => e.startsWith('file many/f3 '))).toMatch(/ 7$/);
    expect(byFind).toEqual(expect.arrayContaining(['mount other', 'mount listed-mount', 'symlink dangling', 'symlink link-to-dir', 'special fifo']));
    expect(byFind.filter((e) => e.startsWith('problem ')).map((e) => e.split(' ').slice(2).join(' '))).toEqual(['ENAMETOOLONG false']);
    expect(byFind.some((e) => e.includes('inside') || e.includes('hidden') || e.includes('deep-file') || e === 'incomplete')).toBe(false);
  });


  it('a file bind-mounted onto a file of the same filesystem is a mount in every walk, never a file nor offered to settle', async () => {
    mkdirSync(path.join(root, 'src'));
    const source = path.join(root, 'src', 'x.bin');
    writeFileSync(source, 'the mounted bytes');
    mkdirSync(path.join(root, 'dir'));
    writeFileSync(path.join(root, 'dir', 'y.bin'), 'hidden under the mount');
    writeFileSync(path.join(root, 'dir', 'z.bin'), 'a plain file beside it');
    writeFileSync(path.join(root, 'own.bin'), 'hidden under a mount in the root');
    // A directory whose name is not UTF-8: mountinfo spells it with U+FFFD, as the walks compare directories.
    const raw = Buffer.concat([Buffer.from(root + '/caf'), Buffer.from([0xe9])]);
    mkdirSync(raw);
    writeFileSync(Buffer.concat([raw, Buffer.from('/w.bin')]), 'hidden under a mount in a raw-named directory');
    // The same inode at two paths, one link: the file under each mount is not there for a walk to see.
    execFileSync('mount', ['--bind', source, path.join(root, 'dir', 'y.bin')]);
    execFileSync('mount', ['--bind', source, path.join(root, 'own.bin')]);
    execFileSync('sh', ['-c', `mount --bind "$1" "$2/caf$(printf '\\351')/w.bin"`, 'sh', source, root]);
    const mountPoints = new Set(readMountInfo().map((m) => m.mountPoint));
    mountPoints.delete(root);
    const mounts = ['mount caf\uFFFDe9/w.bin', 'mount dir/y.bin', 'mount own.bin'];
    // A file by its path, size and links (the Node walk gives paths as bytes below a directory with a raw name).
    const files = ['file dir/z.bin 22 1', 'file src/x.bin 17 1'];
    for (const [offloadFrom, find] of [[Number.POSITIVE_INFINITY, 'find'], [0, null], [Number.POSITIVE_INFINITY, null]] as const) {
      const events = (await walk(offloadFrom, mountPoints, find)).map((e) => (e.startsWith('file ') ? e.split(' ').slice(0, 4).join(' ') : e));
      expect(events, `${find} ${offloadFrom}`).toEqual([...files, ...mounts].sort());
    }
    // With find settling every file it is offered: the mounts are still yielded, and were never offered.
    const offered: string[] = [];
    const events: string[] = [];
    const settle = (dir: string, f: { b: Buffer; name: number; nameEnd: number }): boolean => {
      offered.push(`${dir}/${f.b.toString('latin1', f.name, f.nameEnd)}`);
      return true;
    };
    for await (const batch of walkTree(root, { mountPoints, settle, find: 'find' })) for (const e of batch) events.push(`${e.kind} ${'rel' in e ? e.rel : ''}`);
    expect(events.sort()).toEqual(mounts);
    expect(offered.sort()).toEqual(['dir/z.bin', 'src/x.bin']);
  });

  it("find's times are read exactly at every width: up to 15 digits of seconds as integers, longer ones as text", async () => {
    writeFileSync(path.join(root, 'real'), 'r');
    // Records no filesystem here can hold, printed after the real walk's (the parser checks their form, not the files).
    const records = [
      ['wide15', '999999999999999.9999999990'],
      ['neg15', '-999999999999999.0000000010'],
      ['wide16', '9007199254740993.0000000010'],
      ['neg17', '-12345678901234567.5000000000'],
      ['zero', '0.0000000000'],
    ];
    const extra = records.map(([name, t], i) => `printf 'f %s ${900 + i} 1 ${t} 1 ${name}\\000' "$dev"`).join('\n');
    const find = fakeFind('find-wide-times', `dev=$(stat -c %d "$2")\nfind "$@" || exit $?\n${extra}`);
    const mtimes = new Map<string, bigint>();
    for await (const batch of walkTree(root, { mountPoints: new Set(), batchSize: 7, find })) {
      for (const e of batch as WalkEvent[]) if (e.kind === 'file') mtimes.set(e.rel, e.mtimeNs);
    }
    expect(Object.fromEntries([...mtimes].filter(([rel]) => rel !== 'real').map(([rel, ns]) => [rel, String(ns)]))).toEqual({
      wide15: '999999999999999999999999',
      neg15: '-999999999999998999999999',
      wide16: '9007199254740993000000001',
      neg17: '-12345678901234566500000000',
      zero: '0',
    });
    expect(mtimes.has('real')).toBe(true);
  });
  it('without a GNU find (none at that path, or another find) the walk is done in Node', async () => {
    buildTree();
    const inNode = await walk(Number.POSITIVE_INFINITY, new Set(), null);
    expect(await walk(Number.POSITIVE_INFINITY, new Set(), path.join(tmp.path, 'no-such-find'))).toEqual(inNode);
    // A find without GNU's -printf (BusyBox, BSD) rejects the arguments and prints nothing.
    expect(await walk(Number.POSITIVE_INFINITY, new Set(), fakeFind('other-find', `echo "find: unrecognized: -printf" >&2; exit 1`))).toEqual(inNode);
    // One that prints something else is not parsed as records either.
    expect(await walk(Number.POSITIVE_INFINITY, new Set(), fakeFind('odd-find', `printf '%s\\n' "$2"; exit 0`))).toEqual(inNode);
  });

  it('a directory find cannot read is a problem of the walk, which ends incomplete; the rest is walked', async () => {
    mkdirSync(path.join(root, 'open'));
    writeFileSync(path.join(root, 'open', 'a'), 'a');
    mkdirSync(path.join(root, 'closed', 'sub'), { recursive: true });
    writeFileSync(path.join(root, 'closed', 'sub', 'b'), 'b');
    chmodSync(path.join(root, 'closed'), 0o000);
    // A directory whose names can be read but not looked up (r without x): find prints none of its entries.
    mkdirSync(path.join(root, 'names-only'));
    writeFileSync(path.join(root, 'names-only', 'c'), 'c');
    chmodSync(path.join(root, 'names-only'), 0o644);
    chmodSync(tmp.path, 0o755);
    // As root every directory is readable: find runs as nobody, so it meets real permission errors.
    const asNobody = fakeFind('find-as-nobody', 'exec setpriv --reuid=65534 --regid=65534 --clear-groups find "$@"');
    const events = await walk(Number.POSITIVE_INFINITY, new Set(), asNobody);
    expect(events).toEqual(['file open/a 1 1 true ' + path.join(root, 'open', 'a'), 'incomplete', 'problem closed EWALK true', 'problem names-only EWALK true'].sort());
  });

  it('an abort while directories are being lstat-ed on the threads ends the walk at the next batch', async () => {
    for (let d = 0; d < 20; d++) {
      mkdirSync(path.join(root, `d${d}`));
      for (let i = 0; i < 100; i++) writeFileSync(path.join(root, `d${d}`, `f${i}`), '');
    }
    const ac = new AbortController();
    let seen = 0;
    for await (const batch of walkTree(root, { mountPoints: new Set(), offloadFrom: 0, offloadAfter: 0, batchSize: 50, signal: ac.signal, find: null })) {
      seen += batch.length;
      ac.abort();
    }
    expect(seen).toBe(50);
  });

  it('an abort ends a walk by find at the next batch and stops find', async () => {
    for (let d = 0; d < 20; d++) {
      mkdirSync(path.join(root, `d${d}`));
      for (let i = 0; i < 100; i++) writeFileSync(path.join(root, `d${d}`, `f${i}`), '');
    }
    const ac = new AbortController();
    let seen = 0;
    for await (const batch of walkTree(root, { mountPoints: new Set(), batchSize: 50, signal: ac.signal, find: 'find' })) {
      seen += batch.length;
      ac.abort();
    }
    expect(seen).toBe(50);
    expect(execFileSync('sh', ['-c', `pgrep -f -- 'find -[P] ${root} ' || true`], { encoding: 'utf8' })).toBe('');
  });
});
