// The launcher's code cache against another local user (a real uid-65534 owner): a symlink they planted or swap on the way to the cache folder never sends root's mkdir, sweep or write elsewhere.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, closeSync, constants, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, openSync, promises as fsp, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const NOBODY = 65534;
let out: string;
let launcher: string;
let build: string;
let work: string;

function env(cacheHome: string): NodeJS.ProcessEnv {
  return { ...process.env, NO_COLOR: '1', HASHALL_DEBUG: '1', XDG_CACHE_HOME: cacheHome, HASHALL_NO_CODE_CACHE: '' };
}

function hashall(args: string[], cacheHome: string) {
  const r = spawnSync(process.execPath, [launcher, ...args], { encoding: 'utf8', cwd: work, env: env(cacheHome), timeout: 60_000, killSignal: 'SIGKILL' });
  return { code: r.status, stderr: r.stderr };
}

/** A folder of another user (uid 65534), 0755 (what `mkdir` as that user makes). */
function theirs(p: string): string {
  mkdirSync(p, { mode: 0o755 });
  chownSync(p, NOBODY, NOBODY);
  return p;
}

/** Their symlink (they made it: owned by them). */
function theirLink(target: string, p: string): string {
  symlinkSync(target, p);
  lchownSync(p, NOBODY, NOBODY);
  return p;
}

/** Another user's files with names the cache sweep would remove in its own folder: an old-style name, a stale temp file. */
function victimFolder(p: string): string[] {
  theirs(p);
  const hourAgo = (Date.now() - 3600 * 1000) / 1000;
  for (const name of ['notes.v8', '.draft.123.tmp', `plan.${'f'.repeat(16)}.v8`]) {
    writeFileSync(path.join(p, name), `bob's ${name}`);
    chownSync(path.join(p, name), NOBODY, NOBODY);
    utimesSync(path.join(p, name), hourAgo - 2 * 86400, hourAgo - 2 * 86400);
  }
  return readdirSync(p).sort();
}

/**
 * `hashall show FIFO` with XDG_CACHE_HOME `cacheHome`: the command waits for the FIFO's writer after the launcher judged
 * its cache folder, and `meanwhile` runs exactly there; then the FIFO gets a line that is no plan (exit 1) and the
 * launcher writes its cache. Resolves with the exit code.
 */
async function showWithSwap(cacheHome: string, meanwhile: () => void): Promise<number | null> {
  const fifo = path.join(work, `plan-${Math.random().toString(36).slice(2)}.fifo`);
  expect(spawnSync('mkfifo', ['-m', '0600', fifo]).status).toBe(0);
  const child = spawn(process.execPath, [launcher, 'show', fifo], { cwd: work, env: env(cacheHome), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const opened = fsp.open(fifo, 'w');
  const first = await Promise.race([opened.then(() => 'opened' as const), exited.then(() => 'exited' as const)]);
  if (first === 'exited') {
    // Never reached the FIFO: unblock our own open, then fail with what it said.
    closeSync(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
    await (await opened).close();
    expect.fail(`hashall show ended before reading the plan: ${stderr}`);
  }
  meanwhile();
  const fh = await opened;
  await fh.write('not a plan\n');
  await fh.close();
  return exited;
}

beforeAll(() => {
  mkdirSync(path.join(repo, 'dist'), { recursive: true });
  out = mkdtempSync(path.join(repo, 'dist', 'launcher-hostile-'));
  const b = spawnSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs'), out], { encoding: 'utf8' });
  expect(b.stderr).toBe('');
  expect(b.status).toBe(0);
  launcher = path.join(out, 'hashall.cjs');
  build = createHash('sha256').update(readFileSync(path.join(out, 'main.cjs'))).digest('hex').slice(0, 16);
  work = mkdtempSync(path.join(tmpdir(), 'hashall-launcher-hostile-'));
});

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

it("a link another user planted in the cache base (their `hashall` → a root folder) makes root create nothing there: no cache, the command runs", () => {
  const system = path.join(work, 'system'); // stands for /etc: root's, 0755
  mkdirSync(system, { mode: 0o755 });
  const base = theirs(path.join(work, 'their-base'));
  theirLink(system, path.join(base, 'hashall'));
  const r = hashall(['--version'], base);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain('not used');
  expect(readdirSync(system)).toEqual([]);
});

it("a link on the way to root's own private cache, swapped by its owner while the command runs, never sends the sweep or the write into another user's folder", async () => {
  // Root's real cache, private and in use.
  const rootCache = mkdtempSync(path.join(work, 'root-cache-'));
  expect(hashall(['--version'], rootCache).stderr).toContain('wrote');
  // Their folder holds a link to it (so the way there looks like root's own private folders), and a second tree
  // whose code-cache leads into bob's folder.
  const attacker = theirs(path.join(work, 'attacker'));
  const cacheHome = theirLink(rootCache, path.join(attacker, 'c'));
  theirs(path.join(attacker, 'evil'));
  theirs(path.join(attacker, 'evil', 'hashall'));
  const bob = path.join(work, 'bob');
  const before = victimFolder(bob);
  theirLink(bob, path.join(attacker, 'evil', 'hashall', 'code-cache'));
  theirLink(path.join(attacker, 'evil'), path.join(attacker, 'c2'));
  expect(await showWithSwap(cacheHome, () => renameSync(path.join(attacker, 'c2'), cacheHome))).toBe(1);
  // Bob's files are all there, and nothing of root's was written among them.
  expect(readdirSync(bob).sort()).toEqual(before);
  for (const name of readdirSync(bob)) expect(lstatSync(path.join(bob, name)).uid).toBe(NOBODY);
});

it("root's private cache folder renamed away mid-run by a user who writes the folder above it: the sweep and the write stay in the folder judged (held open), never in what they put at its name", async () => {
  // Root's cache under a folder another user may write (a shared media folder, no sticky bit): no link on the way.
  const shared = theirs(path.join(work, 'shared'));
  const cacheHome = path.join(shared, 'root-cache');
  mkdirSync(cacheHome, { mode: 0o700 });
  expect(hashall(['--version'], cacheHome).stderr).toContain('wrote');
  const codeCache = path.join(cacheHome, 'hashall', 'code-cache');
  const bob = path.join(work, 'bob2');
  const before = victimFolder(bob);
  // Their tree: root-cache/hashall/code-cache leading into bob's folder.
  const fake = theirs(path.join(shared, 'fake'));
  theirs(path.join(fake, 'hashall'));
  theirLink(bob, path.join(fake, 'hashall', 'code-cache'));
  expect(
    await showWithSwap(cacheHome, () => {
      renameSync(cacheHome, path.join(shared, 'moved'));
      renameSync(fake, cacheHome);
    }),
  ).toBe(1);
  expect(readdirSync(bob).sort()).toEqual(before);
  for (const name of readdirSync(bob)) expect(lstatSync(path.join(bob, name)).uid).toBe(NOBODY);
  // The command's cache went where the launcher judged it would: root's folder, wherever it is now.
  const moved = path.join(shared, 'moved', 'hashall', 'code-cache');
  expect(readdirSync(moved).sort()).toEqual([`show.${build}.v8`, `version.${build}.v8`]);
  expect(existsSync(path.join(codeCache, `show.${build}.v8`))).toBe(false);
});
