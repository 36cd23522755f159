// The ordered list of catalog schema migrations. Append only: never edit or remove a released migration.
import type { Db } from '../db.js';
import { m001Catalog } from './001-catalog.js';
import { m002Torrents } from './002-torrents.js';
import { m003Runs } from './003-runs.js';
import { m004FilesCover } from './004-files-cover.js';
import { m005Summaries } from './005-summaries.js';
import { m006FsBirth } from './006-fs-birth.js';
import { m007RunAck } from './007-run-ack.js';
import { m008Integrity } from './008-integrity.js';
import { m009UndoLog } from './009-undo-log.js';
import { m010TrackerHosts } from './010-tracker-hosts.js';
import { m011Notify } from './011-notify.js';
import { m012ClientInstances } from './012-client-instances.js';
import { m013QuickHashV2 } from './013-quick-hash-v2.js';
import { m014ContentIndex } from './014-content-index.js';
import { m015RunPlans } from './015-run-plans.js';
import { m016Symlinks } from './016-symlinks.js';
import { m017ClientFolders } from './017-client-folders.js';
import { m018TempFilesIndex } from './018-temp-files-index.js';
import { m019UnwantedFiles } from './019-unwanted-files.js';
import { m020PartFilesIndex } from './020-part-files-index.js';
import { m021RelocationHealth } from './021-relocation-health.js';
import { m022RowTextKey } from './022-row-text-key.js';
import { m023IntegrityPurgeSource } from './023-integrity-purge-source.js';

export interface Migration {
  version: number;
  name: string;
  /**
   * SQL executed inside one transaction. Additive (CREATE / ALTER ADD); a rebuild (012) copies every row; an index may be replaced (014); a rewrite (013)
   * only replaces derived values (a quick hash) by their new form or by unknown, which the next scan reads again.
   */
  up: string;
  /** Data rewritten in the same transaction, after `up` (e.g. scrubbing secrets stored by older versions). */
  run?: (db: Db) => void;
}

export const MIGRATIONS: Migration[] = [m001Catalog, m002Torrents, m003Runs, m004FilesCover, m005Summaries, m006FsBirth, m007RunAck, m008Integrity, m009UndoLog, m010TrackerHosts, m011Notify, m012ClientInstances, m013QuickHashV2, m014ContentIndex, m015RunPlans, m016Symlinks, m017ClientFolders, m018TempFilesIndex, m019UnwantedFiles, m020PartFilesIndex, m021RelocationHealth, m022RowTextKey, m023IntegrityPurgeSource];
