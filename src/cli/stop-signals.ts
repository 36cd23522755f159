// Ctrl-C and SIGTERM while apply (or verify, reconcile, scan) runs: the first asks it to stop at the next safe point, later ones say it is still stopping; a hang-up (the terminal closed) does not stop it.
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
  on(event: StopSignalName | 'SIGHUP', fn: () => void): unknown;
  off(event: StopSignalName | 'SIGHUP', fn: () => void): unknown;
}

/** What the first signal and each later one say. */
export interface StopWords {
  first(sig: StopSignalName): string;
  again(sig: StopSignalName): string;
}

const APPLY_WORDS: StopWords = {
  first: (sig) =>
    `${sig} received: stopping at the next safe point — every group in progress is rolled back (or finished when only ` +
    'its bookkeeping is left) and torrents hashall paused are resumed; this can take a few minutes',
  again: (sig) => `${sig} again: still rolling back, please wait (a kill -9 now would leave the group half done for \`hashall recover\`)`,
};

/** A scan's: nothing to roll back, the files being read are finished and recorded. */
export const SCAN_WORDS: StopWords = {
  first: (sig) => `${sig} received: stopping the scan once the files being read are recorded; everything scanned so far is kept`,
  again: (sig) => `${sig} again: recording the files being read, please wait`,
};

/**
 * Install SIGINT/SIGTERM handlers (and SIGHUP's, which only keeps the run alive) for the life of an apply. A `kill -9` cannot be caught: recovery from the journal
 * (`hashall recover`, or the next apply) handles that case.
 */
export function stopOnSignals(write: (line: string) => void, source: SignalSource = process, say: StopWords = APPLY_WORDS): StopSignals {
  const ac = new AbortController();
  let first: StopSignalName | null = null;
  const on = (sig: StopSignalName): void => {
    if (first === null) {
      first = sig;
      ac.abort(sig);
      write(say.first(sig));
      return;
    }
    write(say.again(sig));
  };
  const onInt = (): void => on('SIGINT');
  const onTerm = (): void => on('SIGTERM');
  // The terminal went away (an ssh connection dropped): SIGHUP's default would kill the run between two steps, leaving
  // a group half done, torrents paused and the lock held. The run goes on with its output dropped (pipeSafe), to its end.
  const onHangUp = (): void => {};
  source.on('SIGINT', onInt);
  source.on('SIGTERM', onTerm);
  source.on('SIGHUP', onHangUp);
  return {
    signal: ac.signal,
    received: () => first,
    exitCode: () => (first === 'SIGINT' ? ExitCode.Interrupted : first === 'SIGTERM' ? ExitCode.Terminated : null),
    dispose: () => {
      source.off('SIGINT', onInt);
      source.off('SIGTERM', onTerm);
      source.off('SIGHUP', onHangUp);
    },
  };
}
