// Filesystem checks on real directories: missing paths warn; symlinks and bind mounts reveal overlaps.
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { brief, checkText, tempDir } from './temp-config.js';

const mounted: string[] = [];
afterEach(() => {
  while (mounted.length) execFileSync('umount', [mounted.pop() as string]);
});

function requireMountNamespace(): void {
  if (process.env.HASHALL_TEST_MOUNTNS !== '1') throw new Error('this test mounts filesystems: run it via `npm test` (private mount namespace)');
}
function mount(args: string[], target: string): void {
  execFileSync('mount', [...args, target]);
  mounted.push(target);
}

describe('filesystem checks', () => {
  it('warns (not errors) about every configured path that does not exist yet', () => {
    const d = tempDir();
    const r = checkText(`version: 1\nfilesystems:\n  a: { path: ${d}/a }\nseeding:\n  a: [${d}/a/seed]\nlibraries: [${d}/lib]\n`);
    expect(r.errors).toEqual([]);
    expect(brief(r.warnings)).toEqual([
      `3:14 filesystems.a.path filesystem "a" path ${d}/a does not exist (yet)`,
      `5:7 seeding.a[0] seeding root ${d}/a/seed does not exist (yet)`,
      `6:13 libraries[0] library root ${d}/lib does not exist (yet)`,
    ]);
  });

  it('finds two filesystems that are the same directory through a symlink, and a library reached through one', () => {
    const d = tempDir();
    mkdirSync(`${d}/real/seed/movies`, { recursive: true });
    symlinkSync(`${d}/real`, `${d}/link`);
    const r = checkText(`version: 1\nfilesystems:\n  a: { path: ${d}/real }\n  b: { path: ${d}/link }\nseeding:\n  a: [${d}/real/seed]\nlibraries: [${d}/link/seed/movies]\n`);
    // The library: reached through the symlink, and overlapping the seeding root — both said.
    expect(r.errors.map((e) => `${e.line}:${e.col} ${e.path}`)).toEqual(['4:14 filesystems.b.path', '7:13 libraries[0]', '7:13 libraries[0]']);
    expect(r.errors[0]?.message).toMatch(/^filesystem "b" \(.*\/link\) is the same directory as filesystem "a"/);
    expect(r.errors[0]?.hint).toMatch(/aliases/);
    expect(r.errors.slice(1).map((e) => e.message)).toEqual([expect.stringMatching(/is reached through a symbolic link/), expect.stringMatching(/overlaps seeding root/)]);
  });

  it('a seeding or library root reached through a symlink is an error naming the real path (apply writes only below real directories: every step there failed)', () => {
    const d = tempDir();
    mkdirSync(`${d}/real/seed`, { recursive: true });
    mkdirSync(`${d}/real/lib`, { recursive: true });
    symlinkSync(`${d}/real`, `${d}/data`);
    const r = checkText(`version: 1\nfilesystems:\n  a: { path: ${d}/data }\nseeding:\n  a: [${d}/data/seed]\nlibraries: [${d}/data/lib]\n`);
    expect(brief(r.errors)).toEqual([
      `5:7 seeding.a[0] seeding root ${d}/data/seed is reached through a symbolic link: it is really ${d}/real/seed`,
      `6:13 libraries[0] library root ${d}/data/lib is reached through a symbolic link: it is really ${d}/real/lib`,
    ]);
    expect(r.errors[0]?.hint).toMatch(/write the real path/);
    // The real spelling is valid; so is a symlink listed as an alias of the filesystem (another spelling of it).
    expect(checkText(`version: 1\nfilesystems:\n  a: { path: ${d}/real, aliases: [${d}/data] }\nseeding:\n  a: [${d}/real/seed]\nlibraries: [${d}/data/lib]\n`).errors).toEqual([]);
  });

  it('rejects an alias that is not the same directory as its path', () => {
    const d = tempDir();
    mkdirSync(`${d}/a`);
    mkdirSync(`${d}/b`);
    const r = checkText(`version: 1\nfilesystems:\n  a:\n    path: ${d}/a\n    aliases: [${d}/b]\n`);
    expect(brief(r.errors)).toEqual([expect.stringMatching(new RegExp(`^5:15 filesystems.a.aliases\\[0\\] alias ${d}/b is not the same directory as ${d}/a`))]);
  });

  it('finds filesystems that are the same place or nest through real bind mounts, and accepts a bind mount as an alias', () => {
    requireMountNamespace();
    const d = tempDir();
    for (const sub of ['disk', 'same', 'inner', 'other']) mkdirSync(path.join(d, sub));
    mount(['-t', 'tmpfs', '-o', 'size=1m', 'hashall-test'], `${d}/disk`);
    mkdirSync(`${d}/disk/sub/seed`, { recursive: true });
    mount(['--bind', `${d}/disk`], `${d}/same`);
    mount(['--bind', `${d}/disk/sub`], `${d}/inner`);
    mount(['-t', 'tmpfs', '-o', 'size=1m', 'hashall-test2'], `${d}/other`);
    const r = checkText(`version: 1
filesystems:
  a: { path: ${d}/disk }
  b: { path: ${d}/same }
  c: { path: ${d}/inner }
  d: { path: ${d}/other }
`);
    expect(r.errors.map((e) => `${e.line}:${e.path}`)).toEqual(['4:filesystems.b.path', '5:filesystems.c.path', '5:filesystems.c.path']);
    expect(r.errors[0]?.message).toMatch(/"b" .* is the same directory as filesystem "a" .*: both are \/ on device/);
    expect(r.errors[1]?.message).toMatch(/"c" .* is inside filesystem "a" .*\(\/sub vs \/\)/);
    expect(r.errors[2]?.message).toMatch(/"c" .* is inside filesystem "b"/);

    const ok = checkText(`version: 1
filesystems:
  a: { path: ${d}/disk, aliases: [${d}/same] }
  d: { path: ${d}/other }
seeding:
  a: [${d}/same/sub/seed]
`);
    expect(ok.errors).toEqual([]);
    expect(ok.warnings).toEqual([]);
    expect(ok.config?.seeding.a).toEqual([`${d}/disk/sub/seed`]);
  });

  it('rejects a seeding root that is really another mounted filesystem', () => {
    requireMountNamespace();
    const d = tempDir();
    mkdirSync(`${d}/disk/seed`, { recursive: true });
    mount(['-t', 'tmpfs', '-o', 'size=1m', 'hashall-test'], `${d}/disk`);
    mkdirSync(`${d}/disk/seed`);
    mount(['-t', 'tmpfs', '-o', 'size=1m', 'hashall-test3'], `${d}/disk/seed`);
    const r = checkText(`version: 1\nfilesystems:\n  a: { path: ${d}/disk }\nseeding:\n  a: [${d}/disk/seed]\n`);
    expect(r.errors.map((e) => `${e.line}:${e.col} ${e.path}`)).toEqual(['5:7 seeding.a[0]']);
    expect(r.errors[0]?.message).toMatch(/is not on filesystem "a"/);
  });

  it('finds the catalog inside a seeding or library root reached by another spelling: a bind mount or a symlink of a folder in it (the scan would walk its own database)', () => {
    requireMountNamespace();
    const d = tempDir();
    for (const sub of ['disk', 'state', 'libstate']) mkdirSync(path.join(d, sub));
    mount(['-t', 'tmpfs', '-o', 'size=1m', 'hashall-test'], `${d}/disk`);
    mkdirSync(`${d}/disk/seed/hashall`, { recursive: true });
    mkdirSync(`${d}/disk/lib/hashall`, { recursive: true });
    mkdirSync(`${d}/outside`);
    mount(['--bind', `${d}/disk/seed/hashall`], `${d}/state`);
    symlinkSync(`${d}/disk/lib/hashall`, `${d}/libstate/here`);
    const base = `version: 1\nfilesystems:\n  a: { path: ${d}/disk }\nseeding:\n  a: [${d}/disk/seed]\nlibraries: [${d}/disk/lib]\n`;
    const bound = checkText(`${base}catalog: ${d}/state/catalog.db\n`);
    expect(brief(bound.errors)).toEqual([expect.stringMatching(new RegExp(`^7:10 catalog catalog ${d}/state/catalog.db is inside seeding root ${d}/disk/seed: its folder ${d}/state is /seed/hashall on device`))]);
    expect(bound.errors[0]?.hint).toMatch(/outside every seeding and library root/);
    const linked = checkText(`${base}catalog: ${d}/libstate/here/catalog.db\n`);
    expect(brief(linked.errors)).toEqual([expect.stringMatching(/^7:10 catalog catalog .* is inside library root /)]);
    // A catalog truly outside every root passes.
    expect(checkText(`${base}catalog: ${d}/outside/catalog.db\n`).errors).toEqual([]);
  });
});
