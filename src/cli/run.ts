// Bundle entry: runs main() with the real process context and sets the exit code (the launcher calls it).
import { main } from './main.js';
import { processContext } from './context.js';

export async function run(argv: string[]): Promise<void> {
  process.exitCode = await main(argv, processContext());
}
