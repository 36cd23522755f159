// openJudged opens what the kernel would, link by link through held folders, and refuses a symlink another user planted or could swap — including a root link in a folder that user owns (they may replace any name in it).
// Runs as root (the suite does): the other user is uid 65534.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, closeSync, fstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync, constants } from 'node:fs';
import path from 'node:path';
import { openJudged } from '../../../src/fs/judged-open.js';
import { linkProblem } from '../../../src/fs/trusted-place.js';

const opts = { owners: new Set([0]), who: 'root' };
let dir: string;

beforeEach(() => {
  dir = mkdtempSync('/tmp/hashall-judged-open-');
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
  writeFileSync(path.join(dir, 'a', 'b', 'f'), 'x');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('openJudged', () => {
  it('follows root’s links (relative, absolute, with ..) to the file the kernel opens', () => {
    symlinkSync('a/b', path.join(dir, 'rel'));
    symlinkSync(path.join(dir, 'a'), path.join(dir, 'abs'));
    symlinkSync('../b/f', path.join(dir, 'a', 'b', 'up'));
    for (const p of ['rel/f', 'abs/b/f', 'abs/b/up', 'rel/../b/f', 'a/./b/up']) {
      const r = openJudged(`${dir}/${p}`, constants.O_RDONLY, opts);
      if (!('fd' in r)) throw new Error(`refused ${p}: ${r.problem.problem}`);
      const st = fstatSync(r.fd);
      closeSync(r.fd);
      expect(st.ino, p).toBe(statSync(path.join(dir, 'a', 'b', 'f')).ino);
    }
    const folder = openJudged(path.join(dir, 'rel'), constants.O_RDONLY | constants.O_DIRECTORY, opts);
    if (!('fd' in folder)) throw new Error('refused');
    expect(fstatSync(folder.fd).ino).toBe(statSync(path.join(dir, 'a', 'b')).ino);
    closeSync(folder.fd);
  });

  it('refuses a root link in a folder another user owns (0755: only they may write it) — linkProblem too', () => {
    const theirs = path.join(dir, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, 65534, 65534);
    symlinkSync(path.join(dir, 'a'), path.join(theirs, 'link'));
    const p = path.join(theirs, 'link', 'b', 'f');
    const r = openJudged(p, constants.O_RDONLY, opts);
    expect('problem' in r && r.problem).toMatchObject({ at: path.join(theirs, 'link'), where: 'link', problem: `lies in folder ${theirs}, owned by uid 65534 (they could point it anywhere)` });
    expect(linkProblem(p, opts)?.problem).toBe(`lies in folder ${theirs}, owned by uid 65534 (they could point it anywhere)`);
  });

  it('a missing component is ENOENT; a file where a folder is expected ENOTDIR', () => {
    expect(() => openJudged(path.join(dir, 'nope', 'f'), constants.O_RDONLY, opts)).toThrow(/ENOENT/);
    expect(() => openJudged(path.join(dir, 'a', 'b', 'f', 'g'), constants.O_RDONLY, opts)).toThrow(/ENOTDIR/);
  });
});
