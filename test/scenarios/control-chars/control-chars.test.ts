// A crafted file name (newline, ESC sequences, a bidi override) through every human output of the real CLI, on real tmpfs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, type CliResult } from '../../support/cli.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';

// Tries to end its line, move the cursor up, erase a line and print a reassuring line of its own.
const EVIL = 'clip\n  + reuse Harmless  on stash  (g9)\x1b[1A\x1b[2K\u202e.mkv';
const SHOWN = 'clip\\n  + reuse Harmless  on stash  (g9)\\x1b[1A\\x1b[2K\\u202e.mkv';
// Anything but the line breaks the output means: a control character, DEL, C1, or a bidi control.
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

let tmp: TempDir;
let config: string;
let stash: string;
const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '--config', config], { cwd: tmp.path });

function expectSafe(r: CliResult, what: string): void {
  expect(r.stdout, `${what} stdout`).not.toMatch(CONTROL);
  expect(r.stderr, `${what} stderr`).not.toMatch(CONTROL);
  // The forged line never appears as a line of its own.
  for (const l of `${r.stdout}\n${r.stderr}`.split('\n')) expect(l.trimStart().startsWith('+ reuse Harmless'), `${what}: ${l}`).toBe(false);
}

beforeAll(() => {
  tmp = makeTempDir('hashall-ctrl-');
  stash = path.join(tmp.path, 'stash');
  mountTmpfs(stash, 16 << 20, 'ctrl-stash');
  mkdirSync(path.join(stash, 'seeding/extras'), { recursive: true });
  const bytes = Buffer.alloc(64 * 1024, 9);
  writeFileSync(path.join(stash, 'seeding/extras/clip.mkv'), bytes);
  writeFileSync(path.join(stash, 'seeding/extras', EVIL), bytes);
  config = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(
    config,
    ['version: 1', 'catalog: ./state/catalog.db', 'filesystems:', `  stash: { path: ${stash} }`, 'seeding:', `  stash: [${stash}/seeding]`, 'dedupe: { filesystems: [stash], minSize: 1 }', ''].join('\n'),
  );
});
afterAll(() => tmp?.cleanup());

describe('control characters in names', () => {
  it('are escaped in scan, dupes, whereis, plan, apply and runs show; JSON keeps the exact name', async () => {
    expectSafe(await cli('scan'), 'scan');
    const dupes = await cli('dupes');
    expectSafe(dupes, 'dupes');
    expect(dupes.stdout).toContain(SHOWN);
    const where = await cli('whereis', path.join(stash, 'seeding/extras', EVIL));
    expect(where.code, where.stderr).toBe(0);
    expectSafe(where, 'whereis');
    expect(where.stdout).toContain(SHOWN);
    const plan = await cli('plan');
    expect(plan.code, plan.stderr).toBe(0);
    expectSafe(plan, 'plan');
    expect(plan.stdout).toContain(SHOWN);
    const json = await cli('plan', '--json', '--no-refresh');
    expect(json.stdout).toContain(JSON.stringify(path.join(stash, 'seeding/extras', EVIL)));
    const apply = await cli('apply', '--auto-approve');
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expectSafe(apply, 'apply');
    // The plan it applies names the file (escaped); a dedupe group that succeeds is counted on stderr, not listed.
    expect(apply.stdout).toContain(SHOWN);
    // Dedupe linked them: one inode.
    expect(lstatSync(path.join(stash, 'seeding/extras', EVIL)).ino).toBe(lstatSync(path.join(stash, 'seeding/extras/clip.mkv')).ino);
    const runId = /run (\S+)\)/.exec(apply.stdout)![1]!;
    const shown = await cli('runs', 'show', runId);
    expectSafe(shown, 'runs show');
    expect(shown.stdout).toContain(SHOWN);
    const runJson = await cli('runs', 'show', runId, '--json');
    expect(runJson.stdout).toContain(JSON.stringify(EVIL).slice(1, -1));
  });
});
