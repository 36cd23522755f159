// What a view hands the CLI to write: text for stdout or stderr (pure; writing to a stream is the CLI's job).

/** Text for one stream; the CLI writes it as it is. */
export interface ViewOutput {
  to: 'stdout' | 'stderr';
  text: string;
}

/** Erases the progress line a view drew on a terminal. */
export const CLEAR_LINE = '\r\x1b[K';
