// The event sink of apply, recover, reconcile and verify --repair: the apply view (render/apply-view.ts, human or NDJSON, chosen once) written to the CLI's streams.
import type { ApplyEvent, Emit } from '../apply/events.js';
import type { ViewOutput } from '../render/view-output.js';
import { applyView, type CliEvent } from '../render/apply-view.js';
import type { CliContext } from './context.js';
import { writeView } from './write-view.js';

export interface EventSink {
  emit: Emit;
  /** Something worth knowing that is neither a warning nor an error (refresh counts, notes): stderr, or NDJSON with --json. */
  info(line: string): void;
  /** A warning: stderr always (cron mails it), and an NDJSON event with --json. */
  warn(line: string): void;
  /** With --json, the error as an NDJSON event (the top-level catch still prints it on stderr). */
  error(err: unknown): void;
  /** With --json, a CLI event on stdout; nothing otherwise. */
  json(e: CliEvent): void;
  /** Clear a progress line left on the terminal. */
  end(): void;
}

/** NDJSON events on stdout with --json (stderr then carries only warnings and errors); otherwise human lines on stderr. */
export function eventSink(ctx: CliContext, json: boolean): EventSink {
  const view = applyView(json, { now: ctx.now, interactive: ctx.interactive });
  const write = (out: ReturnType<typeof view.end>): void => writeView(ctx, out);
  // Events emitted together: their outputs in order, the consecutive ones for the same stream joined into one write.
  const many = (events: readonly ApplyEvent[]): void => {
    const joined: ViewOutput[] = [];
    for (const o of events.flatMap((e) => view.event(e))) {
      const last = joined.at(-1);
      if (last && last.to === o.to) last.text += o.text;
      else joined.push({ ...o });
    }
    write(joined);
  };
  const emit: Emit = Object.assign((e: ApplyEvent) => write(view.event(e)), { many });
  return {
    emit,
    info: (line) => write(view.info(line)),
    warn: (line) => write(view.warn(line)),
    error: (err) => write(view.error(err)),
    json: (e) => write(view.cli(e)),
    end: () => write(view.end()),
  };
}
