// The package's bin (dist/cli/hashall, POSIX sh): found through npm's bin symlinks, it becomes node running hashall.cjs beside it — argv, exit code, signals, stdin its own — with NODE_EXTRA_CA_CERTS handed over as HASHALL_EXTRA_CA_CERTS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let out: string;
let tmp: string;

/** The shells that run it: the kernel (its `#!/bin/sh`), dash, and busybox ash where installed (Alpine images). */
const has = (prog: string) => spawnSync('sh', ['-c', `command -v ${prog}`]).status === 0;
const shells: { name: string; cmd: (script: string) => string[] }[] = [
  { name: 'its #! line', cmd: (s) => [s] },
  { name: 'dash', cmd: (s) => ['dash', s] },
  ...(has('busybox') ? [{ name: 'busybox ash', cmd: (s: string) => ['busybox', 'ash', s] }] : []),
];

/**
 * A package as npm installs it: <prefix>/lib/node_modules/hashall/dist/cli/{hashall,hashall.cjs}, linked from
 * <prefix>/bin/hashall (global) and <prefix>/lib/node_modules/.bin/hashall (local), both relative symlinks. With `cli`
 * given, the links point at that folder instead (a build in the repository, where the bundle finds its package).
 */
function installed(root: string, cliFiles: Record<string, string>, cli = path.join(root, 'lib', 'node_modules', 'hashall', 'dist', 'cli')): { global: string; local: string; cli: string } {
  mkdirSync(cli, { recursive: true });
  for (const [name, from] of Object.entries(cliFiles)) copyFileSync(from, path.join(cli, name));
  const link = (at: string) => {
    mkdirSync(path.dirname(at), { recursive: true });
    symlinkSync(path.relative(path.dirname(at), path.join(cli, 'hashall')), at);
    return at;
  };
  return { global: link(path.join(root, 'bin', 'hashall')), local: link(path.join(root, 'lib', 'node_modules', '.bin', 'hashall')), cli };
}

/** The environment of a run: this one's, without the CA variables unless given. */
function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: path.join(tmp, 'cache') };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.HASHALL_EXTRA_CA_CERTS;
  return { ...env, ...extra };
}

beforeAll(() => {
  mkdirSync(path.join(repo, 'dist'), { recursive: true });
  out = mkdtempSync(path.join(repo, 'dist', 'sh-launcher-test-'));
  const b = spawnSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs'), out], { encoding: 'utf8' });
  expect(b.stderr).toBe('');
  expect(b.status).toBe(0);
  tmp = mkdtempSync(path.join(tmpdir(), 'hashall-sh-launcher-'));
});

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

describe('the sh launcher, with a stand-in hashall.cjs that reports what it was given', () => {
  let pkg: ReturnType<typeof installed>;
  beforeAll(() => {
    const stub = path.join(tmp, 'stub.cjs');
    writeFileSync(
      stub,
      [
        "const fs = require('node:fs');",
        'const args = process.argv.slice(2);',
        "if (args[0] === 'wait') { process.stdout.write('ready\\n'); setInterval(() => {}, 1000); return; }",
        "const stdin = args[0] === 'stdin' ? fs.readFileSync(0, 'utf8') : null;",
        'process.stdout.write(JSON.stringify({ args, pid: process.pid, script: __filename, stdin,',
        '  node: process.env.NODE_EXTRA_CA_CERTS ?? null, hashall: process.env.HASHALL_EXTRA_CA_CERTS ?? null }));',
        "process.exitCode = args[0] === 'exit' ? Number(args[1]) : 0;",
        '',
      ].join('\n'),
    );
    pkg = installed(path.join(tmp, 'stub-prefix'), { hashall: path.join(out, 'hashall'), 'hashall.cjs': stub });
  });

  const tricky = ['exit', '42', 'a b', '', '*', '-c', 'new\nline', '--', 'é $HOME `x`'];

  for (const sh of shells) {
    for (const via of ['global', 'local'] as const) {
      it(`run by ${sh.name} through the ${via} npm symlink: node is this process (same pid), with argv and exit code untouched`, () => {
        const [cmd, ...pre] = sh.cmd(pkg[via]);
        const r = spawnSync(cmd!, [...pre, ...tricky], { encoding: 'utf8', env: envWith({}) });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(42);
        const seen = JSON.parse(r.stdout) as { args: string[]; pid: number; script: string; node: string | null; hashall: string | null };
        expect(seen.args).toEqual(tricky);
        expect(seen.script).toBe(path.join(pkg.cli, 'hashall.cjs'));
        expect(seen.pid).toBe(r.pid);
        expect(seen.node).toBeNull();
        expect(seen.hashall).toBeNull();
      });
    }
  }

  it('found on PATH (as a user types `hashall`) and from its own folder (`sh hashall`)', () => {
    const r = spawnSync('hashall', ['exit', '3'], { encoding: 'utf8', env: envWith({ PATH: `${path.dirname(pkg.global)}:${process.env.PATH}` }) });
    expect(r.status).toBe(3);
    expect(JSON.parse(r.stdout).script).toBe(path.join(pkg.cli, 'hashall.cjs'));
    const here = spawnSync('dash', ['hashall', 'exit', '4'], { encoding: 'utf8', cwd: pkg.cli, env: envWith({}) });
    expect(here.status).toBe(4);
    expect(JSON.parse(here.stdout).script).toBe(path.join(pkg.cli, 'hashall.cjs'));
  });

  it('NODE_EXTRA_CA_CERTS is moved to HASHALL_EXTRA_CA_CERTS: node starts without it; unset or empty, nothing is set', () => {
    const moved = spawnSync(pkg.global, [], { encoding: 'utf8', env: envWith({ NODE_EXTRA_CA_CERTS: '/etc/some ca.pem' }) });
    expect(JSON.parse(moved.stdout)).toMatchObject({ node: null, hashall: '/etc/some ca.pem' });
    // It wins over a HASHALL_EXTRA_CA_CERTS of the environment, as it would have for node itself.
    const both = spawnSync(pkg.global, [], { encoding: 'utf8', env: envWith({ NODE_EXTRA_CA_CERTS: '/a.pem', HASHALL_EXTRA_CA_CERTS: '/b.pem' }) });
    expect(JSON.parse(both.stdout)).toMatchObject({ node: null, hashall: '/a.pem' });
    const own = spawnSync(pkg.global, [], { encoding: 'utf8', env: envWith({ HASHALL_EXTRA_CA_CERTS: '/b.pem' }) });
    expect(JSON.parse(own.stdout)).toMatchObject({ node: null, hashall: '/b.pem' });
    const empty = spawnSync(pkg.global, [], { encoding: 'utf8', env: envWith({ NODE_EXTRA_CA_CERTS: '' }) });
    expect(JSON.parse(empty.stdout)).toMatchObject({ node: null, hashall: null });
  });

  it('stdin reaches node; a signal sent to the pid the caller knows ends node itself', async () => {
    const r = spawnSync(pkg.global, ['stdin'], { encoding: 'utf8', input: 'line one\nline two\n', env: envWith({}) });
    expect(JSON.parse(r.stdout).stdin).toBe('line one\nline two\n');
    const child = spawn(pkg.global, ['wait'], { stdio: ['ignore', 'pipe', 'inherit'], env: envWith({}) });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    expect(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0')).toContain(path.join(pkg.cli, 'hashall.cjs'));
    const ended = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGTERM');
    expect(await ended).toBe('SIGTERM');
  });
});

describe('the built sh launcher, installed as npm does', () => {
  it('is executable, runs the CLI with its exit codes, and hashall.cjs run directly still does', () => {
    expect(statSync(path.join(out, 'hashall')).mode & 0o111).toBe(0o111);
    const pkg = installed(path.join(tmp, 'real-prefix'), {}, out);
    const version = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).version as string;
    for (const sh of shells) {
      const [cmd, ...pre] = sh.cmd(pkg.global);
      const r = spawnSync(cmd!, [...pre, '--version'], { encoding: 'utf8', env: envWith({ NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' }) });
      expect(r.stdout.trim()).toBe(version);
      expect(r.status).toBe(0);
    }
    const bad = spawnSync(pkg.local, ['no-such-command'], { encoding: 'utf8', env: envWith({}) });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("unknown command 'no-such-command'");
    const direct = spawnSync(process.execPath, [path.join(out, 'hashall.cjs'), '--version'], { encoding: 'utf8', env: envWith({}) });
    expect(direct.stdout.trim()).toBe(version);
  });
});
