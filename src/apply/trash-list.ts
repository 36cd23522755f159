// `hashall trash`: what is staged in each filesystem's `.hashall-trash` — run, original path, size, when it will be purged, why — read through held directories, changing nothing.
import { errorText } from '../errors.js';
import path from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import type { HashallConfig } from '../config/types.js';
import { lstatAt, openDirUnder, type HeldDir } from '../fs/no-follow-tree.js';
import type { FsPort } from './fs-port.js';
import type { RunStatus } from './journal.js';
import { FINISHED } from './trash.js';
import { originOf, TRASH_DIR, trashEntries, type TrashEntry } from './trash-record.js';

export interface TrashItem {
  fs: string;
  /** `<fs path>/.hashall-trash/<run id>/…` */
  trash: string;
  runId: string | null;
  runStatus: RunStatus | null;
  /** Where `hashall trash restore` puts it back; null for what hashall did not record. */
  origin: string | null;
  files: number | null;
  bytes: number | null;
  /** Epoch ms after which `trash purge` (and apply, recover) remove it; null when nothing will remove it on its own. */
  purgeAfter: number | null;
  /** The purge rule in words (when, or why never). */
  purge: string;
  /** Why it was staged (the plan's reasons), or what is wrong with it. */
  reason: string;
  state: 'staged' | 'unrecorded' | 'replaced' | 'problem';
}

export interface TrashListDeps {
  catalog: CatalogDb;
  config: HashallConfig;
  fs: FsPort;
}

/** Every entry of every configured filesystem's trash, recorded ones with their records, others flagged. */
export async function listTrash(deps: TrashListDeps): Promise<TrashItem[]> {
  const out: TrashItem[] = [];
  const seen = new Set<string>();
  for (const [fsName, fsConf] of Object.entries(deps.config.filesystems)) {
    const trashRoot = path.join(fsConf.path, TRASH_DIR);
    if (seen.has(trashRoot)) continue;
    seen.add(trashRoot);
    const none = { fs: fsName, runId: null, runStatus: null, origin: null, files: null, bytes: null, purgeAfter: null };
    let root: HeldDir | null;
    try {
      root = await deps.fs.holdPrivateDir(fsConf.path, TRASH_DIR, { create: false });
    } catch (err) {
      out.push({ ...none, trash: trashRoot, purge: 'never (hashall neither enters nor removes it)', reason: errorText(err), state: 'problem' });
      continue;
    }
    if (!root) continue;
    try {
      for (const name of (await deps.fs.readdir(root.path)).sort()) {
        const entries = trashEntries(deps.catalog.db, name).filter((e) => e.record.trashRel?.startsWith(`${name}/`));
        if (!entries.length) {
          out.push({ ...none, trash: path.join(trashRoot, name), purge: 'never: hashall did not record it (remove it by hand once checked)', reason: 'not recorded by any hashall run', state: 'unrecorded' });
          continue;
        }
        for (const e of entries) {
          const item = await itemOf(deps, root, fsName, fsConf.path, e);
          if (item) out.push(item);
        }
      }
    } finally {
      await root.close();
    }
  }
  return out;
}

async function itemOf(deps: TrashListDeps, root: HeldDir, fsName: string, fsPath: string, e: TrashEntry): Promise<TrashItem | null> {
  const rec = e.record;
  const rel = rec.trashRel!;
  let parent: HeldDir | null = null;
  let here;
  try {
    parent = await openDirUnder(root, path.posix.dirname(rel));
    here = await lstatAt(parent, path.posix.basename(rel));
  } catch {
    here = null;
  } finally {
    await parent?.close();
  }
  if (!here) return null; // restored, or purged
  const { mode, observeHours } = deps.config.safety.retire;
  const run = e.run;
  const replaced = !rec.trashId || !rec.trashRootId || here.dev !== rec.trashId.dev || here.ino !== rec.trashId.ino || root.ino !== rec.trashRootId.ino;
  const purgeAfter = mode !== 'never' && !replaced && FINISHED.has(run.status) && run.endedAt !== null ? run.endedAt + observeHours * 3_600_000 : null;
  const purge =
    mode === 'never'
      ? 'never: safety.retire.mode is never'
      : replaced
        ? 'never: it is not what the run recorded'
        : run.status === 'needs-attention'
          ? `not while run ${run.id} needs attention`
          : purgeAfter === null
            ? `after run ${run.id} (${run.status}) ends and observeHours ${observeHours} pass`
            : `after ${new Date(purgeAfter).toISOString()} (run ended + observeHours ${observeHours})`;
  return {
    fs: fsName,
    trash: rec.trash,
    runId: e.runId,
    runStatus: run.status,
    origin: originOf(rec, fsPath),
    files: rec.files ?? null,
    bytes: rec.bytes ?? null,
    purgeAfter,
    purge,
    reason: replaced ? `${rec.trash} is not the inode the run recorded: restore and purge leave it alone` : (rec.reason ?? e.reasons.join('; ')),
    state: replaced ? 'replaced' : 'staged',
  };
}
