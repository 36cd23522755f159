// The ordered list of catalog schema migrations. Append only: never edit or remove a released migration.
import { m001Catalog } from './001-catalog.js';
import { m002Torrents } from './002-torrents.js';
import { m003Runs } from './003-runs.js';
import { m004FilesCover } from './004-files-cover.js';
import { m005Summaries } from './005-summaries.js';
import { m006FsBirth } from './006-fs-birth.js';
import { m007RunAck } from './007-run-ack.js';
import { m008Integrity } from './008-integrity.js';
import { m009UndoLog } from './009-undo-log.js';

export interface Migration {
  version: number;
  name: string;
  /** SQL executed inside one transaction. Additive only (CREATE / ALTER ADD); never destructive. */
  up: string;
}

export const MIGRATIONS: Migration[] = [m001Catalog, m002Torrents, m003Runs, m004FilesCover, m005Summaries, m006FsBirth, m007RunAck, m008Integrity, m009UndoLog];
