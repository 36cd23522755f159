// Step `recheck`: ask the client holding a torrent with corrupted files (and no good copy anywhere) to recheck it, so it
// marks the damaged pieces missing and re-downloads them from the swarm into the same files; proven by reading back.
// Must never: write a byte itself, ask a torrent whose file list does not name the damaged files or that moved since it
// was chosen, recheck a torrent that is checking, moving, missing files or in error, or let the client move or rename
// data — a per-torrent download path is cleared first (qBittorrent moves an incomplete torrent into it) and a client
// that renames incomplete files (.!qB, .part) is refused.
import { ClientError, FsError, HashallError } from '../../errors.js';
import type { ClientTorrent, TorrentClient, TorrentState } from '../../clients/types.js';
import { recheckRestarting, resumeConfirmed, waitCheckOver, waitForState } from '../../clients/confirm.js';
import { isBusyPhase } from '../../domain/torrent-phase.js';
import { clientListing } from '../../domain/listing.js';
import { torrentLabel } from '../../domain/instance.js';
import { trimSlash } from '../../domain/path-string.js';
import type { RecheckStep } from '../../plan/types.js';
import type { UndoData } from '../journal.js';
import type { StepContext, StepHandler } from './types.js';

interface RecheckUndo extends UndoData {
  /** The download path hashall cleared (it is not put back while the torrent is incomplete). */
  clearedDownloadPath?: string;
  /** Set right before the recheck is asked for. */
  asked?: boolean;
  /** Whether the torrent was running when the recheck was asked (set with `asked`). */
  wasRunning?: boolean;
  /** Set right before a stuck check (qBittorrent 4.5, clients/confirm.ts) is ended by a pause: the running state is restored after. */
  pausedStuck?: boolean;
}

const label = (s: RecheckStep): string => `${s.torrentName} (${torrentLabel({ client: s.client, hash: s.torrentHash })})`;
const isComplete = (t: ClientTorrent): boolean => t.progress >= 1 && (t.phase === 'seeding' || t.phase === 'paused-complete');
/** Incomplete and settled: the client already knows pieces are missing and fetches them while it runs. */
const isIncomplete = (t: ClientTorrent): boolean => t.progress < 1 && (t.phase === 'downloading' || t.phase === 'paused-incomplete');
const percent = (p: number): string => `${Math.floor(p * 1000) / 10}%`;

async function mustGet(client: TorrentClient, step: RecheckStep): Promise<ClientTorrent> {
  const t = await client.getTorrent(step.torrentHash);
  if (!t) throw new ClientError('unconfirmed', `torrent ${label(step)} is no longer in client "${step.client}"`, { hint: 'run `hashall sync`, then `hashall verify --repair` again' });
  return t;
}

/** The torrent is where it was when chosen: same save and content path (else the client moved it, or someone did). */
function mustBeInPlace(t: ClientTorrent, step: RecheckStep): void {
  if (trimSlash(t.savePath) !== trimSlash(step.clientSavePath) || trimSlash(t.contentPath) !== trimSlash(step.clientContentPath)) {
    throw new ClientError('unconfirmed', `${label(step)} is now at ${t.contentPath} (save path ${t.savePath}), not at ${step.clientContentPath} where its damaged files were found`, {
      hint: 'run `hashall sync` and `hashall verify` again',
    });
  }
}

/** Every damaged path is still the inode verify found damaged (size and mtime too: else another process is writing it). */
async function damagedUnchanged(step: RecheckStep, ctx: Pick<StepContext, 'fs'>): Promise<void> {
  for (const d of step.damaged) {
    const st = await ctx.fs.lstat(d.path);
    if (!st || st.kind !== 'file' || st.ino !== d.ino || st.size !== d.size || st.mtimeNs !== d.mtimeNs) {
      throw new FsError(`${d.path} changed since verify found it corrupted; the client was not asked to recheck ${label(step)}`, { path: d.path, hint: 'run `hashall verify PATH` again' });
    }
  }
}

/** The client's own file list (read now) names every damaged file at its relative path, with its size. */
async function mustHoldDamaged(client: TorrentClient, t: ClientTorrent, step: RecheckStep): Promise<void> {
  const listing = clientListing({ clientSavePath: t.savePath, clientContentPath: t.contentPath, files: await client.listFiles(step.torrentHash) });
  for (const d of step.damaged) {
    if (!listing.ok || (listing.files.get(d.relpath) ?? listing.pads.get(d.relpath)) !== d.size) {
      throw new ClientError('unconfirmed', `the file list of ${label(step)} does not name ${d.relpath} (${d.size} bytes): a recheck of it would not re-download ${d.path}`, {
        hint: 'restore the file from a backup, then `hashall verify PATH`',
      });
    }
  }
}

/** Refuse a recheck after which the client would rename the torrent's files (the step may not let the client touch data). */
async function mustNotRename(client: TorrentClient, step: RecheckStep): Promise<void> {
  if (client.renamesIncompleteFiles && (await client.renamesIncompleteFiles())) {
    throw new HashallError(`client "${step.client}" renames the files of incomplete torrents (.!qB / .part): a recheck of ${label(step)} would rename its files; hashall did not ask for one`, {
      hint: 'turn that client setting off (qBittorrent: "Append .!qB extension to incomplete files"; Transmission: rename-partial-files), or recheck the torrent in the client yourself',
    });
  }
}

/**
 * Waits for one recheck's outcome: over (neither checking nor moving) with proof that it ran — seen checking, or the
 * progress left where it was before (the damaged pieces are missing now). A check that ends complete is not seen as over
 * and runs into the timeout: then the client found no damage (see verify). 'stuck' when `stalled` says so.
 */
async function damageFound(
  client: TorrentClient,
  step: RecheckStep,
  ctx: Pick<StepContext, 'emit' | 'runId' | 'group' | 'stepIndex' | 'now'>,
  before: TorrentState,
  since: number,
  stalled: (t: TorrentState) => boolean,
  timeoutMs: number,
): Promise<TorrentState | 'stuck'> {
  let sawChecking = false;
  let stuck = false;
  const t = await waitForState(
    client,
    step.torrentHash,
    (x) => {
      ctx.emit({ type: 'recheck-progress', runId: ctx.runId, groupId: ctx.group.id, step: ctx.stepIndex, torrentHash: step.torrentHash, torrentName: step.torrentName, progress: x.progress, state: x.rawState, elapsedMs: ctx.now() - since });
      if (stalled(x)) return (stuck = true);
      if (x.phase === 'checking') sawChecking = true;
      if (isBusyPhase(x.phase)) return false;
      return (sawChecking && x.phase !== 'unknown') || x.progress !== before.progress;
    },
    { timeoutMs, what: `recheck ${label(step)} and find its damaged pieces` },
  );
  return stuck ? 'stuck' : t;
}

/**
 * Asks for one recheck and waits until it found the damage (damageFound), from the torrent as read now (`from`); a
 * stuck check is recovered by recheckRestarting (`beforePause` runs right before its pause).
 */
function recheckForDamage(
  client: TorrentClient,
  step: RecheckStep,
  ctx: Pick<StepContext, 'emit' | 'runId' | 'group' | 'stepIndex' | 'now' | 'clientTimeoutMs'>,
  from: TorrentState,
  beforePause?: () => void,
): Promise<{ t: TorrentState; paused: boolean }> {
  const since = ctx.now();
  let before = from;
  return recheckRestarting(client, step.torrentHash, { timeoutMs: ctx.clientTimeoutMs(step.bytes) }, {
    outcome: (stalled, left) => damageFound(client, step, ctx, before, since, stalled, left.timeoutMs),
    ...(beforePause ? { beforePause } : {}),
    afterPause: (paused) => void (before = paused),
  });
}

export const recheckStep: StepHandler<RecheckStep> = {
  describe: (s) => `recheck ${label(s)} in client "${s.client}" so it re-downloads ${s.damaged.map((d) => d.path).join(', ')} from the swarm`,
  manualUndo: (s, undo) =>
    `nothing on disk to put back: a recheck cannot be undone (torrent ${s.torrentName}, ${s.torrentHash}, in client "${s.client}" stays incomplete until it re-downloads ${s.damaged.map((d) => d.path).join(', ')});${undo.clearedDownloadPath ? ` set its download path ${String(undo.clearedDownloadPath)} again only once it is complete;` : ''} check that it is not checking, moving or in error`,

  async check(step, ctx) {
    const client = ctx.clients.get(step.client);
    const t = await mustGet(client, step);
    mustBeInPlace(t, step);
    await damagedUnchanged(step, ctx);
    await mustHoldDamaged(client, t, step);
    // Already incomplete and settled: the client knows pieces are missing (a recheck already ran): nothing to ask.
    if (isIncomplete(t)) return 'done';
    if (!isComplete(t)) {
      throw new ClientError('unconfirmed', `${label(step)} is ${t.rawState} at progress ${t.progress}; hashall asks for a recheck only of a complete torrent in a stable state`, {
        hint: 'wait until it has settled (or resolve its missing files or error in the client), then `hashall verify --repair` again',
      });
    }
    if (t.downloadPath !== '' && t.autoTmm) {
      throw new ClientError('unconfirmed', `${label(step)} has the download path ${t.downloadPath} from automatic torrent management: once incomplete, the client would move its data there`, {
        hint: 'switch the torrent to manual management (or its category off the incomplete folder), then `hashall verify --repair` again',
      });
    }
    await mustNotRename(client, step);
    return 'todo';
  },

  async run(step, ctx, undoData) {
    const undo = undoData as RecheckUndo;
    const client = ctx.clients.get(step.client);
    const t = await mustGet(client, step);
    mustBeInPlace(t, step);
    if (isIncomplete(t)) return { status: 'noop' };
    if (!isComplete(t)) throw new ClientError('unconfirmed', `${label(step)} is ${t.rawState} at progress ${t.progress}; no recheck was asked`);
    await mustNotRename(client, step);
    await damagedUnchanged(step, ctx);
    if (t.downloadPath !== '') {
      // qBittorrent moves a torrent that turns incomplete into its download path: clear it first, proven by reading back.
      undo.clearedDownloadPath = t.downloadPath;
      ctx.saveUndo(undo);
      await client.setDownloadPath([step.torrentHash], '');
      await waitForState(client, step.torrentHash, (x) => x.downloadPath === '', { timeoutMs: 60_000, what: 'clear the download path' });
      ctx.note(`${label(step)}: its download path ${t.downloadPath} was cleared so the client re-downloads in place (it is not set again)`);
    }
    undo.asked = true;
    undo.wasRunning = t.running;
    ctx.saveUndo(undo);
    // A check stuck at progress 0 (qBittorrent 4.5) is ended by a pause and asked again (recheckRestarting); the running
    // state it had is then restored — a running torrent resumes and fetches its missing pieces, as it would have.
    const asked = await recheckForDamage(client, step, ctx, t, () => ((undo.pausedStuck = true), ctx.saveUndo(undo)));
    const after = asked.paused && t.running ? await resumeConfirmed(client, step.torrentHash, { timeoutMs: ctx.clientTimeoutMs(step.bytes) }) : asked.t;
    ctx.note(
      `${label(step)} rechecked in client "${step.client}": ${percent(after.progress)} complete (${after.rawState}); it needs re-download from the swarm of ${step.damaged.map((d) => d.path).join(', ')}` +
        (after.running ? '' : ' — it is paused: resume it in the client so it downloads'),
    );
    return { status: 'done', result: { progress: after.progress, state: after.rawState, running: after.running } };
  },

  async verify(step, ctx) {
    const client = ctx.clients.get(step.client);
    const t = await mustGet(client, step);
    // The client moved nothing: same place, and every damaged path still the same inode (it re-downloads in place,
    // which may change its mtime — never its inode).
    mustBeInPlace(t, step);
    for (const d of step.damaged) {
      const st = await ctx.fs.lstat(d.path);
      if (!st || st.kind !== 'file' || st.ino !== d.ino) throw new FsError(`${d.path} is not the file it was before the recheck of ${label(step)}`, { path: d.path });
    }
    if (t.progress >= 1) {
      throw new ClientError('unconfirmed', `the recheck of ${label(step)} found every piece whole: the client's data is not the damaged file hashall read`, {
        hint: 'run `hashall verify PATH` again; if it still reads corrupted, restore it from a backup',
      });
    }
    if (t.phase === 'missing-files' || t.phase === 'error') throw new ClientError('unconfirmed', `${label(step)} is ${t.rawState} after its recheck`, { hint: 'look at the torrent in the client' });
  },

  // What undo can mean for a recheck: nothing on disk changed, and a recheck cannot be taken back — no client marks
  // pieces it found damaged as good again, and none should (it would seed bad bytes). So undo only waits out a check
  // still under way (a settled torrent, not one left mid-check by a crash) and says what stays changed: the torrent is
  // incomplete until the swarm re-supplies the pieces. A cleared download path is not set again: on an incomplete
  // torrent qBittorrent would move the data into it. The running state is changed only to end a stuck check (a pause,
  // recorded first): undo then restores it.
  async undo(step, ctx, undoData) {
    const undo = undoData as RecheckUndo;
    if (!undo.asked && undo.clearedDownloadPath === undefined) return [];
    const notes: string[] = [];
    const client = ctx.clients.get(step.client);
    let t: TorrentState = await mustGet(client, step);
    const o = { timeoutMs: ctx.clientTimeoutMs(step.bytes) };
    let pausedStuck = undo.pausedStuck === true;
    if (isBusyPhase(t.phase)) {
      const over = await waitCheckOver(client, step.torrentHash, 'finish its check', o);
      [t, pausedStuck] = [over.t, pausedStuck || over.stuck];
    }
    if (pausedStuck && t.phase === 'paused-incomplete' && t.progress === 0) {
      // A stuck check was ended by a pause (here, or in the run before it was killed) and nothing checked the data since:
      // the client knows nothing of it. One recheck of the paused torrent reads it (it stays paused).
      t = (await recheckForDamage(client, step, ctx, t)).t;
      notes.push(`${label(step)}: its check stuck at progress 0 was ended by a pause and asked again`);
    }
    if (pausedStuck && undo.wasRunning && !t.running) {
      t = await resumeConfirmed(client, step.torrentHash, o);
      notes.push(`${label(step)} runs again, as before its stuck check was paused`);
    }
    if (undo.asked) notes.push(`the recheck of ${label(step)} cannot be undone: it is ${t.rawState} at ${percent(t.progress)} and needs re-download from the swarm`);
    if (undo.clearedDownloadPath !== undefined) notes.push(`${label(step)}: its download path ${undo.clearedDownloadPath} stays cleared (set again on an incomplete torrent, the client would move its data there)`);
    return notes;
  },
};
