// Bad hashall.yaml files a real user writes: each is exit 3 with what is wrong, file:line:col and the key, and what to do — nothing written.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { inodeTreeSnapshot } from '../../support/tree-snapshot.js';

let dir = '';
let good = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hashall-config-input-'));
  mkdirSync(path.join(dir, 'seeding'));
  good = `version: 1\ncatalog: ${dir}/state/catalog.db\nfilesystems:\n  disk: { path: ${dir} }\nseeding:\n  disk: [${dir}/seeding]\nplacement:\n  default: keep\n`;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  /** The config's text, or null for a folder where the file should be. */
  text: () => string | null;
  /** Exactly the first problem line (after the file name) and its hint. */
  problem: RegExp;
}

const cases: Case[] = [
  {
    name: 'a top-level key written twice: the key path is that key, not a key inside the first one',
    text: () => `${good}placement:\n  default: keep\n`,
    problem: /:9:1: error: duplicate key: .* \[placement\]\n {2}hint: each key may appear once/,
  },
  {
    name: 'a nested key written twice names its own path',
    text: () => good.replace('placement:\n  default: keep\n', 'placement:\n  default: keep\n  default: keep\n'),
    problem: /:9:3: error: duplicate key: .* \[placement\.default\]/,
  },
  {
    name: 'a list item written twice at the end of a sequence keeps its path',
    text: () => good.replace(`seeding:\n  disk: [${dir}/seeding]\n`, `seeding:\n  disk: [${dir}/seeding]\n  disk: [${dir}/seeding]\n`),
    problem: /:7:3: error: duplicate key: .* \[seeding\.disk\]/,
  },
  {
    name: 'a file of a newer format version says it needs a newer hashall',
    text: () => good.replace('version: 1', 'version: 2'),
    problem: /:1:10: error: format version 2 is newer than this hashall reads \(1\) \[version\]\n {2}hint: upgrade hashall/,
  },
  {
    name: 'a folder given as the config is said in words, not as an errno',
    text: () => null,
    problem: /:1:1: error: the config path is a folder, not a file\n {2}hint: give the path of hashall\.yaml itself/,
  },
];

describe('hashall.yaml with mistakes: exit 3, positioned, nothing written', () => {
  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      const text = c.text();
      const file = path.join(dir, `case-${i}.yaml`);
      if (text === null) mkdirSync(file);
      else writeFileSync(file, text);
      const before = inodeTreeSnapshot(dir);
      for (const argv of [['validate'], ['plan']]) {
        const r = await runCli([...argv, '--config', file], { cwd: dir, env: { NO_COLOR: '1' } });
        expect(r.code, argv[0]).toBe(3);
        expect(r.stderr.startsWith(file), r.stderr).toBe(true);
        expect(r.stderr).toMatch(c.problem);
        expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
      }
      expect(inodeTreeSnapshot(dir)).toEqual(before);
    });
  }
});
