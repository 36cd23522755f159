// Ends a child process a test started and may have left behind (frozen, or mid-run when an assertion failed): by its own PID, only while it exists (test support).
import { procState } from '../../src/sandbox/owned-process.js';

export function killStray(pid: number | undefined): void {
  if (pid === undefined || procState(pid) === null) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}
