// The events apply emits while it works (rendered as NDJSON on stdout with --json, as human lines on stderr otherwise).
import type { RunStatus } from './journal.js';

export type ApplyEvent =
  | { type: 'run-start'; runId: string; groups: number; planFile: string | null }
  | { type: 'recover'; runId: string; interruptedRunId: string; message: string }
  | { type: 'group-start'; runId: string; groupId: string; action: string; title: string; steps: number }
  | { type: 'step-start'; runId: string; groupId: string; step: number; kind: string; what: string }
  | { type: 'step-done'; runId: string; groupId: string; step: number; kind: string; status: 'done' | 'noop'; note?: string }
  | { type: 'step-failed'; runId: string; groupId: string; step: number; kind: string; error: string }
  | { type: 'copy-progress'; runId: string; groupId: string; file: string; bytes: number; totalBytes: number; groupBytes: number; groupTotal: number }
  /** Polled while the client rechecks a repointed torrent (minutes for a large payload on a hard disk). */
  | { type: 'recheck-progress'; runId: string; groupId: string; step: number; torrentHash: string; torrentName: string; progress: number; state: string; elapsedMs: number }
  | { type: 'undo'; runId: string; groupId: string; step: number; kind: string; status: 'undone' | 'undo-failed'; error?: string }
  | { type: 'group-done'; runId: string; groupId: string; status: string; error?: string }
  | { type: 'guard'; runId: string; problems: string[] }
  /** The change is done and verified, but the catalog was not refreshed for `path` (a tree, or `the torrent client`): the next plan needs a refresh. */
  | { type: 'refresh-failed'; runId: string; groupId: string | null; path: string; error: string }
  | { type: 'trash'; runId: string; action: 'removed' | 'kept' | 'failed'; path: string; files: number; bytes: number; message: string }
  | { type: 'run-done'; runId: string; status: RunStatus; bytesCopied: number; bytesFreed: number; attention: string[] };

/**
 * Where apply's events go. `many`, when the sink has it, takes events emitted together (a dedupe batch's hundreds of
 * lines) and writes them at once — one write per stream instead of one per line.
 */
export type Emit = ((e: ApplyEvent) => void) & { many?: (events: readonly ApplyEvent[]) => void };

/** Emit events together: through the sink's `many` when it has one, else one by one (same order, same events). */
export function emitAll(emit: Emit, events: readonly ApplyEvent[]): void {
  if (events.length === 0) return;
  if (emit.many) emit.many(events);
  else for (const e of events) emit(e);
}
