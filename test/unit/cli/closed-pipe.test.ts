// Output into a pipe whose reader is gone (`hashall … | head`): the CLI drops the rest of its output and finishes its work with its own exit code, never a crash on EPIPE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../support/cli.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let tmp: TempDir;
let config: string;

/**
 * The CLI from source as a child whose stdout (or stderr) reader is closed right after the spawn — long before node
 * has started and written anything, so every write of the child meets a pipe with no reader. Bounded at 60 s.
 */
function withClosed(which: 'stdout' | 'stderr', args: string[]): Promise<{ code: number | null; signal: string | null; other: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', './test/support/ts-register.mjs', 'src/cli/bin.ts', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    child[which].destroy();
    let other = '';
    child[which === 'stdout' ? 'stderr' : 'stdout'].on('data', (b: Buffer) => (other += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => (clearTimeout(timer), resolve({ code, signal, other })));
  });
}

beforeAll(() => {
  tmp = makeTempDir('hashall-closed-pipe-');
  const stash = path.join(tmp.path, 'stash');
  mountTmpfs(stash, 16 * 1024 * 1024, 'stash');
  mkdirSync(path.join(stash, 'torrents', 'M'), { recursive: true });
  for (let i = 0; i < 50; i++) writeFileSync(path.join(stash, 'torrents', 'M', `f${i}.bin`), `bytes ${i % 2}`);
  config = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(config, ['version: 1', 'catalog: ./state/catalog.db', 'filesystems:', `  stash: { path: ${stash} }`, 'seeding:', `  stash: [${stash}/torrents]`, ''].join('\n'));
});
afterAll(() => tmp.cleanup());

describe('a closed output pipe', () => {
  it('`hashall --help | head` (reader gone): exit 0, no EPIPE crash', async () => {
    const r = await withClosed('stdout', ['--help']);
    expect(r.other).not.toMatch(/EPIPE|Unhandled|at /);
    expect(r).toMatchObject({ code: 0, signal: null });
  });

  it('a scan whose stdout reader is gone still scans and records everything, exit 0', async () => {
    const r = await withClosed('stdout', ['scan', '--hash-all', '--config', config]);
    expect(r.other).not.toMatch(/EPIPE|Unhandled|at /);
    expect(r).toMatchObject({ code: 0, signal: null });
    const d = await runCli(['catalog', 'stats', '--json', '--config', config], { cwd: tmp.path });
    expect(d.code, d.stderr).toBe(0);
    // Every one of the 50 files recorded and hashed: the scan ran to its end.
    expect(JSON.parse(d.stdout).filesystems).toMatchObject([{ name: 'stash', files: 50, hashedFraction: 1 }]);
  });

  it('an error report whose stderr reader is gone: the documented exit code, no crash', async () => {
    const r = await withClosed('stderr', ['validate', '--config', path.join(tmp.path, 'missing.yaml')]);
    expect(r).toMatchObject({ code: 3, signal: null });
  });
});
