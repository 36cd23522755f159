#!/usr/bin/env node
// The installed `hashall` (CommonJS, so it runs before libuv's thread pool starts): sizes that pool, then runs the bundled CLI through a private V8 code cache.
import { closeSync, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';
import { Script } from 'node:vm';

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
/** At most this many cache files (one per first word of the command line); no new one past it. */
const MAX_FILES = 64;

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
 * The cache folder made (0700) or found; null when it, or hashall's folder above it, is not ours and private — or when
 * the nearest folder that exists on the way to it is not ours: root run with another user's HOME or XDG_CACHE_HOME
 * (sudo may keep them) creates nothing there (a root-owned ~/.cache would lock its owner out of it).
 */
function trustedDir(dir: string, uid: number): string | null {
  let existing = dir;
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  const at = statSync(existing);
  if (!at.isDirectory() || at.uid !== uid) return null;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const d of [path.dirname(dir), dir]) {
    const st = lstatSync(d);
    if (!st.isDirectory() || !isPrivate(st, uid)) return null;
  }
  return dir;
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

/** Writes `data` for `key` as `file` (0600, a new temp file renamed over it), unless the folder already holds MAX_FILES. */
function writeCache(dir: string, file: string, key: string, data: Buffer): void {
  const names = readdirSync(dir);
  if (!names.includes(path.basename(file)) && names.length >= MAX_FILES) return;
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${MAGIC}${key}\n`);
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
}

/** The cache file's name: the command line's first word (`apply`, `--version` → `version`), else `default`. */
function cacheName(argv: readonly string[]): string {
  const word = (argv[0] ?? '').replace(/^-+/, '');
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
  let cache: { dir: string; file: string; key: string; data: Buffer | null } | null = null;
  const dir = env.HASHALL_NO_CODE_CACHE || uid < 0 ? null : cacheDir(env);
  if (dir !== null) {
    try {
      const trusted = trustedDir(dir, uid);
      if (trusted === null) debug(env, `${dir} is not a private folder of this user: not used`);
      else {
        // The build, the file as it is now and the runtime: a new version, another build, a bundle changed in place or
        // another node never reads old code.
        const key = [HASHALL_BUNDLE_SHA256, st.size, st.mtimeMs, st.ino, process.version, process.arch].join(' ');
        const file = path.join(trusted, `${cacheName(argv)}.v8`);
        cache = { dir: trusted, file, key, data: readCache(file, key, uid) };
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
  if (cache?.data) debug(env, script.cachedDataRejected ? `${cache.file} rejected by V8` : `used ${cache.file}`);
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
      debug(env, `wrote ${cache.file}`);
    } catch (err) {
      debug(env, `not written (${(err as Error).message})`);
    }
  });
}

void launch(process.argv.slice(2), process.env);
