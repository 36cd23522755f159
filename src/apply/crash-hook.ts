// TEST-ONLY crash hook: HASHALL_TEST_CRASH_AT=N makes the process SIGKILL itself at the Nth committed journal write
// (HASHALL_TEST_CRASH_SIGNAL=SIGSTOP freezes it instead, holding the lock). Used by the kill -9 and concurrency tests;
// never set it outside tests.

/** Returns an onBoundary callback when HASHALL_TEST_CRASH_AT is a positive integer, else undefined. */
export function crashHookFromEnv(
  env: Record<string, string | undefined>,
  kill: () => void = () => process.kill(process.pid, env.HASHALL_TEST_CRASH_SIGNAL === 'SIGSTOP' ? 'SIGSTOP' : 'SIGKILL'),
): ((what: string) => void) | undefined {
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
