// The terminal view of a refresh: its lines on stderr and, on a terminal, the scan's progress line (throttled to 5 a second).
import type { ScanProgress } from '../catalog/scan/types.js';
import type { RefreshOutput } from '../reconcile/refresh.js';
import { refreshProgressLine } from '../render/refresh-text.js';
import { CLEAR_LINE } from '../render/view-output.js';
import type { CliContext } from './context.js';

export function refreshOutput(ctx: CliContext): RefreshOutput {
  return { info: (line) => void ctx.stderr.write(line + '\n'), ...(ctx.interactive ? { progress: scanProgressLine(ctx) } : {}) };
}

function scanProgressLine(ctx: CliContext): NonNullable<RefreshOutput['progress']> {
  let last = 0;
  return {
    draw(p: ScanProgress) {
      const t = ctx.now();
      if (t - last < 200) return;
      last = t;
      ctx.stderr.write(`${CLEAR_LINE}${refreshProgressLine(p)}`);
    },
    clear: () => void ctx.stderr.write(CLEAR_LINE),
  };
}
