// Benchmark: start-up of the installed CLI (the sh launcher dist/cli/hashall through an npm-style bin symlink, code cache warm) — `--version`, `validate`, and `apply PLANFILE` until it opens the plan (a FIFO) — CPU and wall medians vs `node -e 0`, with and without NODE_EXTRA_CA_CERTS.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeConfig } from './dedupe.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/**
 * The package's bin (the sh launcher beside the bundle), or HASHALL_BENCH_STARTUP_BIN (an executable: another build's
 * bin, for A/B pairs). Run through a symlink, as npm installs it (<prefix>/bin/hashall -> …/dist/cli/hashall).
 */
const target = path.resolve(process.env.HASHALL_BENCH_STARTUP_BIN ?? path.join(here, '../cli/hashall'));
/** The CA bundle the box sets for every process (a whole system bundle), or the usual Debian one when it sets none. */
const CA_BUNDLE = process.env.NODE_EXTRA_CA_CERTS || '/etc/ssl/certs/ca-certificates.crt';

interface Sample {
  wallMs: number;
  cpuMs: number;
}

/** Wall time and CPU time (user + system of every child, from bash's `times`) of one `cmd args…` run; its exit code must be in `ok`. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, ok: number[] = [0]): Sample {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', '"$@" >/dev/null 2>&1; s=$?; times; exit $s', 'bash', cmd, ...args], { encoding: 'utf8', env });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status === null || !ok.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}`);
  const m = /([\d.]+)m([\d.]+)s ([\d.]+)m([\d.]+)s/.exec(r.stdout.trim().split('\n')[1] ?? '');
  if (!m) throw new Error(`no times from bash: ${r.stdout}`);
  return { wallMs, cpuMs: (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000 };
}

/** CPU time so far of every thread of `pid`, in ms (/proc/PID/task/TID/schedstat: ns on a CPU). */
function cpuOf(pid: number): number {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e6;
}

/** `hashall apply FIFO`: time from spawn until it opens the plan (the writer's open returns), and its CPU by then. */
function applyStart(bin: string, dir: string, config: string, plan: Buffer, env: NodeJS.ProcessEnv): Promise<Sample> {
  const fifo = path.join(dir, 'plan-fifo.json');
  rmSync(fifo, { force: true });
  execFileSync('mkfifo', [fifo]);
  const t0 = process.hrtime.bigint();
  // The launcher execs node: the pid is node's, and its main thread's CPU includes the shell's before the exec.
  const child = spawn(bin, ['apply', fifo, '--config', config], { stdio: 'ignore', env });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const fd = openSync(fifo, 'w'); // blocks until hashall opens its plan
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpuMs = cpuOf(child.pid!);
  writeSync(fd, plan);
  closeSync(fd);
  return exited.then(() => ({ wallMs, cpuMs }));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<Record<string, number>> {
  const rounds = Math.max(3, Number(process.env.HASHALL_BENCH_STARTUP_ROUNDS ?? 11));
  const dir = mkdtempSync(path.join(tmpdir(), 'hashall-bench-startup-'));
  try {
    // A world with one dedupe group, scanned and planned: apply reads its config, then opens the plan.
    const bytes = Buffer.alloc(256 << 10, 1);
    for (const d of ['a', 'b']) {
      mkdirSync(path.join(dir, 'seeding', d), { recursive: true });
      writeFileSync(path.join(dir, 'seeding', d, 'f.bin'), bytes);
    }
    const config = writeConfig(dir);
    mkdirSync(path.join(dir, 'bin'));
    const bin = path.join(dir, 'bin', 'hashall');
    symlinkSync(target, bin);
    const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: path.join(dir, 'cache') };
    delete base.NODE_EXTRA_CA_CERTS;
    delete base.HASHALL_EXTRA_CA_CERTS;
    // As this box (and CI) runs every process: with the bundle; and as most hosts do: without.
    const envs: Record<'' | 'NoCa', NodeJS.ProcessEnv> = { '': existsSync(CA_BUNDLE) ? { ...base, NODE_EXTRA_CA_CERTS: CA_BUNDLE } : base, NoCa: base };
    timed(bin, ['scan', '--config', config], base);
    timed(bin, ['plan', '--config', config, '--out', path.join(dir, 'plan.json')], base);
    const plan = readFileSync(path.join(dir, 'plan.json'));
    // Warm: each command's code cache written once (the first apply applies the plan; later ones find it stale, exit 5).
    timed(bin, ['--version'], base);
    timed(bin, ['validate', '--config', config], base);
    await applyStart(bin, dir, config, plan, base);
    const kinds = ['node', 'version', 'validate', 'applyStart'] as const;
    const s: Record<string, Sample[]> = {};
    for (const e of Object.keys(envs)) for (const k of kinds) s[`${k}${e}`] = [];
    for (let i = 0; i < rounds; i++) {
      // Alternated: each round measures both environments in the same seconds.
      for (const [e, env] of Object.entries(envs)) {
        s[`node${e}`]!.push(timed(process.execPath, ['-e', '0'], env));
        s[`version${e}`]!.push(timed(bin, ['--version'], env));
        s[`validate${e}`]!.push(timed(bin, ['validate', '--config', config], env));
        s[`applyStart${e}`]!.push(await applyStart(bin, dir, config, plan, env));
      }
    }
    const out: Record<string, number> = { rounds, caBundleSet: envs[''] === base ? 0 : 1 };
    for (const [k, xs] of Object.entries(s)) {
      out[`${k}CpuMs`] = Math.round(median(xs.map((x) => x.cpuMs)));
      out[`${k}WallMs`] = Math.round(median(xs.map((x) => x.wallMs)));
    }
    for (const e of Object.keys(envs)) for (const k of ['version', 'validate', 'applyStart']) out[`${k}${e}CpuVsNode`] = Math.round((out[`${k}${e}CpuMs`]! / out[`node${e}CpuMs`]!) * 100) / 100;
    out.loadAverage1m = Math.round(loadavg()[0]! * 100) / 100;
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(JSON.stringify(await run(), null, 2) + '\n');
