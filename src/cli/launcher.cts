#!/usr/bin/env node
// The installed `hashall` (CommonJS, so it runs before libuv's thread pool starts): sizes that pool, then runs the bundled CLI through a private V8 code cache.
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';
import { Script } from 'node:vm';
import { linkProblem } from '../fs/trusted-place.js';

/**
 * libuv's thread pool when the user sets none: 16 threads, not 4. Every async filesystem call waits for one, and a
 * dedupe's last phase hands ~900 folder fsyncs to the pool at once; ext4 commits fsyncs in flight together, so more
 * of them in flight is fewer commits. Measured (900 folders each with a renamed-over file, all fsynced at once, 10
 * runs per size alternated, load 7–10): 4 threads median ~180 ms, 8 ~136, 16 ~76, 32 ~96, 64 ~85 — no gain past 16.
 * Session 6 saw the same on the adoption (copy-to-repoint flush wait 291 → 116 ms). Set here, first, before any
 * call starts the pool (an ES module entry is too late: loading it already did). A user's own setting is kept.
 */
const THREAD_POOL_SIZE = '16';
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = THREAD_POOL_SIZE;

/** The bundled CLI beside this file (scripts/build.mjs writes both). */
const BUNDLE = path.join(__dirname, 'main.cjs');
/** SHA-256 of that bundle as built, set by scripts/build.mjs (hashing it here would load node's crypto: ~25 modules). */
declare const HASHALL_BUNDLE_SHA256: string;
/** First line of every cache file, then the key line, then V8's data. */
const MAGIC = 'hashall-v8-code-cache 1\n';
/** At most this many cache files of one build (one per command); no new one past it. */
const MAX_FILES = 64;
/**
 * This build's short id, in every cache file's name: two builds (two installs, an upgrade, an A/B benchmark) each keep
 * their own cache instead of rewriting one file in turn on every run.
 */
const BUILD = HASHALL_BUNDLE_SHA256.slice(0, 16);
/** Another build's cache file unwritten this long is removed when this build writes one (an upgrade leaves none behind). */
const OTHER_BUILD_MAX_AGE_MS = 24 * 3600 * 1000;
/** A temp file this old is a write that never finished (a killed run): removed. */
const TEMP_MAX_AGE_MS = 10 * 60 * 1000;
/** A cache file: `apply.<build>.v8`. */
const CACHE_FILE = /^([a-z][a-z-]{0,31})\.([0-9a-f]{16})\.v8$/;
/** A cache file named before names carried the build: `apply.v8`. */
const OLD_CACHE_FILE = /^[a-z][a-z-]{0,31}\.v8$/;
/** A write's temp file: `.apply.<build>.v8.<pid>.tmp`. */
const TEMP_FILE = /^\..+\.\d+\.tmp$/;

interface Bundle {
  run(argv: string[]): Promise<void>;
}

/** The cache folder: $XDG_CACHE_HOME/hashall/code-cache, else ~/.cache/hashall/code-cache; null when neither is known. */
function cacheDir(env: NodeJS.ProcessEnv): string | null {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : env.HOME && path.isAbsolute(env.HOME) ? path.join(env.HOME, '.cache') : null;
  return base === null ? null : path.join(base, 'hashall', 'code-cache');
}

/** Ours and private: a real folder or file (not a symlink) owned by this user, no access for group or others. */
function isPrivate(st: { uid: number; mode: number }, uid: number): boolean {
  return st.uid === uid && (st.mode & 0o077) === 0;
}

/**
 * The cache folder made (0700) or found, held open: its descriptor, through which every later read, sweep and write
 * goes (`/proc/self/fd/N/<name>`), so nothing renamed or swapped on the way to it while the command runs — for hours,
 * an apply — can send them elsewhere. Null when it, or hashall's folder above it, is not ours and private; when the
 * nearest folder that exists on the way to it is not ours (root run with another user's HOME or XDG_CACHE_HOME — sudo
 * may keep them — creates nothing there: a root-owned ~/.cache would lock its owner out of it); or when a symlink on
 * the way is one another user planted or could swap (trusted-place.ts linkProblem): theirs to point at a root folder
 * (root made its cache folder there) or, once judged, at their own folder leading anywhere (root swept and wrote
 * another user's folder). Missing levels are made one at a time, never through a name someone put there first.
 */
function trustedDir(dir: string, uid: number): number | null {
  const owners = new Set([0, uid]);
  const who = uid === 0 ? 'root' : `uid ${uid}`;
  if (linkProblem(dir, { owners, who }) !== null) return null;
  const missing: string[] = [];
  let existing = dir;
  while (lstatSync(existing, { throwIfNoEntry: false }) === undefined && path.dirname(existing) !== existing) {
    missing.unshift(path.basename(existing));
    existing = path.dirname(existing);
  }
  const at = statSync(existing);
  if (!at.isDirectory() || at.uid !== uid) return null;
  for (const name of missing) {
    existing = path.join(existing, name);
    try {
      mkdirSync(existing, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // mkdir never follows a name planted first (EEXIST): then it must be a folder of ours, else nothing is used.
    const made = lstatSync(existing);
    if (!made.isDirectory() || made.uid !== uid) return null;
  }
  if (linkProblem(dir, { owners, who }) !== null) return null;
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    const held = fstatSync(fd);
    const named = lstatSync(dir);
    const above = lstatSync(path.dirname(dir));
    if (held.dev === named.dev && held.ino === named.ino && isPrivate(held, uid) && above.isDirectory() && isPrivate(above, uid)) return fd;
  } catch {
    /* refused below */
  }
  closeSync(fd);
  return null;
}

/** The V8 data of `file` if it is a private regular file of ours written for `key`; null otherwise. */
function readCache(file: string, key: string, uid: number): Buffer | null {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || !isPrivate(st, uid)) return null;
    const bytes = readFileSync(fd);
    const head = Buffer.from(`${MAGIC}${key}\n`);
    return bytes.subarray(0, head.length).equals(head) ? bytes.subarray(head.length) : null;
  } finally {
    closeSync(fd);
  }
}

/** How old a file of this name must be to be swept; null: kept (this build's cache, or a name this launcher never writes). */
function sweptAfterMs(name: string): number | null {
  const cache = CACHE_FILE.exec(name);
  if (cache) return cache[2] === BUILD ? null : OTHER_BUILD_MAX_AGE_MS;
  if (OLD_CACHE_FILE.test(name)) return 0;
  return TEMP_FILE.test(name) ? TEMP_MAX_AGE_MS : null;
}

/**
 * Removes what no run will read again from the (private) cache folder: other builds' files unwritten for a day, files
 * named before names carried the build, and temp files of writes that never finished. Returns the names left.
 */
function sweep(dir: string, names: string[]): string[] {
  const now = Date.now();
  return names.filter((name) => {
    const maxAge = sweptAfterMs(name);
    if (maxAge === null) return true;
    try {
      const st = lstatSync(path.join(dir, name));
      if (!st.isFile() || now - st.mtimeMs < maxAge) return true;
      unlinkSync(path.join(dir, name));
      return false;
    } catch {
      return true;
    }
  });
}

/** Writes all of `bytes`: a short write (a nearly full disk) is continued, so the error that stops it is thrown. */
function writeAll(fd: number, bytes: Buffer): void {
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
}

/** Writes `data` for `key` as `file` (0600, a new temp file renamed over it), unless the folder already holds MAX_FILES of this build. */
function writeCache(dir: string, file: string, key: string, data: Buffer): void {
  const names = sweep(dir, readdirSync(dir));
  const ours = names.filter((n) => CACHE_FILE.exec(n)?.[2] === BUILD);
  if (!ours.includes(path.basename(file)) && ours.length >= MAX_FILES) return;
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    try {
      writeAll(fd, Buffer.concat([Buffer.from(`${MAGIC}${key}\n`), data]));
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    // A full disk, a failed rename: no half-written temp file is left behind.
    unlinkSync(tmp);
    throw err;
  }
}

/**
 * The command's name: the first word of the command line after the global `-c/--config FILE` (`apply`, `--version` →
 * `version`), else `default`.
 */
function commandName(argv: readonly string[]): string {
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg === '-c' || arg === '--config') i += 2;
    else if (arg.startsWith('--config=') || /^-c./.test(arg)) i += 1;
    else break;
  }
  const word = (argv[i] ?? '').replace(/^-+/, '');
  return /^[a-z][a-z-]{0,31}$/.test(word) ? word : 'default';
}

function debug(env: NodeJS.ProcessEnv, what: string): void {
  if (env.HASHALL_DEBUG) process.stderr.write(`hashall: code cache: ${what}\n`);
}

function launch(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const fd = openSync(BUNDLE, constants.O_RDONLY);
  const st = fstatSync(fd);
  const source = readFileSync(fd, 'utf8');
  closeSync(fd);
  const uid = process.getuid?.() ?? -1;
  // `dir` and `file` are reached through the held folder (`/proc/self/fd/N`); `shown` is how messages name the file.
  let cache: { dir: string; file: string; shown: string; key: string; data: Buffer | null } | null = null;
  const dir = env.HASHALL_NO_CODE_CACHE || uid < 0 ? null : cacheDir(env);
  if (dir !== null) {
    try {
      const trusted = trustedDir(dir, uid);
      if (trusted === null) debug(env, `${dir} is not a private folder of this user: not used`);
      else {
        // The build, the file as it is now and the runtime: a new version, another build, a bundle changed in place or
        // another node never reads old code.
        const key = [HASHALL_BUNDLE_SHA256, st.size, st.mtimeMs, st.ino, process.version, process.arch].join(' ');
        const name = `${commandName(argv)}.${BUILD}.v8`;
        const held = `/proc/self/fd/${trusted}`;
        cache = { dir: held, file: `${held}/${name}`, shown: path.join(dir, name), key, data: readCache(`${held}/${name}`, key, uid) };
      }
    } catch (err) {
      debug(env, `unusable (${(err as Error).message})`);
    }
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: BUNDLE,
    ...(cache?.data ? { cachedData: cache.data } : {}),
  });
  const save = cache !== null && (cache.data === null || script.cachedDataRejected === true);
  if (cache?.data) debug(env, script.cachedDataRejected ? `${cache.shown} rejected by V8` : `used ${cache.shown}`);
  // V8 rejects a cache made under other flags, and apply and plan change one for the rest of their run
  // (optimizer-budget.ts; a scan toggles inlining): the cache is taken just before the first change, else at the end.
  let data: Buffer | null = null;
  const setFlags = v8.setFlagsFromString;
  v8.setFlagsFromString = (flags: string) => {
    if (save && data === null) data = script.createCachedData();
    setFlags(flags);
  };
  const load = script.runInThisContext() as (e: object, r: NodeJS.Require, m: { exports: object }, f: string, d: string) => void;
  const mod = { exports: {} as Bundle };
  load(mod.exports, createRequire(BUNDLE), mod, BUNDLE, path.dirname(BUNDLE));
  return mod.exports.run(argv).finally(() => {
    // After the run (or the first flag change), so the functions this command compiled are in it too.
    if (!save || cache === null) return;
    try {
      writeCache(cache.dir, cache.file, cache.key, data ?? script.createCachedData());
      debug(env, `wrote ${cache.shown}`);
    } catch (err) {
      debug(env, `not written (${(err as Error).message})`);
    }
  });
}

void launch(process.argv.slice(2), process.env);
