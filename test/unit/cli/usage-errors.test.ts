// Bad command lines a real user types: each is a usage error (exit 1) that says what is wrong and what to do, before anything is read or written.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { inodeTreeSnapshot } from '../../support/tree-snapshot.js';

let dir = '';
let cfg = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hashall-usage-'));
  mkdirSync(path.join(dir, 'seeding'));
  writeFileSync(path.join(dir, 'seeding', 'a.bin'), 'payload');
  cfg = path.join(dir, 'hashall.yaml');
  writeFileSync(cfg, `version: 1\ncatalog: ${dir}/state/catalog.db\nfilesystems:\n  disk: { path: ${dir} }\nseeding:\n  disk: [${dir}/seeding]\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  argv: () => string[];
  stderr: RegExp;
  /** Answers a prompt (a terminal); the test fails if it is asked. */
  terminal?: boolean;
}

const cases: Case[] = [
  {
    name: '--config given twice after the command: not the last one silently',
    argv: () => ['validate', '--offline', '--config', cfg, '--config', path.join(dir, 'other.yaml')],
    stderr: /--config given twice.*give it once/,
  },
  {
    name: 'no command at all: the help, as an error',
    argv: () => [],
    stderr: /Usage: hashall/,
  },
  {
    name: 'a command group without its subcommand (catalog)',
    argv: () => ['catalog'],
    stderr: /Usage: hashall catalog/,
  },
  {
    name: 'a mistyped subcommand of trash names the subcommands',
    argv: () => ['trash', 'purg', '--config', cfg],
    stderr: /unknown command 'purg' for 'trash' \(its commands: restore, purge\)/,
  },
  {
    name: 'a mistyped subcommand of runs names the subcommands',
    argv: () => ['runs', 'shwo', 'x', '--config', cfg],
    stderr: /unknown command 'shwo' for 'runs' \(its commands: show, ack\)/,
  },
  {
    name: 'reconcile --once with --iterations: two bounds',
    argv: () => ['reconcile', '--once', '--iterations', '3', '--config', cfg],
    stderr: /--once and --iterations 3 .*give one/,
  },
  {
    name: 'apply --json without a plan file or --auto-approve on a terminal: the prompt would confirm a plan never shown',
    argv: () => ['apply', '--json', '--config', cfg],
    stderr: /apply --json never shows the plan.*\n {2}hint: .*hashall plan --out FILE.*--auto-approve/,
    terminal: true,
  },
];

describe('usage errors: exit 1, a clear message, nothing written', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const before = inodeTreeSnapshot(dir);
      let asked = false;
      const r = await runCli(c.argv(), {
        cwd: dir,
        env: { NO_COLOR: '1' },
        ...(c.terminal ? { interactive: true, prompt: async () => ((asked = true), 'yes') } : {}),
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(c.stderr);
      expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
      expect(asked).toBe(false);
      expect(inodeTreeSnapshot(dir)).toEqual(before);
    });
  }

  it('scan of a path that does not exist says so in words; the hint fits a command-line path (a configured root keeps its own)', async () => {
    const r = await runCli(['scan', path.join(dir, 'no-such-folder'), '--config', cfg], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/scan root .*no-such-folder does not exist\n {2}hint: check the path given to `hashall scan`/);
    expect(r.stderr).not.toMatch(/ENOENT|hashall\.yaml/);
    const missing = path.join(dir, 'gone-seeding');
    const other = path.join(dir, 'other.yaml');
    writeFileSync(other, `version: 1\ncatalog: ${dir}/state/catalog.db\nfilesystems:\n  disk: { path: ${dir} }\nseeding:\n  disk: [${missing}]\n`);
    const configured = await runCli(['scan', '--config', other], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(configured.code).toBe(1);
    expect(configured.stderr).toMatch(/scan root .*gone-seeding does not exist\n {2}hint: a missing root is never treated as empty; .*remove it from hashall\.yaml/);
  });

  it('help asked for is not an error (exit 0)', async () => {
    for (const argv of [['--help'], ['help'], ['help', 'plan'], ['catalog', '--help']]) {
      const r = await runCli(argv, { cwd: dir });
      expect(r.code, argv.join(' ')).toBe(0);
    }
  });

  it('trash purge --older-than takes a plain number as hours, as its hint says; a negative or a word is refused', async () => {
    const hours = await runCli(['trash', 'purge', '--older-than', '12', '--config', cfg], { cwd: dir });
    expect(hours.stderr).not.toMatch(/not a duration/);
    expect(hours.code).toBe(0);
    for (const bad of ['-1d', 'abc', '12x']) {
      const r = await runCli(['trash', 'purge', `--older-than=${bad}`, '--config', cfg], { cwd: dir });
      expect(r.code, bad).toBe(1);
      expect(r.stderr).toMatch(/is not a duration\n {2}hint: write it like 72h, 7d or 1d12h \(a plain number is hours\)/);
    }
  });
});
