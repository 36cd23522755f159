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
  /** Read one line from the user (confirmation prompts); null when there is no terminal. */
  prompt: ((question: string) => Promise<string>) | null;
}

export function processContext(): CliContext {
  const env = process.env;
  const color = Boolean(process.stdout.isTTY) && env.NO_COLOR === undefined;
  const interactive = Boolean(process.stderr.isTTY) && Boolean(process.stdin.isTTY);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env,
    cwd: process.cwd(),
    now: () => Date.now(),
    interactive,
    color,
    prompt: interactive
      ? async (question: string) => {
          const { createInterface } = await import('node:readline/promises');
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          try {
            return await rl.question(question);
          } finally {
            rl.close();
          }
        }
      : null,
  };
}
