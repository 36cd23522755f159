// A child daemon the sandboxes own: spawned with a kernel death signal, waited for with a bound, stopped only by its own PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The one-letter state of process `pid` from /proc (`R`, `S`, `T` stopped, `Z` zombie, …), or null when there is none. */
export function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

/** Alive, not a zombie, and started with `marker` within one of its arguments (`exact`: as one whole argument). */
export function isOurs(pid: number, marker: string, exact = false): boolean {
  const st = procState(pid);
  if (st === null || st === 'Z' || st === 'X') return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .some((a) => (exact ? a === marker : a.includes(marker)));
  } catch {
    return false;
  }
}

/** The last `lines` lines of a log file, or `(none)`. */
export function tailFile(file: string, lines = 30): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(none)';
}

export interface OwnedProcess {
  readonly pid: number;
  /** True until the child exited (our unreaped child: its PID cannot belong to anyone else). */
  running(): boolean;
  /** SIGTERM, SIGKILL after `timeoutMs`; resolves when it exited. Idempotent. */
  stop(timeoutMs: number): Promise<void>;
  /** SIGKILL now (crash tests); resolves when it exited. */
  kill(): Promise<void>;
}

/**
 * Spawn `cmd args` detached under `setpriv --pdeathsig KILL` (the kernel kills it if the test worker dies), output to
 * `logFile`. `marker` must appear in its argv: the exit hook signals the PID only while it is still that process.
 */
export function spawnOwned(cmd: string, args: string[], o: { env: Record<string, string>; cwd: string; logFile: string; marker: string }): OwnedProcess {
  const fd = openSync(o.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args], { env: o.env, cwd: o.cwd, detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let alive = true;
  const exited = new Promise<void>((resolve) => {
    const done = () => {
      alive = false;
      resolve();
    };
    child.once('exit', done);
    child.once('error', done);
  });
  const pid = child.pid ?? 0;
  const onExit = () => {
    if (alive && isOurs(pid, o.marker)) process.kill(pid, 'SIGKILL');
  };
  process.once('exit', onExit);
  const bounded = (ms: number) => Promise.race([exited.then(() => true), pause(ms).then(() => false)]);
  const signal = async (sig: NodeJS.Signals, ms: number): Promise<boolean> => {
    if (!alive) return true;
    process.kill(pid, sig);
    return bounded(ms);
  };
  return {
    pid,
    running: () => alive,
    async stop(timeoutMs) {
      process.removeListener('exit', onExit);
      if (await signal('SIGTERM', timeoutMs)) return;
      if (!(await signal('SIGKILL', 5_000))) throw new Error(`sandbox: pid ${pid} survived SIGKILL`);
    },
    async kill() {
      process.removeListener('exit', onExit);
      if (!(await signal('SIGKILL', 5_000))) throw new Error(`sandbox: pid ${pid} survived SIGKILL`);
    },
  };
}

/**
 * Per-test-file owner of throwaway daemons (`const qbts = sandboxOwner(startQbt); afterAll(() => qbts.stopAll())`):
 * stopAll stops every sandbox it started and deletes the temp dirs it created (those started without `dir`).
 */
export function sandboxOwner<O extends { dir?: string }, S extends { readonly dir: string; stop(): Promise<void> }>(startOne: (opts: O) => Promise<S>) {
  const started: { sb: S; purge: boolean }[] = [];
  return {
    async start(opts: O = {} as O): Promise<S> {
      const sb = await startOne(opts);
      started.push({ sb, purge: opts.dir === undefined });
      return sb;
    },
    async stopAll(): Promise<void> {
      for (const { sb, purge } of started.splice(0)) {
        await sb.stop();
        if (purge) rmSync(sb.dir, { recursive: true, force: true });
      }
    },
  };
}
