// Runs the CLI in-process with captured streams and an injected environment (test support).
import { main } from '../../src/cli/main.js';
import type { CliContext } from '../../src/cli/context.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], opts: Partial<CliContext> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const ctx: CliContext = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { ...process.env, NO_COLOR: '1' },
    cwd: process.cwd(),
    now: () => Date.now(),
    interactive: false,
    color: false,
    prompt: null,
    ...opts,
  };
  const code = await main(argv, ctx);
  return { code, stdout, stderr };
}
