// A command's progress line on a terminal: drawn in place (render/view-output.ts CLEAR_LINE) at most 5 times a second, erased at the end; nothing without a terminal.
import { CLEAR_LINE } from '../render/view-output.js';
import type { CliContext } from './context.js';

export interface ProgressLine<P> {
  /** Redraws the line with `p` (skipped when the last draw was under 200 ms ago). */
  draw(p: P): void;
  /** Erases the line (before the command's own output). */
  clear(): void;
}

/** The progress line of `text` (given the progress and the time since the line was made), or undefined when stderr is not a terminal. */
export function progressLine<P>(ctx: Pick<CliContext, 'stderr' | 'now' | 'interactive'>, text: (p: P, elapsedMs: number) => string): ProgressLine<P> | undefined {
  if (!ctx.interactive) return undefined;
  const started = ctx.now();
  let last: number | null = null;
  return {
    draw(p) {
      const t = ctx.now();
      if (last !== null && t - last < 200) return;
      last = t;
      ctx.stderr.write(`${CLEAR_LINE}${text(p, t - started)}`);
    },
    clear: () => void ctx.stderr.write(CLEAR_LINE),
  };
}
