// The folders a torrent client writes its own files to (session, .torrent copies, watched, incomplete): their vocabulary and how they read (pure).

/**
 * What a client keeps in a folder of its own: its session or configuration (the state it restarts from), copies of
 * .torrent files it was told to keep, a folder it watches for new .torrent files, or the folder incomplete downloads
 * stay in until they finish.
 */
export type ClientFolderRole = 'session' | 'config' | 'torrent-copies' | 'watch' | 'incomplete';

/** A folder the client itself writes to (as the client spells it, or its canonical host path once mapped). */
export interface ClientFolder {
  role: ClientFolderRole;
  path: string;
}

export const CLIENT_FOLDER_ROLES: readonly ClientFolderRole[] = ['session', 'config', 'torrent-copies', 'watch', 'incomplete'];

/** How a role reads in a sentence: `the session folder of client "rt"`. */
export function describeClientFolder(role: ClientFolderRole, client: string): string {
  const what: Record<ClientFolderRole, string> = {
    session: 'session folder',
    config: 'configuration folder',
    'torrent-copies': 'folder of .torrent copies',
    watch: 'watched folder',
    incomplete: 'incomplete-downloads folder',
  };
  return `the ${what[role]} of client "${client}"`;
}
