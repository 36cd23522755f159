// A catalog in a place another local user can write is refused before anything is opened or created there: whoever can
// replace the catalog can forge the journal that apply and recover act on as root.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, lchownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCatalog } from '../../../src/catalog/db.js';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

describe.runIf(asRoot)('the catalog\'s place', () => {
  let dir = '';
  beforeEach(() => void (dir = mkdtempSync(path.join(tmpdir(), 'hashall-place-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const refused = (file: string, what: RegExp, hint = /chmod|chown/) => {
    for (const readonly of [false, true]) expect(() => openCatalog(file, { readonly })).toThrow(expect.objectContaining({ name: 'CatalogError', message: expect.stringMatching(what), hint: expect.stringMatching(hint) }));
  };

  it('a folder another user owns: refused, nothing created in it (a planted -wal symlink is never reached)', () => {
    const shared = path.join(dir, 'shared');
    mkdirSync(shared, { mode: 0o755 });
    chownSync(shared, NOBODY, NOBODY);
    symlinkSync('/nonexistent-victim', path.join(shared, 'catalog.db-wal'));
    refused(path.join(shared, 'catalog.db'), new RegExp(`catalog folder ${shared} is owned by uid ${NOBODY}`));
    expect(readdirSync(shared)).toEqual(['catalog.db-wal']);
  });

  it('a folder others (or a group with another user in it) may write: refused; the same folder 0755, or 0775 of a group only root is in, is fine', () => {
    const shared = path.join(dir, 'shared');
    mkdirSync(shared);
    chownSync(shared, 0, NOBODY); // nogroup: user nobody's primary group
    for (const mode of [0o777, 0o775, 0o1777]) {
      chmodSync(shared, mode);
      refused(path.join(shared, 'catalog.db'), new RegExp(`catalog folder ${shared} is writable by (other users|its group)`));
      expect(existsSync(path.join(shared, 'catalog.db'))).toBe(false);
    }
    chmodSync(shared, 0o755);
    openCatalog(path.join(shared, 'catalog.db')).close();
    const rootGroup = path.join(dir, 'root-group');
    mkdirSync(rootGroup);
    chownSync(rootGroup, 0, 0);
    chmodSync(rootGroup, 0o775);
    openCatalog(path.join(rootGroup, 'catalog.db')).close();
  });

  it('an ancestor others may write without the sticky bit (they could rename the folder away): refused; with it (like /tmp): fine', () => {
    const open = path.join(dir, 'open');
    mkdirSync(path.join(open, 'state'), { recursive: true });
    chmodSync(open, 0o777);
    refused(path.join(open, 'state', 'catalog.db'), new RegExp(`folder ${open} above the catalog is writable by other users`));
    chmodSync(open, 0o1777);
    openCatalog(path.join(open, 'state', 'catalog.db')).close();
    // A folder hashall has to create is made 0700 and then judged like any other.
    openCatalog(path.join(open, 'new', 'deeper', 'catalog.db')).close();
  });

  it('a catalog file another user owns: refused', () => {
    const file = path.join(dir, 'catalog.db');
    openCatalog(file).close();
    chownSync(file, NOBODY, NOBODY);
    refused(file, new RegExp(`catalog ${file} is owned by uid ${NOBODY}`));
  });

  it('a catalog reached through a symlink is judged where it really is', () => {
    const shared = path.join(dir, 'shared');
    mkdirSync(shared, { mode: 0o777 });
    chmodSync(shared, 0o777);
    const mine = path.join(dir, 'mine');
    mkdirSync(mine, { mode: 0o700 });
    symlinkSync(shared, path.join(mine, 'link'));
    refused(path.join(mine, 'link', 'catalog.db'), new RegExp(`catalog folder ${shared} is writable by other users`));
  });

  // The dangerous case: the real place is root's (judged fine), but the symlink that leads there was planted by another
  // user in a folder they write — root would chmod and write its catalog into the file the symlink names.
  it('a catalog symlink another user planted in a folder they write, naming an empty root file: refused, the file untouched', () => {
    const victim = path.join(dir, 'victim.conf');
    writeFileSync(victim, '', { mode: 0o644 });
    chmodSync(victim, 0o644);
    const shared = path.join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const file = path.join(shared, 'catalog.db');
    symlinkSync(victim, file);
    lchownSync(file, NOBODY, NOBODY);
    refused(file, new RegExp(`symlink ${file} .*is owned by uid ${NOBODY}`), /remove .*catalog\.db/);
    expect(statSync(victim)).toEqual(expect.objectContaining({ size: 0, mode: 0o100644 }));
    expect(readdirSync(dir).sort()).toEqual(['shared', 'victim.conf']);
  });

  it('a folder symlink on the way, in a folder others may write (even one root owns): refused, nothing made where it leads', () => {
    const rootPlace = path.join(dir, 'root-place');
    mkdirSync(rootPlace, { mode: 0o755 });
    const open = path.join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    symlinkSync(rootPlace, path.join(open, 'state')); // root's own link: still replaceable by anyone who writes `open`
    refused(path.join(open, 'state', 'catalog.db'), new RegExp(`symlink ${path.join(open, 'state')} .*writable by other users`), /chmod go-w/);
    expect(readdirSync(rootPlace)).toEqual([]);
    // The same link in a sticky folder is root's to replace only; one another user owns there is theirs.
    chmodSync(open, 0o1777);
    openCatalog(path.join(open, 'state', 'catalog.db')).close();
    rmSync(path.join(rootPlace, 'catalog.db'));
    lchownSync(path.join(open, 'state'), NOBODY, NOBODY);
    refused(path.join(open, 'state', 'catalog.db'), new RegExp(`symlink ${path.join(open, 'state')} .*is owned by uid ${NOBODY}`), /remove /);
    expect(readdirSync(rootPlace).filter((n) => n.startsWith('catalog.db'))).toEqual([]);
  });
});
