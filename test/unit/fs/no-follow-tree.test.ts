// The fd-anchored no-follow tree remover on real tmpfs: symlinks never followed, swaps between check and act caught, devices never crossed, foreign entries kept, the private directory's owner and mode enforced.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, promises as fsp, lstatSync, mkdirSync, readdirSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { explainHeld, holdPrivateDir, listTree, mkdirUnder, openTrustedDir, removeTree, renameAt, UnsafeTreeError, type HeldDir } from '../../../src/fs/no-follow-tree.js';
import { bytesFor, hashTreeSync, writeTree } from '../../support/apply-fixture.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';

let tmp: TempDir;
const held: HeldDir[] = [];
afterEach(async () => {
  for (const h of held.splice(0)) await h.close().catch(() => undefined);
  tmp?.cleanup();
});

/** A tmpfs "filesystem" with a victim tree outside the tree to remove, and a held anchor on the trash-like base. */
async function world() {
  tmp = makeTempDir('hashall-nofollow-');
  const fsRoot = path.join(tmp.path, 'fs');
  mountTmpfs(fsRoot, 16 << 20, 'hashall-nofollow');
  const victim = path.join(fsRoot, 'victim');
  writeTree(victim, { 'precious.bin': bytesFor('precious', 5000), 'deep/also.bin': bytesFor('also', 700) });
  const base = path.join(fsRoot, 'base');
  writeTree(path.join(base, 'run', 'T'), { 'a.bin': bytesFor('a', 3000), 'sub/b.bin': bytesFor('b', 300), 'sub/deeper/c.bin': bytesFor('c', 30) });
  const anchor = await openTrustedDir(base);
  held.push(anchor);
  return { fsRoot, victim, base, anchor, before: hashTreeSync(victim) };
}

async function refusal(p: Promise<unknown>): Promise<UnsafeTreeError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UnsafeTreeError);
  return err as UnsafeTreeError;
}

describe('removeTree', () => {
  it('removes files, directories and symlinks depth first; a link is unlinked, its target outside untouched; names that are not UTF-8 too', async () => {
    const { base, anchor, victim, before } = await world();
    const t = path.join(base, 'run', 'T');
    symlinkSync(victim, path.join(t, 'sub', 'link-to-dir'));
    symlinkSync(path.join(victim, 'precious.bin'), path.join(t, 'link-to-file'));
    writeFileSync(Buffer.concat([Buffer.from(`${t}/`), Buffer.from([0x6e, 0xff, 0x2e, 0x62])]), 'latin-1 name');
    const res = await removeTree(anchor, 'run/T');
    expect(res.found).toBe(true);
    expect(res.entries.map((e) => e.rel).sort()).toEqual(['a.bin', 'link-to-file', 'n\uFFFDff.b', 'sub/b.bin', 'sub/deeper/c.bin', 'sub/link-to-dir']);
    expect(existsSync(t)).toBe(false);
    expect(readdirSync(path.join(base, 'run'))).toEqual([]);
    expect(hashTreeSync(victim)).toEqual(before);
    expect((await removeTree(anchor, 'run/T')).found).toBe(false); // idempotent
    expect((await removeTree(anchor, 'run/T/sub/b.bin')).found).toBe(false); // a level above is gone too
  });

  it('a directory swapped for a symlink between its check and its opening is never entered: the victim is untouched and the rest is kept', async () => {
    const { base, anchor, victim, before } = await world();
    const t = path.join(base, 'run', 'T');
    const err = await refusal(
      removeTree(anchor, 'run/T', {
        hooks: {
          beforeOpenDir: (rel) => {
            if (rel !== 'sub') return;
            renameSync(path.join(t, 'sub'), path.join(t, 'sub.moved'));
            symlinkSync(victim, path.join(t, 'sub'));
          },
        },
      }),
    );
    expect(err.reason).toBe('symlink');
    expect(hashTreeSync(victim)).toEqual(before);
    expect(lstatSync(path.join(t, 'sub')).isSymbolicLink()).toBe(true);
    expect(existsSync(path.join(t, 'sub.moved', 'deeper', 'c.bin'))).toBe(true);
  });

  it('a directory swapped for another directory between its check and its opening is caught by (dev, ino)', async () => {
    const { base, anchor, victim, before } = await world();
    const t = path.join(base, 'run', 'T');
    const err = await refusal(
      removeTree(anchor, 'run/T', {
        hooks: {
          beforeOpenDir: (rel) => {
            if (rel !== 'sub') return;
            renameSync(path.join(t, 'sub'), path.join(t, 'sub.moved'));
            renameSync(victim, path.join(t, 'sub'));
          },
        },
      }),
    );
    expect(err.reason).toBe('identity');
    expect(hashTreeSync(path.join(t, 'sub'))).toEqual(before);
  });

  it('a parent swapped for a symlink while its children are removed: the held fd keeps every unlink inside the real directory', async () => {
    const { base, anchor, victim, before } = await world();
    const t = path.join(base, 'run', 'T');
    writeTree(victim, { 'b.bin': bytesFor('victim-b', 10) }); // the same name as a file in sub
    const victimBefore = hashTreeSync(victim);
    const res = await removeTree(anchor, 'run/T', {
      hooks: {
        beforeUnlink: (rel) => {
          if (rel !== 'sub/b.bin') return;
          renameSync(path.join(t, 'sub'), path.join(t, 'sub.moved'));
          symlinkSync(victim, path.join(t, 'sub'));
        },
      },
    }).catch((e: unknown) => e);
    // rmdir of the name `sub` (now the symlink) fails: the tree is not fully removed, and nothing outside it was touched.
    expect(res).toBeInstanceOf(Error);
    expect(hashTreeSync(victim)).toEqual(victimBefore);
    expect(victimBefore).not.toEqual(before);
    expect(existsSync(path.join(t, 'sub.moved', 'b.bin'))).toBe(false); // removed through the held fd, not through the path
  });

  it('the base renamed away and replaced by a symlink after it was held: removal still happens in the held directory only', async () => {
    const { base, fsRoot, anchor, victim, before } = await world();
    writeTree(victim, { 'run/T/a.bin': bytesFor('victim-a', 10) });
    const victimBefore = hashTreeSync(victim);
    renameSync(base, path.join(fsRoot, 'base.moved'));
    symlinkSync(victim, base);
    await removeTree(anchor, 'run/T');
    expect(hashTreeSync(victim)).toEqual(victimBefore);
    expect(victimBefore).not.toEqual(before);
    expect(existsSync(path.join(fsRoot, 'base.moved', 'run', 'T'))).toBe(false);
  });

  it('a root whose (dev, ino) differs from the recorded one is kept whole', async () => {
    const { base, anchor } = await world();
    const t = path.join(base, 'run', 'T');
    const st = lstatSync(t);
    const err = await refusal(removeTree(anchor, 'run/T', { expect: { dev: st.dev, ino: st.ino + 1 } }));
    expect(err.reason).toBe('identity');
    expect(err.message).toMatch(/not what hashall put there/);
    expect(existsSync(path.join(t, 'sub', 'deeper', 'c.bin'))).toBe(true);
    await removeTree(anchor, 'run/T', { expect: { dev: st.dev, ino: st.ino } });
    expect(existsSync(t)).toBe(false);
  });

  it('never crosses into another filesystem mounted inside the tree, nor starts on one', async () => {
    const { base, anchor } = await world();
    const t = path.join(base, 'run', 'T');
    const mnt = path.join(t, 'sub', 'mnt');
    mountTmpfs(mnt, 1 << 20, 'hashall-inner');
    writeTree(mnt, { 'other-fs.bin': bytesFor('other', 100) });
    const err = await refusal(removeTree(anchor, 'run/T'));
    // Seen in mountinfo before anything is removed: the tree stays whole.
    expect(err.reason).toBe('mount');
    expect(err.message).toContain(`holds a mount point (${mnt})`);
    expect(existsSync(path.join(mnt, 'other-fs.bin'))).toBe(true);
    expect(existsSync(path.join(t, 'a.bin'))).toBe(true);
    const inner = await refusal(removeTree(anchor, 'run/T/sub/mnt'));
    expect(inner.reason).toBe('device');
    expect(existsSync(path.join(mnt, 'other-fs.bin'))).toBe(true);
  });

  it('a file or folder of the same filesystem bind-mounted inside the tree (same st_dev) is seen before anything is removed, listed or moved: the tree stays whole, the bound content is never touched', async () => {
    const { fsRoot, base, anchor } = await world();
    // Root's secrets on the same filesystem, bound (as root or a container runtime does) into a tree hashall acts on.
    const secrets = path.join(fsRoot, 'etc-like');
    writeTree(secrets, { 'shadow': bytesFor('shadow', 900), 'keys/id.key': bytesFor('key', 400) });
    chmodSync(path.join(secrets, 'shadow'), 0o600);
    const secretsBefore = hashTreeSync(secrets);
    const t = path.join(base, 'run', 'T');
    const fileMount = path.join(t, 'sub', 'b.bin');
    const dirMount = path.join(t, 'sub', 'deeper');
    execFileSync('mount', ['--bind', path.join(secrets, 'shadow'), fileMount]);
    execFileSync('mount', ['--bind', path.join(secrets, 'keys'), dirMount]);
    expect(lstatSync(dirMount).dev).toBe(lstatSync(t).dev); // nothing in lstat tells
    const hidden = (): Record<string, string> => {
      // What the tree holds under the mounts, seen through a second bind of the filesystem (which carries no sub-mounts).
      const view = path.join(tmp.path, 'view');
      mkdirSync(view, { recursive: true });
      execFileSync('mount', ['--bind', fsRoot, view]);
      try {
        return hashTreeSync(path.join(view, 'base', 'run', 'T'));
      } finally {
        execFileSync('umount', [view]);
      }
    };
    const treeBefore = hidden();
    for (const act of [() => removeTree(anchor, 'run/T'), () => listTree(anchor, 'run/T'), () => removeTree(anchor, 'run/T/sub')]) {
      const err = await refusal(act());
      expect(err.reason).toBe('mount');
      expect(err.message).toContain(`holds a mount point (${fileMount}, ${dirMount})`);
      expect(err.hint).toContain(`umount ${fileMount}\` (and each other one)`);
    }
    // The mount point itself, as the root of a tree (a one-file payload, a payload folder).
    for (const [rel, mp] of [['run/T/sub/b.bin', fileMount], ['run/T/sub/deeper', dirMount]] as const) {
      const err = await refusal(removeTree(anchor, rel));
      expect(err.reason).toBe('mount');
      expect(err.message).toContain(`is a mount point (${mp})`);
    }
    // Moving it (a retire's staging, an orphan's, a restore) would carry the mounts along: refused too.
    const runDir = await openTrustedDir(path.join(base, 'run'));
    held.push(runDir);
    const sub = await openTrustedDir(path.join(t, 'sub'));
    held.push(sub);
    expect((await refusal(renameAt(runDir, 'T', runDir, 'T.staged'))).reason).toBe('mount');
    expect((await refusal(renameAt(sub, 'b.bin', runDir, 'b.staged'))).reason).toBe('mount');
    expect(existsSync(path.join(base, 'run', 'T.staged'))).toBe(false);
    // Nothing of the bound content was lost (read again in full), nor of the tree.
    expect(hashTreeSync(secrets)).toEqual(secretsBefore);
    expect(hidden()).toEqual(treeBefore);
    // Unmounted, the same tree goes as before.
    execFileSync('umount', [fileMount]);
    execFileSync('umount', [dirMount]);
    expect((await removeTree(anchor, 'run/T')).found).toBe(true);
    expect(existsSync(t)).toBe(false);
    expect(hashTreeSync(secrets)).toEqual(secretsBefore);
  });

  it('with an allow-list, an entry not recorded stops the removal and is kept', async () => {
    const { base, anchor } = await world();
    const t = path.join(base, 'run', 'T');
    const recorded = new Set(Object.keys(hashTreeSync(t)).map((r) => lstatSync(path.join(t, r)).ino));
    writeTree(t, { 'sub/zz-planted.bin': bytesFor('planted', 10) });
    const err = await refusal(removeTree(anchor, 'run/T', { allow: (e) => recorded.has(e.stat.ino) }));
    expect(err.reason).toBe('unrecorded');
    expect(existsSync(path.join(t, 'sub', 'zz-planted.bin'))).toBe(true);
  });

  it('listTree lists without removing, under the same rules', async () => {
    const { base, anchor } = await world();
    const t = path.join(base, 'run', 'T');
    const res = await listTree(anchor, 'run/T');
    expect(res.entries.map((e) => [e.rel, e.stat.size]).sort()).toEqual([
      ['a.bin', 3000],
      ['sub/b.bin', 300],
      ['sub/deeper/c.bin', 30],
    ]);
    expect(existsSync(path.join(t, 'a.bin'))).toBe(true);
    await expect(listTree(anchor, 'run/../victim')).rejects.toThrow(/'\.\.' is not allowed/);
  });
});

describe('holdPrivateDir', () => {
  it('creates the directory 0700 and tightens a looser mode of its own; mkdirUnder creates levels below it', async () => {
    const { fsRoot } = await world();
    const d = (await holdPrivateDir(fsRoot, '.hashall-trash', { create: true }))!;
    held.push(d);
    expect(statSync(path.join(fsRoot, '.hashall-trash')).mode & 0o7777).toBe(0o700);
    expect(await mkdirUnder(d, 'r1/seeding/movies')).toEqual(['r1', 'r1/seeding', 'r1/seeding/movies']);
    expect(await mkdirUnder(d, 'r1/seeding/tv')).toEqual(['r1/seeding/tv']);
    chmodSync(path.join(fsRoot, '.hashall-trash'), 0o755);
    held.push((await holdPrivateDir(fsRoot, '.hashall-trash', { create: false }))!);
    expect(statSync(path.join(fsRoot, '.hashall-trash')).mode & 0o7777).toBe(0o700);
    expect(await holdPrivateDir(fsRoot, '.absent', { create: false })).toBeNull();
  });

  it('refuses a symlink, another owner, group or other write, and a mount point — and says so', async () => {
    const { fsRoot, victim } = await world();
    symlinkSync(victim, path.join(fsRoot, '.t-link'));
    expect((await refusal(holdPrivateDir(fsRoot, '.t-link', { create: true }))).message).toMatch(/symbolic link.*refusing/);
    mkdirSync(path.join(fsRoot, '.t-foreign'), { mode: 0o700 });
    chownSync(path.join(fsRoot, '.t-foreign'), 65534, 65534);
    expect((await refusal(holdPrivateDir(fsRoot, '.t-foreign', { create: true }))).message).toMatch(/owned by uid 65534.*refusing/);
    mkdirSync(path.join(fsRoot, '.t-open'));
    chmodSync(path.join(fsRoot, '.t-open'), 0o777);
    expect((await refusal(holdPrivateDir(fsRoot, '.t-open', { create: true }))).reason).toBe('mode');
    expect(statSync(path.join(fsRoot, '.t-open')).mode & 0o7777).toBe(0o777); // refused, not silently taken over
    mountTmpfs(path.join(fsRoot, '.t-mnt'), 1 << 20, 'hashall-inner');
    chmodSync(path.join(fsRoot, '.t-mnt'), 0o700);
    expect((await refusal(holdPrivateDir(fsRoot, '.t-mnt', { create: true }))).reason).toBe('device');
  });
});

describe('explainHeld', () => {
  it('an error of a call made through a held folder names the folder by its real path (a `$` in it kept), in its message, path and cause', async () => {
    tmp = makeTempDir('hashall-nofollow-');
    const dir = path.join(tmp.path, 'a $& b');
    mkdirSync(dir);
    const h = await openTrustedDir(dir);
    held.push(h);
    const err = await fsp.readFile(`${h.path}/missing.bin`).then(
      () => null,
      (e: unknown) => e as Error & { path: string },
    );
    expect(err!.message).toContain(`${h.path}/missing.bin`);
    const wrapped = new Error(`hash ${h.path}/missing.bin: ${err!.message}; not ${h.path}1/x`, { cause: err });
    expect(explainHeld(h, wrapped)).toBe(wrapped);
    expect(wrapped.message).toBe(`hash ${dir}/missing.bin: ENOENT: no such file or directory, open '${dir}/missing.bin'; not ${h.path}1/x`);
    expect(err!.message).not.toContain('/proc/self/fd');
    expect(err!.path).toBe(`${dir}/missing.bin`);
  });

  it('a failed link or rename through a held folder names both of its paths by the folder, its dest too (not `/proc/self/fd/N/…`)', async () => {
    tmp = makeTempDir('hashall-nofollow-');
    const dir = path.join(tmp.path, 'seed ing');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'there.bin'), 'x');
    const h = await openTrustedDir(dir);
    held.push(h);
    for (const call of [() => fsp.link(`${h.path}/there.bin`, `${h.path}/there.bin`), () => fsp.rename(`${h.path}/gone.bin`, `${h.path}/new.bin`)]) {
      const err = await call().then(
        () => null,
        (e: unknown) => e as Error & { path: string; dest: string },
      );
      expect(err!.dest).toContain(h.path); // what the call was given
      explainHeld(h, err);
      expect(err!.message).not.toContain('/proc/self/fd');
      expect(err!.path.startsWith(`${dir}/`)).toBe(true);
      expect(err!.dest.startsWith(`${dir}/`)).toBe(true);
    }
  });
});
