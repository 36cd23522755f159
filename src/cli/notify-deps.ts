// CLI wiring of notifications: each outcome as an NDJSON `notify` event (with --json) and a failure as a warning on stderr.
import type { NotifyDeps } from '../notify/notify.js';
import type { CliContext } from './context.js';
import type { EventSink } from './event-sink.js';

/**
 * Notification deps reporting through the command's event sink; a failed notification is a warning, never an error.
 * `stop`: the command's stop signal, where it handles SIGINT/SIGTERM — a notification must not outlive it.
 */
export function notifyDeps(ctx: CliContext, sink: EventSink, stop?: AbortSignal): NotifyDeps {
  return {
    now: ctx.now,
    ...(stop ? { stop } : {}),
    report: (o) => {
      sink.json({ type: 'notify', ...o });
      if (o.status === 'failed') sink.warn(`notification to ${o.target} (${o.event}) failed${o.attempts > 1 ? ` after ${o.attempts} attempts` : ''}: ${o.error ?? 'unknown error'}`);
    },
  };
}
