// `npm run demo`: builds a throwaway stash/pool seedbox with a real qBittorrent, then runs plan, apply and plan again.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../cli/main.js';
import { processContext } from '../cli/context.js';
import { buildDemoSeedbox, type DemoSeedbox } from './seedbox.js';

const say = (s: string): void => void process.stderr.write(`demo: ${s}\n`);

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/**
 * Re-run inside a private mount namespace so the demo can mount two real tmpfs filesystems: as root directly, otherwise
 * in a user namespace (where the kernel allows one), as scripts/test.mjs does.
 */
function reexecInNamespace(): number | null {
  if (process.env.HASHALL_DEMO_NS === '1') return null;
  const ns = process.getuid?.() === 0 ? ['-m', '--propagation', 'private'] : ['-r', '-m', '--propagation', 'private'];
  if (spawnSync('unshare', [...ns, 'true']).status !== 0) return null;
  const r = spawnSync('unshare', [...ns, process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, HASHALL_DEMO_NS: '1' },
  });
  return r.status ?? 1;
}

async function hashall(args: string[], cwd: string): Promise<number> {
  process.stderr.write(`\n$ hashall ${args.join(' ')}\n`);
  return main(args, { ...processContext(), cwd });
}

async function demo(): Promise<number> {
  if (!hasCommand('qbittorrent-nox')) {
    say('qbittorrent-nox is not installed; the demo drives a real qBittorrent.');
    say('install it (Debian/Ubuntu: sudo apt-get install qbittorrent-nox) and run `npm run demo` again.');
    return 1;
  }
  const keep = process.argv.includes('--keep');
  // Two folders of one filesystem are no stash and pool: hashall.yaml refuses two entries on one device.
  if (process.env.HASHALL_DEMO_NS !== '1') {
    say('the demo needs two real filesystems (two tmpfs mounts in a private mount namespace), and `unshare` could not make one here:');
    say('run it as root, or where unprivileged user namespaces are enabled (`unshare -rm true` succeeds).');
    return 1;
  }
  const base = mkdtempSync(path.join(tmpdir(), 'hashall-demo-'));
  const stash = path.join(base, 'stash');
  const pool = path.join(base, 'pool');
  mkdirSync(stash);
  mkdirSync(pool);
  for (const [name, dir] of [['demo-stash', stash], ['demo-pool', pool]] as const) {
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', name, dir]).status !== 0) throw new Error(`cannot mount tmpfs at ${dir}`);
  }
  say(`seedbox in ${base}: two real tmpfs filesystems, stash (warm, holds the library) and pool (cold)`);
  let seedbox: DemoSeedbox | null = null;
  try {
    seedbox = await buildDemoSeedbox(base, stash, pool);
    say(`qBittorrent ${seedbox.qbt.url} (pid ${seedbox.qbt.pid}, loopback only) seeding 5 torrents from stash`);
    say('one movie is hardlinked into the library; the album already has a copy on pool; the library has a duplicate trailer');
    const cfg = ['--config', seedbox.configPath];
    let code = await hashall(['plan', ...cfg, '--out', path.join(base, 'plan.json')], base);
    if (code !== 0) return code;
    code = await hashall(['apply', path.join(base, 'plan.json'), ...cfg], base);
    if (code !== 0) return code;
    code = await hashall(['plan', ...cfg, '--detailed-exitcode'], base);
    say(code === 0 ? 'second plan: nothing left to do; the old copies on stash retire after the 72 h observation window' : `second plan exited ${code}`);
    await hashall(['runs', ...cfg], base);
    return code;
  } finally {
    await seedbox?.qbt.stop();
    if (keep) say(`kept ${base} (--keep)`);
    else {
      for (const d of [stash, pool]) spawnSync('umount', ['-l', d]);
      rmSync(base, { recursive: true, force: true });
    }
  }
}

const nested = reexecInNamespace();
process.exitCode = nested ?? (await demo());
