// The terminal of an apply closes (an ssh connection drops, the window is closed): the kernel hangs up the session —
// SIGHUP, then EIO on every write. apply runs on to its end as the README promises (output dropped, run recorded,
// lock released), instead of dying mid-run with a group half done, torrents paused and a stale lock.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../support/cli.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PAIRS = 4000;
let tmp: TempDir;
let config: string;
let seeding: string;

beforeAll(() => {
  tmp = makeTempDir('hashall-closed-terminal-');
  const stash = path.join(tmp.path, 'stash');
  mountTmpfs(stash, 96 * 1024 * 1024, 'stash');
  seeding = path.join(stash, 'torrents');
  for (let i = 0; i < PAIRS; i++) {
    for (const side of ['a', 'b']) {
      mkdirSync(path.join(seeding, `T${i}`, side), { recursive: true });
      writeFileSync(path.join(seeding, `T${i}`, side, 'f.bin'), `pair ${i} `.repeat(20));
    }
  }
  config = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(config, ['version: 1', 'catalog: ./state/catalog.db', 'filesystems:', `  stash: { path: ${stash} }`, 'seeding:', `  stash: [${seeding}]`, 'dedupe: { filesystems: [stash], minSize: 1 }', ''].join('\n'));
}, 120_000);
afterAll(() => tmp.cleanup());

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

it('closing the terminal of a running apply: it runs to its end, every group done, the run recorded, the lock free', async () => {
  const plan = path.join(tmp.path, 'plan.json');
  const planned = await runCli(['plan', '--out', plan, '--config', config], { cwd: tmp.path });
  expect(planned.code, planned.stderr).toBe(0);
  const pidFile = path.join(tmp.path, 'apply.pid');
  const command = `echo $$ > '${pidFile}'; exec '${process.execPath}' --import ./test/support/ts-register.mjs src/cli/bin.ts apply '${plan}' --config '${config}'`;
  // script(1) is the terminal: when it dies, its pseudo-terminal's master closes and the kernel hangs up the session.
  const terminal = spawn('script', ['-qec', command, '/dev/null'], { cwd: repo, stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, NO_COLOR: '1' } });
  let screen = '';
  const started = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 60_000);
    terminal.stdout.on('data', (b: Buffer) => {
      screen += b.toString();
      // The count of groups done, drawn in place on the terminal (dedupe groups are counted, not listed).
      if (/ {2}([5-9]|\d{2,}) of \d+ group\(s\) done/.test(screen)) {
        clearTimeout(timer);
        resolve(true);
      }
    });
  });
  expect(started, screen).toBe(true);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  terminal.kill('SIGKILL');
  // The apply was still at its first groups when its terminal went away.
  expect(alive(pid)).toBe(true);
  for (let i = 0; i < 600 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  expect(alive(pid)).toBe(false);
  const runs = await runCli(['runs', '--json', '--config', config], { cwd: tmp.path });
  const run = (JSON.parse(runs.stdout) as { runs: { id: string; status: string; groupsDone: number; groupsTotal: number }[] }).runs[0]!;
  expect(run).toMatchObject({ status: 'succeeded' });
  const doctor = await runCli(['doctor', '--json', '--no-notify', '--config', config], { cwd: tmp.path });
  expect(JSON.parse(doctor.stdout).checks.find((c: { id: string }) => c.id === 'lock')).toMatchObject({ status: 'ok' });
  // Every pair is one inode now.
  for (let i = 0; i < PAIRS; i++) {
    expect(statSync(path.join(seeding, `T${i}`, 'a', 'f.bin')).ino).toBe(statSync(path.join(seeding, `T${i}`, 'b', 'f.bin')).ino);
  }
}, 180_000);
