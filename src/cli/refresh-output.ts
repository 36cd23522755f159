// The terminal view of a refresh: its lines on stderr and, on a terminal, the scan's progress line (throttled to 5 a second).
import type { ScanProgress } from '../catalog/scan/types.js';
import type { RefreshOutput } from '../reconcile/refresh.js';
import { refreshProgressLine } from '../render/refresh-text.js';
import type { CliContext } from './context.js';
import { progressLine } from './progress-line.js';

export function refreshOutput(ctx: CliContext): RefreshOutput {
  const progress = progressLine(ctx, (p: ScanProgress) => refreshProgressLine(p));
  const line = (text: string): void => void ctx.stderr.write(text + '\n');
  return { info: line, warn: line, ...(progress ? { progress } : {}) };
}
