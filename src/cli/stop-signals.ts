// Ctrl-C and SIGTERM while apply runs: the first asks it to stop at the next safe point, later ones say it is still rolling back.
import { ExitCode } from '../errors.js';

export type StopSignalName = 'SIGINT' | 'SIGTERM';

export interface StopSignals {
  /** Aborted at the first SIGINT/SIGTERM; its `reason` is the signal's name. */
  signal: AbortSignal;
  /** The first signal received, or null. */
  received(): StopSignalName | null;
  /** 130 after SIGINT, 143 after SIGTERM (128 + the signal number), null when none arrived. */
  exitCode(): ExitCode | null;
  /** Remove the handlers (the default action — exit without rollback — is back). */
  dispose(): void;
}

/** Where signals come from (the process; a test may pass an EventEmitter). */
export interface SignalSource {
  on(event: StopSignalName, fn: () => void): unknown;
  off(event: StopSignalName, fn: () => void): unknown;
}

/**
 * Install SIGINT/SIGTERM handlers for the life of an apply. A `kill -9` cannot be caught: recovery from the journal
 * (`hashall recover`, or the next apply) handles that case.
 */
export function stopOnSignals(write: (line: string) => void, source: SignalSource = process): StopSignals {
  const ac = new AbortController();
  let first: StopSignalName | null = null;
  const on = (sig: StopSignalName): void => {
    if (first === null) {
      first = sig;
      ac.abort(sig);
      write(
        `${sig} received: stopping at the next safe point — every group in progress is rolled back (or finished when only ` +
          'its bookkeeping is left) and torrents hashall paused are resumed; this can take a few minutes',
      );
      return;
    }
    write(`${sig} again: still rolling back, please wait (a kill -9 now would leave the group half done for \`hashall recover\`)`);
  };
  const onInt = (): void => on('SIGINT');
  const onTerm = (): void => on('SIGTERM');
  source.on('SIGINT', onInt);
  source.on('SIGTERM', onTerm);
  return {
    signal: ac.signal,
    received: () => first,
    exitCode: () => (first === 'SIGINT' ? ExitCode.Interrupted : first === 'SIGTERM' ? ExitCode.Terminated : null),
    dispose: () => {
      source.off('SIGINT', onInt);
      source.off('SIGTERM', onTerm);
    },
  };
}
