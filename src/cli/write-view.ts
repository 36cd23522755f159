// Writes a view's outputs (render/view-output.ts) to the CLI's streams, in order.
import type { ViewOutput } from '../render/view-output.js';
import type { CliContext } from './context.js';

export function writeView(ctx: Pick<CliContext, 'stdout' | 'stderr'>, out: readonly ViewOutput[]): void {
  for (const o of out) (o.to === 'stdout' ? ctx.stdout : ctx.stderr).write(o.text);
}
