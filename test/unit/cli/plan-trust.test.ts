// A saved plan is applied only when nobody but root or this user could have written it — the rule hashall.yaml follows:
// whoever can change the plan between the review and `apply` decides what root moves, links and removes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { runCli } from '../../support/cli.js';

const OTHER_UID = 65534; // nobody
let dir: string;
let config: string;
const env = () => {
  const e: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  delete e.SUDO_UID;
  return e;
};
const linked = () => statSync(path.join(dir, 'seeding', 'a', 'f.bin')).ino === statSync(path.join(dir, 'seeding', 'b', 'f.bin')).ino;

beforeEach(async () => {
  dir = mkdtempSync('/tmp/hashall-plan-trust-');
  for (const d of ['a', 'b']) {
    mkdirSync(path.join(dir, 'seeding', d), { recursive: true });
    writeFileSync(path.join(dir, 'seeding', d, 'f.bin'), 'same bytes '.repeat(100));
  }
  config = path.join(dir, 'hashall.yaml');
  writeFileSync(config, ['version: 1', `catalog: ${dir}/state/catalog.db`, 'filesystems:', `  disk: { path: ${dir} }`, 'seeding:', `  disk: [${dir}/seeding]`, 'dedupe: { filesystems: [disk], minSize: 1 }', ''].join('\n'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function planInto(folder: string): Promise<string> {
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, 'plan.json');
  const r = await runCli(['plan', '--out', file, '--config', config], { env: env() });
  expect(r.code, r.stderr).toBe(0);
  return file;
}

describe('apply PLANFILE refuses a plan another user could have written', () => {
  it.each([
    ['owned by another user', (file: string) => chownSync(file, OTHER_UID, OTHER_UID), 'is owned by uid 65534, not root', 'chown root'],
    ['writable by everyone', (file: string) => chmodSync(file, 0o666), 'is writable by other users', 'chmod go-w'],
    ['in a folder everyone may write (no sticky bit)', (file: string) => chmodSync(path.dirname(file), 0o777), 'is writable by other users', 'chmod go-w'],
  ])('%s: exit 1, nothing read from it, nothing changed', async (_what, spoil, problem, fix) => {
    const file = await planInto(path.join(dir, 'plans'));
    spoil(file);
    const r = await runCli(['apply', file, '--config', config], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(problem);
    expect(r.stderr).toContain('whoever can change it decides what hashall moves, links and removes');
    expect(r.stderr).toContain(fix);
    expect(linked()).toBe(false);
  });

  it('a plan in a private folder of this user applies; show renders a plan whoever wrote it (it changes nothing)', async () => {
    const file = await planInto(path.join(dir, 'plans'));
    chownSync(file, OTHER_UID, OTHER_UID);
    const shown = await runCli(['show', file, '--config', config], { env: env() });
    expect(shown.code, shown.stderr).toBe(0);
    chownSync(file, 0, 0);
    const r = await runCli(['apply', file, '--config', config], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(linked()).toBe(true);
  });

  it('a pipe is judged by who holds it: one of this user applies (`apply <(cat plan)`)', async () => {
    const file = await planInto(path.join(dir, 'plans'));
    const fifo = path.join(dir, 'plans', 'plan.fifo');
    const mk = spawn('mkfifo', ['-m', '0600', fifo]);
    await new Promise((resolve) => mk.on('close', resolve));
    // The writer feeds the pipe on its own (apply reads it synchronously); bounded in case apply never opens it.
    const writer = spawn('timeout', ['60', 'sh', '-c', `cat '${file}' > '${fifo}'`], { stdio: 'ignore' });
    const r = await runCli(['apply', fifo, '--config', config], { env: env() });
    writer.kill();
    expect(r.code, r.stderr).toBe(0);
    expect(linked()).toBe(true);
  });

  it('through a symlink another user owns (in their own folder), leading to root’s plan: exit 1, nothing changed', async () => {
    const file = await planInto(path.join(dir, 'plans'));
    const theirs = path.join(dir, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, OTHER_UID, OTHER_UID);
    const link = path.join(theirs, 'plan.json');
    symlinkSync(file, link);
    lchownSync(link, OTHER_UID, OTHER_UID);
    const r = await runCli(['apply', link, '--config', config], { env: env() });
    expect(r.stderr).toContain(`symlink ${link} on the way to plan file ${link} is owned by uid 65534, not root`);
    expect(r.code).toBe(1);
    expect(linked()).toBe(false);
  });
});
