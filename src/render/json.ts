// The JSON form of every command's one-document output: indented, one trailing newline, values exact (pure).

/** `--json` output of a report command (scan, sync, torrents, whereis, doctor, …): one document on stdout. */
export function jsonDocument(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
