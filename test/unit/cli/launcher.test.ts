// The installed launcher (dist/cli/hashall.cjs, built here by scripts/build.mjs): runs the bundled CLI, and reads a V8 code cache only when it is ours, private and of this build.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mountTmpfs, unmount } from '../../support/mounts.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let out: string;
let launcher: string;
let cacheHome: string;
/** The build's short id, in the name of each cache file it writes. */
let build: string;

/** The built launcher run as a user runs it, with HASHALL_DEBUG so it says what it did with its cache. */
function hashall(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [launcher, ...args], {
    encoding: 'utf8',
    cwd: cacheHome,
    env: { ...process.env, NO_COLOR: '1', HASHALL_DEBUG: '1', XDG_CACHE_HOME: cacheHome, HASHALL_NO_CODE_CACHE: '', ...env },
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Two equal 64 KiB files in one seeding root of one filesystem, and the hashall.yaml that dedupes them. */
function dedupeWorld(name: string, fill: number): { world: string; config: string; bytes: Buffer } {
  const world = path.join(cacheHome, name);
  const bytes = Buffer.alloc(64 << 10, fill);
  for (const d of ['a', 'b']) {
    mkdirSync(path.join(world, 'seeding', d), { recursive: true });
    writeFileSync(path.join(world, 'seeding', d, 'f.bin'), bytes);
  }
  const config = path.join(world, 'hashall.yaml');
  writeFileSync(
    config,
    ['version: 1', `catalog: ${path.join(world, 'state', 'catalog.db')}`, 'filesystems:', `  disk: { path: ${world} }`, 'seeding:', `  disk: [${path.join(world, 'seeding')}]`, 'dedupe: { filesystems: [disk], minSize: 1 }', ''].join('\n'),
  );
  return { world, config, bytes };
}

const cacheDir = () => path.join(cacheHome, 'hashall', 'code-cache');
const cacheFile = (command: string) => path.join(cacheDir(), `${command}.${build}.v8`);
const versionCache = () => cacheFile('version');
const mode = (p: string) => statSync(p).mode & 0o777;

beforeAll(() => {
  // Inside the repository, so the bundle finds its package root (schemas/) as the installed one does.
  mkdirSync(path.join(repo, 'dist'), { recursive: true });
  out = mkdtempSync(path.join(repo, 'dist', 'launcher-test-'));
  const b = spawnSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs'), out], { encoding: 'utf8' });
  expect(b.stderr).toBe('');
  expect(b.status).toBe(0);
  launcher = path.join(out, 'hashall.cjs');
  build = createHash('sha256').update(readFileSync(path.join(out, 'main.cjs'))).digest('hex').slice(0, 16);
});

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the launcher', () => {
  beforeAll(() => {
    cacheHome = mkdtempSync(path.join(tmpdir(), 'hashall-cache-'));
  });
  afterAll(() => rmSync(cacheHome, { recursive: true, force: true }));

  it('runs the bundled CLI with its exit codes, and the second run of a command reads the private cache the first wrote', () => {
    const first = hashall(['--version']);
    expect(first.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).version);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`wrote ${versionCache()}`);
    expect(mode(path.join(cacheHome, 'hashall'))).toBe(0o700);
    expect(mode(cacheDir())).toBe(0o700);
    expect(mode(versionCache())).toBe(0o600);
    const second = hashall(['--version']);
    expect(second.stderr).toContain(`used ${versionCache()}`);
    expect(second.stderr).not.toContain('wrote');
    expect(second.stdout.trim()).toBe(first.stdout.trim());
    // A usage error keeps its exit code through the launcher.
    const bad = hashall(['no-such-command']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("unknown command 'no-such-command'");
    // The bundle finds its package: validate reads schemas/ (the starter config written by init).
    expect(hashall(['init', '--path', cacheHome]).code).toBe(0);
    const v = hashall(['validate', '--config', path.join(cacheHome, 'hashall.yaml')]);
    expect(v.stdout).toContain('valid (0 errors');
    expect(v.code).toBe(0);
  });

  it('HASHALL_DEBUG stack traces name the TypeScript source of each bundle frame (the map built beside the bundle); without the map they stay as they are', () => {
    const dir = mkdtempSync(path.join(cacheHome, 'stack-'));
    writeFileSync(path.join(dir, 'notes.txt'), 'not a database\n'.repeat(100));
    writeFileSync(path.join(dir, 'hashall.yaml'), ['version: 1', 'catalog: ./notes.txt', 'filesystems:', `  a: { path: ${dir} }`, ''].join('\n'));
    const r = hashall(['catalog', 'stats', '--config', path.join(dir, 'hashall.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not an SQLite database');
    expect(r.stderr).toMatch(/\n\s+at \S+ \(src\/catalog\/db\.ts:\d+:\d+\)/);
    expect(r.stderr).not.toContain('main.cjs:');
    const map = path.join(out, 'main.cjs.map');
    const kept = `${map}.aside`;
    renameSync(map, kept);
    try {
      const bare = hashall(['catalog', 'stats', '--config', path.join(dir, 'hashall.yaml')]);
      expect(bare.stderr).toMatch(/\(\/\S+\/main\.cjs:\d+:\d+\)/);
    } finally {
      renameSync(kept, map);
    }
  });

  it('a cache of another build or runtime is not read: it is replaced', () => {
    hashall(['--version']);
    const bytes = readFileSync(versionCache());
    const lines = bytes.toString('latin1').split('\n');
    lines[1] = '0'.repeat(64); // the key of another bundle, node or arch
    writeFileSync(versionCache(), Buffer.from(lines.join('\n'), 'latin1'), { mode: 0o600 });
    const r = hashall(['--version']);
    expect(r.stderr).not.toContain('used');
    expect(r.stderr).toContain(`wrote ${versionCache()}`);
    const head = (b: Buffer) => b.toString('latin1').split('\n').slice(0, 2).join('\n');
    expect(head(readFileSync(versionCache()))).toBe(head(bytes));
  });

  it('a damaged cache of this build is rejected by V8 and rewritten; the command still runs', () => {
    hashall(['--version']);
    const whole = statSync(versionCache()).size;
    truncateSync(versionCache(), Math.floor(whole / 2));
    const r = hashall(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(r.stderr).toContain('rejected by V8');
    expect(r.stderr).toContain(`wrote ${versionCache()}`);
    expect(statSync(versionCache()).size).toBeGreaterThan(Math.floor(whole / 2));
    expect(hashall(['--version']).stderr).toContain('used');
  });

  it("a cache file that is not ours, is open to others or is a symlink is never read", () => {
    hashall(['--version']);
    const good = readFileSync(versionCache());
    // Another user's file, even private and of this build.
    chownSync(versionCache(), 65534, 65534);
    let r = hashall(['--version']);
    expect(r.stderr).not.toContain('used');
    expect(r.stderr).toContain('wrote');
    expect(statSync(versionCache()).uid).toBe(process.getuid!());
    // Ours but readable by others.
    chmodSync(versionCache(), 0o644);
    r = hashall(['--version']);
    expect(r.stderr).not.toContain('used');
    expect(mode(versionCache())).toBe(0o600);
    // A symlink to a good cache elsewhere.
    const elsewhere = path.join(cacheHome, 'elsewhere.v8');
    writeFileSync(elsewhere, good, { mode: 0o600 });
    rmSync(versionCache());
    symlinkSync(elsewhere, versionCache());
    r = hashall(['--version']);
    expect(r.stderr).not.toContain('used');
    expect(readFileSync(elsewhere)).toEqual(good);
  });

  it('a cache folder open to others, or not ours, is neither read nor written', () => {
    hashall(['--version']);
    const before = readFileSync(versionCache());
    for (const change of [() => chmodSync(cacheDir(), 0o755), () => chownSync(path.join(cacheHome, 'hashall'), 65534, 65534)]) {
      change();
      rmSync(cacheFile('help'), { force: true });
      const r = hashall(['--version']);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('is not a private folder of this user: not used');
      expect(r.stderr).not.toContain('used /');
      const help = hashall(['--help']);
      expect(help.code).toBe(0);
      expect(help.stderr).not.toContain('wrote');
      expect(existsSync(cacheFile('help'))).toBe(false);
      expect(readFileSync(versionCache())).toEqual(before);
      chmodSync(cacheDir(), 0o700);
      chownSync(path.join(cacheHome, 'hashall'), process.getuid!(), process.getgid!());
    }
  });

  it("creates nothing in a cache base that is not its own (root run with another user's HOME or XDG_CACHE_HOME): no cache, the command runs", () => {
    for (const [name, env] of [
      ['xdg', (base: string) => ({ XDG_CACHE_HOME: base })],
      ['home', (base: string) => ({ XDG_CACHE_HOME: '', HOME: base })],
    ] as const) {
      const base = path.join(cacheHome, `someone-${name}`);
      mkdirSync(base, { mode: 0o755 });
      chownSync(base, 65534, 65534);
      const r = hashall(['--version'], env(base));
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('not used');
      // Nothing of root's in someone else's folder: no .cache, no hashall/ (a root-owned ~/.cache would lock its owner out).
      expect(readdirSync(base)).toEqual([]);
    }
  });

  it('apply, which changes a V8 flag for the rest of its run, writes a cache that the next apply reads', () => {
    const { world, config } = dedupeWorld('world', 7);
    expect(hashall(['scan', '--config', config]).code).toBe(0);
    expect(hashall(['plan', '--config', config, '--out', path.join(world, 'plan.json')]).code).toBe(0);
    const apply = cacheFile('apply');
    const first = hashall(['apply', path.join(world, 'plan.json'), '--config', config]);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`wrote ${apply}`);
    expect(statSync(path.join(world, 'seeding', 'a', 'f.bin')).ino).toBe(statSync(path.join(world, 'seeding', 'b', 'f.bin')).ino);
    // The same plan again: stale now (exit 5), read by the code the first run compiled.
    const second = hashall(['apply', path.join(world, 'plan.json'), '--config', config]);
    expect(second.code).toBe(5);
    expect(second.stderr).toContain(`used ${apply}`);
    expect(second.stderr).not.toContain('rejected');
    expect(second.stderr).not.toContain('wrote');
  });

  it('apply on a terminal asks, and `yes` typed there applies: the code that reads the answer loads under the launcher', () => {
    // script(1) gives the command a pseudo-terminal, as a person at a shell has; what we write to it is typed there.
    const { world, config, bytes } = dedupeWorld('asked', 9);
    const command = [process.execPath, launcher, 'apply', '--config', config].map((a) => `'${a}'`).join(' ');
    for (const codeCache of ['', '1']) {
      const r = spawnSync('script', ['-qec', `${command}; echo "exit=$?"`, '/dev/null'], {
        encoding: 'utf8',
        cwd: cacheHome,
        input: 'yes\n',
        env: { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: cacheHome, HASHALL_NO_CODE_CACHE: codeCache },
        timeout: 60_000,
        killSignal: 'SIGKILL',
      });
      expect(r.stdout).not.toContain('unexpected error');
      expect(r.stdout).toContain('Plan: 0 to move, 0 to reuse, 1 to dedupe');
      expect(r.stdout).toContain('exit=0');
      expect(statSync(path.join(world, 'seeding', 'a', 'f.bin')).ino).toBe(statSync(path.join(world, 'seeding', 'b', 'f.bin')).ino);
      // Undo the link for the next round: a fresh copy at b.
      rmSync(path.join(world, 'seeding', 'b', 'f.bin'));
      writeFileSync(path.join(world, 'seeding', 'b', 'f.bin'), bytes);
    }
  });

  it('Ctrl-D or Ctrl-C typed at the question: nothing changes, exit 6 or 130 with a plain message, never an unexpected error', async () => {
    const { world, config } = dedupeWorld('declined', 11);
    const command = [process.execPath, launcher, 'apply', '--config', config].map((a) => `'${a}'`).join(' ');
    /** Runs apply in a pseudo-terminal and types `keys` once the question is on the screen. */
    const typedAtQuestion = (keys: string) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn('script', ['-qec', `${command}; echo "exit=$?"`, '/dev/null'], { cwd: cacheHome, env: { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: cacheHome } });
        let out = '';
        let typed = false;
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`no end within 60 s: ${out}`));
        }, 60_000);
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          if (!typed && out.includes('Only "yes" is accepted')) {
            typed = true;
            child.stdin.write(keys);
          }
        });
        child.on('close', () => {
          clearTimeout(timer);
          resolve(out);
        });
      });
    const inodes = () => ['a', 'b'].map((d) => statSync(path.join(world, 'seeding', d, 'f.bin')).ino);
    const before = inodes();
    const eof = await typedAtQuestion('\x04');
    expect(eof).not.toContain('unexpected error');
    expect(eof).toContain('apply cancelled; nothing was changed');
    expect(eof).toContain('exit=6');
    const interrupt = await typedAtQuestion('\x03');
    expect(interrupt).not.toContain('unexpected error');
    expect(interrupt).toContain('apply cancelled by Ctrl-C; nothing was changed');
    expect(interrupt).toContain('exit=130');
    expect(inodes()).toEqual(before);
    expect(before[0]).not.toBe(before[1]);
  });

  it("sizes libuv's thread pool at 16 before anything starts it, unless the user set UV_THREADPOOL_SIZE", () => {
    // Loaded before the launcher; once the launcher has run (setImmediate), it holds 15 pool threads in opens of FIFOs
    // nobody writes, then asks for a stat: with 16 threads the stat ends while they are held, with 4 only after the
    // FIFOs are opened from this side (O_RDWR: once the stat ends, or after 3 s so a small pool cannot hang the test).
    const probe = path.join(cacheHome, 'pool-probe.cjs');
    writeFileSync(
      probe,
      `const fs = require('node:fs'); const path = require('node:path');
setImmediate(() => {
  const dir = fs.mkdtempSync(path.join(${JSON.stringify(cacheHome)}, 'fifo-'));
  const fifos = Array.from({ length: 15 }, (_, i) => path.join(dir, 'f' + i));
  for (const f of fifos) require('node:child_process').execFileSync('mkfifo', [f]);
  for (const f of fifos) fs.open(f, 'r', (err, fd) => { if (!err) fs.closeSync(fd); });
  let released = false;
  // O_RDWR never blocks on Linux and makes a writer: every open waiting now or queued behind them goes through.
  const release = () => { if (released) return; released = true; for (const f of fifos) fs.openSync(f, fs.constants.O_RDWR); };
  const timer = setTimeout(release, 3000);
  fs.stat(dir, () => {
    process.stderr.write('pool-probe: stat ' + (released ? 'after' : 'before') + ' release, UV_THREADPOOL_SIZE=' + process.env.UV_THREADPOOL_SIZE + '\\n');
    clearTimeout(timer);
    setTimeout(release, 50);
  });
});
`,
    );
    const run = (pool: string | undefined) => {
      const env: Record<string, string | undefined> = { ...process.env, HASHALL_NO_CODE_CACHE: '1', UV_THREADPOOL_SIZE: pool };
      if (pool === undefined) delete env.UV_THREADPOOL_SIZE;
      return spawnSync(process.execPath, ['--require', probe, launcher, '--version'], { encoding: 'utf8', env, timeout: 60_000, killSignal: 'SIGKILL' });
    };
    const ours = run(undefined);
    expect(ours.status).toBe(0);
    expect(ours.stderr).toContain('pool-probe: stat before release, UV_THREADPOOL_SIZE=16');
    const users = run('4');
    expect(users.status).toBe(0);
    expect(users.stderr).toContain('pool-probe: stat after release, UV_THREADPOOL_SIZE=4');
  });

  it('the cache is named for the command after a global --config FILE, in each of its spellings (not `config` or `c`)', () => {
    const at = mkdtempSync(path.join(cacheHome, 'init-'));
    expect(hashall(['init', '--path', at]).code).toBe(0);
    const config = path.join(at, 'hashall.yaml');
    for (const args of [['--config', config], ['-c', config], [`--config=${config}`], [`-c${config}`]]) {
      rmSync(cacheDir(), { recursive: true, force: true });
      const r = hashall([...args, 'validate']);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`wrote ${cacheFile('validate')}`);
      expect(readdirSync(cacheDir())).toEqual([path.basename(cacheFile('validate'))]);
    }
  });

  it("another build's cache is left alone while in use, and swept with old names and dead temp files once stale", () => {
    rmSync(cacheDir(), { recursive: true, force: true });
    hashall(['--version']);
    const other = 'f'.repeat(16) === build ? 'e'.repeat(16) : 'f'.repeat(16);
    const twoDaysAgo = (Date.now() - 2 * 24 * 3600 * 1000) / 1000;
    const hourAgo = (Date.now() - 3600 * 1000) / 1000;
    const put = (name: string, when?: number) => {
      writeFileSync(path.join(cacheDir(), name), `another build's cache ${name}`, { mode: 0o600 });
      if (when !== undefined) utimesSync(path.join(cacheDir(), name), when, when);
    };
    put(`version.${other}.v8`); // another install in use: its cache is not rewritten by this build
    put(`plan.${other}.v8`, twoDaysAgo); // an older version, unused for two days
    put('apply.v8', hourAgo); // named before names carried the build
    put(`.help.${build}.v8.999999.tmp`, hourAgo); // a write that never finished
    put(`.help.${build}.v8.999998.tmp`); // a write perhaps under way
    put('notes.txt', twoDaysAgo); // not a name the launcher writes
    const r = hashall(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`wrote ${cacheFile('help')}`);
    expect(readdirSync(cacheDir()).sort()).toEqual(
      [`.help.${build}.v8.999998.tmp`, path.basename(cacheFile('help')), path.basename(versionCache()), 'notes.txt', `version.${other}.v8`].sort(),
    );
    expect(readFileSync(path.join(cacheDir(), `version.${other}.v8`), 'utf8')).toBe(`another build's cache version.${other}.v8`);
    expect(hashall(['--version']).stderr).toContain(`used ${versionCache()}`);
  });

  it('a write that fails (a full disk) leaves no temp file behind; the command still runs', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'hashall-fullcache-'));
    const dir = path.join(home, 'hashall', 'code-cache');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(path.join(home, 'hashall'), 0o700);
    // A private 16 KiB filesystem: the temp file is created, its data does not fit (the first write is a short one).
    mountTmpfs(dir, 16 << 10);
    try {
      chmodSync(dir, 0o700);
      const r = hashall(['--version'], { XDG_CACHE_HOME: home });
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
      expect(r.stderr).toContain('not written (ENOSPC');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      unmount(dir);
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('HASHALL_NO_CODE_CACHE=1 runs without reading or writing a cache', () => {
    rmSync(path.join(cacheHome, 'hashall'), { recursive: true, force: true });
    const r = hashall(['--version'], { HASHALL_NO_CODE_CACHE: '1' });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(existsSync(path.join(cacheHome, 'hashall'))).toBe(false);
  });
});
