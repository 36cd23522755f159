// A FIFO where hashall reads its config or a plan — another user's, or root's own that nobody writes to: refused at once (opened without waiting for a writer), never a hang; a pipe with its writer (`--config <(…)`, /dev/stdin) is read as before.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

const CLI = [process.execPath, '--import', './test/support/ts-register.mjs', 'src/cli/bin.ts'];

/** The CLI in a child process, killed after `timeout` ms (the old code waited for a writer forever). */
function cli(args: string[], opts: { input?: string; timeout?: number } = {}) {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  delete env.SUDO_UID;
  return spawnSync(CLI[0]!, [...CLI.slice(1), ...args], { encoding: 'utf8', timeout: opts.timeout ?? 20_000, env, ...(opts.input === undefined ? {} : { input: opts.input }) });
}

/** The CLI run by sh with its stdin a real pipe from `feeder` (Node's own `input` is a socket). */
function cliPiped(feeder: string, args: string[]) {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  delete env.SUDO_UID;
  const quoted = [...CLI, ...args].map((a) => `'${a}'`).join(' ');
  return spawnSync('sh', ['-c', `${feeder} | ${quoted}`], { encoding: 'utf8', timeout: 20_000, env });
}

/** A FIFO of root's own (0600) in a folder only root writes; nobody ever writes to it. */
function ownFifo(name: string): string {
  const own = path.join(dir, 'own');
  mkdirSync(own, { mode: 0o755, recursive: true });
  const p = path.join(own, name);
  expect(spawnSync('mkfifo', ['-m', '0600', p]).status).toBe(0);
  return p;
}

/** A config of root's own in a folder only root writes (its text also given on stdin). */
function rootConfig(): { cfg: string; text: string } {
  const plans = path.join(dir, 'root-config');
  mkdirSync(path.join(plans, 'seeding'), { mode: 0o755, recursive: true });
  const cfg = path.join(plans, 'hashall.yaml');
  const text = ['version: 1', `catalog: ${plans}/state/catalog.db`, 'filesystems:', `  disk: { path: ${plans} }`, 'seeding:', `  disk: [${plans}/seeding]`, ''].join('\n');
  writeFileSync(cfg, text);
  return { cfg, text };
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

describe('a FIFO of root’s own that nobody writes to, and pipes with a writer', () => {
  it('as hashall.yaml: refused once no writer came (10 s), exit 3 — no hang', () => {
    const cfg = ownFifo('hashall.yaml');
    const r = cli(['validate', '--config', cfg], { timeout: 60_000 });
    expect(r.signal, 'killed by the 60 s bound: it hung').toBeNull();
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`${cfg} is a pipe (FIFO) that no process wrote to within 10 s`);
  }, 70_000);

  it('as a plan file of apply and of show: refused once no writer came, exit 1 — no hang', () => {
    const { cfg } = rootConfig();
    const plan = ownFifo('plan.json');
    for (const args of [['apply', plan, '--config', cfg], ['show', plan]]) {
      const r = cli(args, { timeout: 60_000 });
      expect(r.signal, `${args[0]}: killed by the 60 s bound: it hung`).toBeNull();
      expect(r.status, args[0]).toBe(1);
      expect(r.stderr, args[0]).toContain(`${plan} is a pipe (FIFO) that no process wrote to within 10 s`);
    }
  }, 140_000);

  it('--config /dev/stdin fed by a pipe is read as before; a socket (which cannot be opened by name) is said in words', () => {
    const { cfg, text } = rootConfig();
    const r = cliPiped(`cat '${cfg}'`, ['validate', '--config', '/dev/stdin']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('valid (0 errors');
    const s = cli(['validate', '--config', '/dev/stdin'], { input: text });
    expect(s.status).toBe(3);
    expect(s.stderr).toContain('cannot read config file: it cannot be opened by its name: a socket');
    expect(s.stderr).not.toContain('ENXIO');
  });

  it('a config past 40 symlinks is said in words, as the kernel refuses it (exit 3)', () => {
    const { cfg } = rootConfig();
    const links = path.join(dir, 'own');
    mkdirSync(links, { mode: 0o755, recursive: true });
    symlinkSync(cfg, path.join(links, 'l0'));
    for (let i = 1; i <= 40; i++) symlinkSync(`l${i - 1}`, path.join(links, `l${i}`));
    const ok = cli(['validate', '--config', path.join(links, 'l39')]);
    expect(ok.status, ok.stderr).toBe(0);
    const r = cli(['validate', '--config', path.join(links, 'l40')]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/too many (levels of )?symbolic links/);
    expect(r.stderr).not.toContain('ELOOP');
  });
});
