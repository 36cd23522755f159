// The injected world of a CLI invocation: streams, environment, clock, terminal detection (no globals below cli/).

export interface Writable {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface CliContext {
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
  cwd: string;
  now: () => number;
  /** True when stderr is a terminal (progress bars, prompts). */
  interactive: boolean;
  /** Colors allowed on stdout (terminal and NO_COLOR unset). */
  color: boolean;
  /**
   * Read one line from the user (confirmation prompts); null when there is no terminal. The line typed, '' when the
   * input ended (Ctrl-D), null when the user pressed Ctrl-C (readline holds the terminal raw: no SIGINT is sent).
   */
  prompt: ((question: string) => Promise<string | null>) | null;
}

/**
 * A process stream whose reader may go away (`hashall plan | head`, a closed terminal): once it reports EPIPE (or EIO), further
 * output is dropped and the command carries on to its own end — an apply is never cut short between two steps by its
 * reader leaving (it crashed with "Unhandled 'error' event" instead). Any other stream error ends the process as before.
 */
export function pipeSafe(stream: NodeJS.WriteStream): Writable {
  let gone = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    // EIO: a terminal that was hung up (closed window, dropped ssh connection) — gone as surely as a closed pipe.
    if (err.code !== 'EPIPE' && err.code !== 'EIO' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    gone = true;
  });
  return {
    get isTTY() {
      return stream.isTTY;
    },
    write: (chunk: string) => !gone && stream.write(chunk),
  };
}

export function processContext(): CliContext {
  const env = process.env;
  const color = Boolean(process.stdout.isTTY) && env.NO_COLOR === undefined;
  const interactive = Boolean(process.stderr.isTTY) && Boolean(process.stdin.isTTY);
  return {
    stdout: pipeSafe(process.stdout),
    stderr: pipeSafe(process.stderr),
    env,
    cwd: process.cwd(),
    now: () => Date.now(),
    interactive,
    color,
    prompt: interactive
      ? async (question: string) => {
          const { createInterface } = await import('node:readline/promises');
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          // Ctrl-C reaches readline as a key: its listener aborts the question (closing the interface would not).
          const interrupt = new AbortController();
          rl.once('SIGINT', () => interrupt.abort());
          try {
            return await rl.question(question, { signal: interrupt.signal });
          } catch (err) {
            // readline/promises rejects a question whose input ended (Ctrl-D) or that was aborted; else a real error.
            if ((err as Error).name !== 'AbortError') throw err;
            process.stderr.write('\n');
            return interrupt.signal.aborted ? null : '';
          } finally {
            rl.close();
          }
        }
      : null,
  };
}
