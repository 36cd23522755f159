// A FIFO another user put where hashall reads its config or a plan: refused at once (its status judged before the open, which would wait for a writer), never a hang.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const OTHER_UID = 65534;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync('/tmp/hashall-fifo-');
  chmodSync(dir, 0o1777); // like /tmp: everyone may create files, sticky
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A FIFO owned by another user; nobody ever writes to it. */
function strangersFifo(name: string): string {
  const p = path.join(dir, name);
  expect(spawnSync('mkfifo', ['-m', '0666', p]).status).toBe(0);
  chownSync(p, OTHER_UID, OTHER_UID);
  return p;
}

/** The CLI in a child process, killed after 20 s (the old code waited for a writer forever). */
function cli(args: string[]) {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  delete env.SUDO_UID;
  return spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'src/cli/bin.ts', ...args], { encoding: 'utf8', timeout: 20_000, env });
}

describe('a FIFO planted by another user', () => {
  it('as hashall.yaml: refused as not trusted, exit 3 (config invalid) — no hang', () => {
    const cfg = strangersFifo('hashall.yaml');
    const r = cli(['validate', '--config', cfg]);
    expect(r.signal, 'killed by the 20 s bound: it hung').toBeNull();
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('is owned by uid 65534');
  });

  it('as a plan file: refused as not trusted, exit 1 — no hang', () => {
    const plans = path.join(dir, 'root-config');
    mkdirSync(plans, { mode: 0o755 });
    const cfg = path.join(plans, 'hashall.yaml');
    const seeding = path.join(plans, 'seeding');
    mkdirSync(seeding);
    writeFileSync(cfg, ['version: 1', `catalog: ${plans}/state/catalog.db`, 'filesystems:', `  disk: { path: ${plans} }`, 'seeding:', `  disk: [${seeding}]`, ''].join('\n'));
    const plan = strangersFifo('plan.json');
    const r = cli(['apply', plan, '--config', cfg]);
    expect(r.signal, 'killed by the 20 s bound: it hung').toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('is owned by uid 65534');
  });
});
