// An apply run that is not resolved yet (needs attention, or unfinished): what plan shows first and which paths it blocks (pure type).

export interface UnresolvedRun {
  runId: string;
  /** needs-attention, or running / interrupted (unfinished: its process is working or died mid-group). */
  status: string;
  startedAt: number;
  command: string;
  /** What a person must do, as the run recorded it. */
  attention: string[];
  /** Canonical host paths its open groups touch (sources, targets, views): groups touching them are blocked. */
  paths: string[];
  /** Torrents a repoint of those groups paused while they were running and that hashall has not resumed since. */
  pausedTorrents: { client?: string; hash: string; name: string }[];
}
