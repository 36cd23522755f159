// TEST-ONLY crash hook: HASHALL_TEST_CRASH_AT=N makes the process SIGKILL itself at the Nth committed journal write
// (HASHALL_TEST_CRASH_SIGNAL=SIGSTOP freezes it instead, holding the lock; SIGINT or SIGTERM sends that signal, as Ctrl-C
// or a service manager would; SIGINT2 sends SIGINT twice). Used by the kill -9, interrupt and concurrency tests; never set
// it outside tests.

function defaultKill(sig: string | undefined): () => void {
  if (sig === 'SIGSTOP' || sig === 'SIGINT' || sig === 'SIGTERM') return () => process.kill(process.pid, sig);
  if (sig === 'SIGINT2') {
    return () => {
      process.kill(process.pid, 'SIGINT');
      setTimeout(() => process.kill(process.pid, 'SIGINT'), 50);
    };
  }
  return () => process.kill(process.pid, 'SIGKILL');
}

/** Returns an onBoundary callback when HASHALL_TEST_CRASH_AT is a positive integer (or HASHALL_TEST_CRASH_AT_BOUNDARY names one), else undefined. */
export function crashHookFromEnv(
  env: Record<string, string | undefined>,
  kill: () => void = defaultKill(env.HASHALL_TEST_CRASH_SIGNAL),
): ((what: string) => void) | undefined {
  const match = env.HASHALL_TEST_CRASH_AT_BOUNDARY;
  if (match) {
    // Or at the first boundary named exactly so, e.g. `step-undo-data g1#3` (a group's step, whatever came before).
    return (what: string) => {
      if (env.HASHALL_TEST_CRASH_LOG) process.stderr.write(`crash-hook: ${what}\n`);
      if (what === match) kill();
    };
  }
  const raw = env.HASHALL_TEST_CRASH_AT;
  if (!raw) return undefined;
  const at = Number(raw);
  if (!Number.isInteger(at) || at < 1) return undefined;
  let n = 0;
  return (what: string) => {
    n++;
    if (env.HASHALL_TEST_CRASH_LOG) process.stderr.write(`crash-hook ${n}: ${what}\n`);
    if (n === at) kill();
  };
}

/**
 * TEST-ONLY: HASHALL_TEST_SIGNAL_ON_COPY=SIGTERM|SIGINT sends that signal to this process once, at the first copy progress
 * of a file not yet copied to its end — a stop in the middle of a copy. Returns `emit` unchanged when unset.
 */
export function copySignalHookFromEnv<E extends { type: string; bytes?: number; totalBytes?: number }>(env: Record<string, string | undefined>, emit: (e: E) => void): (e: E) => void {
  const sig = env.HASHALL_TEST_SIGNAL_ON_COPY;
  if (sig !== 'SIGTERM' && sig !== 'SIGINT') return emit;
  let fired = false;
  return (e) => {
    emit(e);
    if (!fired && e.type === 'copy-progress' && e.bytes !== undefined && e.totalBytes !== undefined && e.bytes < e.totalBytes) {
      fired = true;
      process.kill(process.pid, sig);
    }
  };
}

/**
 * TEST-ONLY: HASHALL_TEST_SIGNAL_ON_SCAN=SIGTERM|SIGINT sends that signal to this process once, at the first progress of
 * a scan's walk with files seen — a stop in the middle of a scan. Returns `progress` unchanged when unset.
 */
export function scanSignalHookFromEnv<P extends { walking: boolean; filesSeen: number }>(env: Record<string, string | undefined>, progress: ((p: P) => void) | undefined): ((p: P) => void) | undefined {
  const sig = env.HASHALL_TEST_SIGNAL_ON_SCAN;
  if (sig !== 'SIGTERM' && sig !== 'SIGINT') return progress;
  let fired = false;
  return (p) => {
    progress?.(p);
    if (!fired && p.walking && p.filesSeen > 0) {
      fired = true;
      process.kill(process.pid, sig);
    }
  };
}
