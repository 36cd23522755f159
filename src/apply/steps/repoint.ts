// Step `repoint`: pause → automatic management off → clear download path → setLocation → recheck → resume if it was running, each proven by reading back.
// Must never: repoint before the files are at the target, touch a torrent that is not complete and settled (checking,
// moving, downloading: its running state is unknown), resume a torrent that was paused, or leave one incomplete.
import { ClientError, FsError } from '../../errors.js';
import type { ClientTorrent, ClientTorrentFile, TorrentClient, TorrentState } from '../../clients/types.js';
import { checkOver, hasContentPath, pauseConfirmed, recheckConfirmed, resumeConfirmed, setAutoManagementConfirmed, setLocationConfirmed, waitForState } from '../../clients/confirm.js';
import type { RepointStep } from '../../plan/types.js';
import type { UndoData } from '../journal.js';
import { strangersUnder } from '../paths.js';
import { isPadFile, rootRelOf } from '../../domain/listing.js';
import { partFileName } from '../../domain/part-file.js';
import { baseName, dirName, segments, trimSlash } from '../../domain/path-string.js';
import type { StepContext, StepHandler } from './types.js';
import { instanceOf, torrentLabel } from '../../domain/instance.js';
import { isBusyPhase, isSettledHealthy } from '../../domain/torrent-phase.js';

interface RepointUndo extends UndoData {
  prevSavePath?: string;
  prevDownloadPath?: string;
  wasRunning?: boolean;
  autoTmm?: boolean;
}

/** The client of the step's instance (plans older than `clients:` name none: the single instance `default`). */
function needClient(ctx: Pick<StepContext, 'clients'>, step: RepointStep): TorrentClient {
  return ctx.clients.get(instanceOf(step));
}

async function mustGet(client: TorrentClient, step: RepointStep): Promise<ClientTorrent> {
  const t = await client.getTorrent(step.torrentHash);
  if (!t) throw new ClientError('unconfirmed', `torrent ${step.torrentHash} is no longer in client "${instanceOf(step)}"`, { hint: 'run `hashall plan` again' });
  return t;
}

/** Unknown ⇒ refuse: while a torrent checks, moves or downloads, whether it runs (and what it will do) is not known. */
function mustBeSettled(t: ClientTorrent, step: RepointStep): void {
  if (isSettledHealthy(t)) return;
  throw new ClientError('unconfirmed', `refusing to repoint ${step.torrentName}: it is ${t.rawState} at progress ${t.progress}; hashall repoints only complete torrents in a stable state (seeding or paused)`, {
    hint: 'wait until it has settled, then run `hashall plan` again',
  });
}

/**
 * What is wrong with the torrent's OWN file list (read from the client now, not the plan's idea of it) laid out in
 * the save directory of `hostRoot`: null when it names exactly the files there — every one a regular file of the
 * client's size (on filesystem `fsName` when given), no other file in the torrent's folder, and the list's root (its
 * folder, or its only file) is `hostRoot` itself.
 */
async function filesProblem(
  step: RepointStep,
  ctx: Pick<StepContext, 'fs' | 'config' | 'runId'>,
  client: TorrentClient,
  hostRoot: string,
  fsName: string | null,
  listed?: ClientTorrentFile[],
): Promise<{ what: string; path: string } | null> {
  const at = (what: string, p = hostRoot) => ({ what, path: p });
  const files = listed ?? (await client.listFiles(step.torrentHash));
  const root = rootRelOf(files);
  if (root === null) return at(files.length === 0 ? 'the client reports no file list for it' : 'its files have no root folder of their own (they lie directly in the save path)');
  if (root !== baseName(hostRoot)) return at(`its file list has the root "${root}", but its files are expected at ${hostRoot}`);
  let dev: number | null = null;
  if (fsName !== null) {
    const fsConf = ctx.config.filesystems[fsName];
    const fsStat = fsConf ? await ctx.fs.lstat(fsConf.path) : null;
    if (!fsConf || !fsStat) return at(`filesystem ${fsName} is not ${fsConf ? `mounted at ${fsConf.path}` : 'in hashall.yaml'}`);
    dev = fsStat.dev;
  }
  const saveHost = hostRoot.slice(0, hostRoot.length - root.length - 1);
  const rels = new Set<string>();
  for (const f of files) {
    const segs = segments(f.name);
    if (segs.some((x) => x === '..' || x === '.')) return at(`its file list names ${JSON.stringify(f.name)}, which leaves its folder`);
    const p = [saveHost, ...segs].join('/');
    const st = await ctx.fs.lstat(p);
    // A BEP 47 pad file the client lists need not be on disk (libtorrent's clients never write one), nor a file it will
    // not download; present, either is checked like any file.
    if (!st && ((segs.length > 1 && isPadFile(segs.slice(1).join('/'), f.size)) || f.wanted === false)) continue;
    if (!st || st.kind !== 'file') return at(`${p} (of its file list) is ${st ? `a ${st.kind}` : 'missing'}, not a file`, p);
    // A file the client does not download may hold only the bytes of a piece it shares with a wanted one.
    if (f.wanted === false ? st.size > f.size : st.size !== f.size) return at(`${p} has ${st.size} bytes; the client expects ${f.wanted === false ? `at most ${f.size}` : f.size}`, p);
    if (dev !== null && st.dev !== dev) return at(`${p} is not on filesystem ${fsName}, where the plan put it`, p);
    if (segs.length > 1) rels.add(segs.slice(1).join('/'));
  }
  if (files.length > 1 || rels.size > 0) {
    // Pad files on disk are the payload's own even where the client does not list them (qBittorrent hides them).
    const others = await strangersUnder(ctx.fs, hostRoot, rels, ctx.runId, 5, isPadFile);
    if (others.length > 0) return at(`${hostRoot} also holds files that are not part of it (${others.join(', ')})`);
  }
  return null;
}

/**
 * libtorrent (qBittorrent, Deluge) keeps the pieces a torrent's unwanted files share with its wanted ones in a part
 * file `.<info-hash>.parts` in the save path (kept after its files are wanted again), and its move_storage moves that
 * file itself: a torrent is repointed only while no such file lies in its save path (paused, it writes none). The plan
 * blocks a torrent whose part file the catalog holds; this is for one that came since.
 */
async function partFileProblem(step: RepointStep, ctx: StepContext): Promise<{ what: string; path: string } | null> {
  const p = `${dirName(step.hostFrom)}/${partFileName(step.torrentHash)}`;
  if (!(await ctx.fs.lstat(p))) return null;
  return { what: `${p} holds pieces of its files the client does not download (libtorrent's part file), which the client would move itself`, path: p };
}

/**
 * Proof before the client is asked to look anywhere: the new save path + the torrent's own file list names exactly
 * the files at the target, on the target filesystem. Otherwise setLocation makes the client move or download data
 * itself (qBittorrent moved a payload across filesystems and back when the plan had dropped its folder).
 */
async function proveTargetFiles(step: RepointStep, ctx: StepContext, client: TorrentClient, files: ClientTorrentFile[]): Promise<void> {
  const problem = await filesProblem(step, ctx, client, step.hostTo, ctx.group.to?.fs ?? '(none named)', files);
  const part = problem ? null : await partFileProblem(step, ctx);
  if (part) {
    throw new FsError(`refusing to repoint ${step.torrentName}: ${part.what}`, {
      path: part.path,
      hint: 'the client was not asked; let it download those files too (the part file then goes), and apply again',
    });
  }
  if (problem) {
    throw new FsError(`refusing to repoint ${step.torrentName}: ${problem.what}`, {
      path: problem.path,
      hint: 'setLocation onto anything else makes the client move or download data itself; the client was not asked — run `hashall plan` again',
    });
  }
}

/** Where check leaves the torrent's file list for run (StepContext.carried). */
const LISTED = 'repoint.files';
/** Where check leaves its read of the torrent for run: read moments before, nothing asked of the client in between. */
const READ = 'repoint.torrent';

/**
 * Where run leaves, for verify, the read-back that confirmed its last change (the resume, or the recheck of a torrent
 * that stays paused): a read of the client made after every change the step asked for, with nothing asked between.
 */
const LAST = 'repoint.last';

/** The torrent as check read it moments ago (taken once), else read now. */
async function torrentNow(step: RepointStep, ctx: StepContext, client: TorrentClient): Promise<ClientTorrent> {
  const kept = ctx.carried?.get(READ) as ClientTorrent | undefined;
  ctx.carried?.delete(READ);
  return kept ?? mustGet(client, step);
}

/**
 * The torrent's own file list: the one its check read moments ago (kept in `carried`), else read now. One read per
 * repoint: the client changes a complete torrent's list only when someone renames its files; the disk, which anything
 * may change, is proven again from it right before setLocation.
 */
async function fileList(step: RepointStep, ctx: StepContext, client: TorrentClient): Promise<ClientTorrentFile[]> {
  const kept = ctx.carried?.get(LISTED) as ClientTorrentFile[] | undefined;
  if (kept) return kept;
  const files = await client.listFiles(step.torrentHash);
  ctx.carried?.set(LISTED, files);
  return files;
}

function isAt(t: ClientTorrent, step: RepointStep): boolean {
  return trimSlash(t.savePath) === trimSlash(step.toSavePath) && trimSlash(t.contentPath) === trimSlash(step.expectedContentPath);
}

/**
 * Undo's last word on automatic management, which the run switched off: on again only where the category still keeps
 * its torrents at the save path the torrent is back at — elsewhere (the category was edited meanwhile), or unknown,
 * turning it on would make qBittorrent move the data itself, so it stays off and the note says so.
 */
async function autoManagementBack(client: TorrentClient, step: RepointStep, t: ClientTorrent, savePath: string, o: { timeoutMs: number }): Promise<string[]> {
  const keeps = client.categorySavePath ? await client.categorySavePath(t.category) : null;
  if (keeps !== null && trimSlash(keeps) === trimSlash(savePath)) {
    await setAutoManagementConfirmed(client, step.torrentHash, true, o);
    return [];
  }
  const where = keeps === null ? 'an unknown folder' : keeps;
  return [`${step.torrentName}: automatic torrent management was on before the run and is left off: its category "${t.category}" now keeps torrents at ${where}, not at ${savePath}, and turning it on would make the client move the data there itself`];
}

export const repointStep: StepHandler<RepointStep> = {
  describe: (s) => `repoint ${s.torrentName} (${torrentLabel({ client: s.client, hash: s.torrentHash })}): ${s.fromSavePath} → ${s.toSavePath}`,
  manualUndo: (s, undo) =>
    `in torrent client "${instanceOf(s)}", pause ${s.torrentName} (${s.torrentHash}), set its location back to ${String(undo.prevSavePath ?? s.fromSavePath)}, force a recheck${undo.wasRunning ? ', then resume it' : ''}`,

  async check(step, ctx) {
    const client = needClient(ctx, step);
    // The torrent and its file list read together (two reads in flight instead of one after the other; the list goes
    // unused when the repoint is already done).
    const [got, listed] = await Promise.allSettled([mustGet(client, step), fileList(step, ctx, client)]);
    if (got.status === 'rejected') throw got.reason; // the torrent's own error first (gone from the client, say)
    const t = got.value;
    if (isAt(t, step) && isSettledHealthy(t) && t.downloadPath === '' && !t.autoTmm) return 'done';
    mustBeSettled(t, step);
    // The files must already be at the target: setLocation onto a missing path makes qBittorrent move data itself.
    if (listed.status === 'rejected') throw listed.reason;
    await proveTargetFiles(step, ctx, client, listed.value);
    if (trimSlash(t.savePath) !== trimSlash(step.fromSavePath) && trimSlash(t.savePath) !== trimSlash(step.toSavePath)) {
      throw new ClientError('unconfirmed', `torrent ${step.torrentName} is at ${t.savePath}, expected ${step.fromSavePath}`, { hint: 'it was moved since planning; run `hashall plan` again' });
    }
    ctx.carried?.set(READ, t);
    return 'todo';
  },

  async run(step, ctx, undoData) {
    const undo = undoData as RepointUndo;
    const client = needClient(ctx, step);
    const o = { timeoutMs: ctx.clientTimeoutMs(step.bytes) };
    // The copy's data durable before anything is changed or recorded for the torrent (check only read, meanwhile); a wait
    // for it made check's read of the torrent old: it is read again. (Its file list stays: see fileList.)
    if (ctx.durable && !(await ctx.durable())) ctx.carried?.delete(READ);
    // The read check made moments ago (the executor runs run right after check, in the same slot): one read fewer per
    // repoint, on its critical path (~15 ms at width 8, ~80 ms at 200 while qBittorrent is busy). Still proven settled.
    const t = await torrentNow(step, ctx, client);
    mustBeSettled(t, step);
    undo.prevSavePath = t.savePath;
    undo.prevDownloadPath = t.downloadPath;
    undo.wasRunning = t.running;
    undo.autoTmm = t.autoTmm;
    ctx.saveUndo(undo);
    // The confirmed read-back of a pause stands for the read setLocation would make first (ConfirmOptions.known), the
    // move's for the content-path check, and the recheck's for the read before the resume. Not between the move and the
    // recheck: qBittorrent may check the torrent on its own once moved, and a recheck asked while it checks left 4.5 at
    // checkingUP, progress 0 — recheckConfirmed reads it afresh and waits out a check under way (and recovers one stuck).
    let last: TorrentState = t;
    if (t.running) last = await pauseConfirmed(client, step.torrentHash, { timeoutMs: 60_000, known: last });
    // Under automatic management qBittorrent takes the download path from the category and ignores a request to clear
    // it (answering 200): management goes off first. That moves no data — the complete torrent stays at its category's
    // save path, which manual mode keeps as its own — and setLocation would switch it off anyway.
    if (last.autoTmm) last = await setAutoManagementConfirmed(client, step.torrentHash, false, { timeoutMs: 60_000 });
    if (last.downloadPath !== '') {
      await client.setDownloadPath([step.torrentHash], '');
      last = await waitForState(client, step.torrentHash, (x) => x.downloadPath === '', { timeoutMs: 60_000, what: 'clear the download path' });
    }
    // Again, right before the call: every file of the list lstat'ed anew (nothing on disk may have changed since check).
    await proveTargetFiles(step, ctx, client, await fileList(step, ctx, client));
    const moved = await setLocationConfirmed(client, step.torrentHash, step.toSavePath, { ...o, known: last });
    if (trimSlash(moved.contentPath) !== trimSlash(step.expectedContentPath)) {
      throw new ClientError('unconfirmed', `after setLocation ${step.torrentName} reports content at ${moved.contentPath}, expected ${step.expectedContentPath}`);
    }
    // Pointing at files that already exist leaves progress 0 until a check (qBittorrent 4.5): recheck and wait.
    const since = ctx.now();
    const observe = (x: TorrentState): void =>
      ctx.emit({ type: 'recheck-progress', runId: ctx.runId, groupId: ctx.group.id, step: ctx.stepIndex, torrentHash: step.torrentHash, torrentName: step.torrentName, progress: x.progress, state: x.rawState, elapsedMs: ctx.now() - since });
    // The check alone takes one of the run's checking slots: the pause and move above, and the resume below, happen
    // outside it (several groups in flight: the next ones are paused and moved while the slots check).
    const recheck = (): Promise<TorrentState> => recheckConfirmed(client, step.torrentHash, { ...o, observe });
    const checked = await (ctx.checking ? ctx.checking(recheck) : recheck());
    if (t.autoTmm) ctx.note(`${step.torrentName}: automatic torrent management was on; it is off now (manual mode keeps it on its new filesystem when its category changes)`);
    const final = t.running ? await resumeConfirmed(client, step.torrentHash, { timeoutMs: 60_000, known: checked }) : checked;
    ctx.carried?.set(LAST, final);
    return { status: 'done', result: { wasRunning: t.running, autoTmmWas: t.autoTmm } };
  },

  async verify(step, ctx, undoData) {
    const undo = undoData as RepointUndo;
    // The read-back that confirmed run's last change (taken once; ~20–160 ms per group at width 200, where every group
    // ends on it): every check below applies to it as to a new read. Without one (recovery verifies a journaled step,
    // or run did not end here), the torrent is read now — also where that read was of its state alone, which does not
    // say where its content is (Deluge's polls leave the file list out: one read here instead of the list at every poll).
    const kept = ctx.carried?.get(LAST) as TorrentState | undefined;
    ctx.carried?.delete(LAST);
    const t = kept && hasContentPath(kept) ? kept : await mustGet(needClient(ctx, step), step);
    if (!isAt(t, step)) throw new ClientError('unconfirmed', `${step.torrentName} reads back at ${t.savePath} / ${t.contentPath}, expected ${step.toSavePath} / ${step.expectedContentPath}`);
    if (t.progress < 1 || t.phase === 'downloading' || t.phase === 'missing-files' || t.phase === 'error' || t.phase === 'paused-incomplete') {
      throw new ClientError('unconfirmed', `${step.torrentName} is ${t.rawState} at progress ${t.progress} after the repoint`);
    }
    // Left under automatic management, the client would move the data itself when the category changes.
    if (t.autoTmm || t.downloadPath !== '') throw new ClientError('unconfirmed', `${step.torrentName} reads back with ${t.autoTmm ? 'automatic torrent management on' : `the download path ${t.downloadPath}`} after the repoint`);
    if (undo.wasRunning === false && t.running) throw new ClientError('unconfirmed', `${step.torrentName} was paused before and is running now`);
  },

  async undo(step, ctx, undoData) {
    const undo = undoData as RepointUndo;
    if (undo.prevSavePath === undefined) return []; // nothing was changed before the crash/failure
    const client = needClient(ctx, step);
    const o = { timeoutMs: ctx.clientTimeoutMs(step.bytes) };
    const notes: string[] = [];
    let t: TorrentState = await mustGet(client, step);
    // A crash can leave the torrent in the check (or move) the run had asked for: let it end first. A recheck asked of a
    // torrent still checking left qBittorrent 4.5 at checkingUP, progress 0 (found killing apply mid-recheck).
    // A check stuck at progress 0 (4.5, when the recovery's first request met the run's starting check) is ended by a
    // pause (checkOver): paused and incomplete, it is moved back and rechecked below like any unsettled torrent.
    if (isBusyPhase(t.phase)) t = await checkOver(client, step.torrentHash, 'finish the check or move under way', o);
    if (t.running) t = await pauseConfirmed(client, step.torrentHash, { timeoutMs: 60_000 });
    if (trimSlash(t.savePath) !== trimSlash(undo.prevSavePath)) t = await setLocationConfirmed(client, step.torrentHash, undo.prevSavePath, o);
    // qBittorrent may check it on its own after the move back: let that end before deciding on (and asking for) a recheck.
    if (isBusyPhase(t.phase)) t = await checkOver(client, step.torrentHash, 'finish its check after the move back', o);
    // Back at its original place. Complete there, with its own files present, is the state the undo wants (the
    // client may have moved its data back itself and kept progress 1, or never left): no recheck — a quick check of
    // a complete torrent leaves no trace to confirm, and waiting for one ran into the timeout. Anything else is
    // rechecked; a check that ends complete changes the progress, which proves it ran.
    if (!isSettledHealthy(t) || (await filesProblem(step, ctx, client, step.hostFrom, null)) !== null) await recheckConfirmed(client, step.torrentHash, o);
    if (undo.prevDownloadPath) {
      await client.setDownloadPath([step.torrentHash], undo.prevDownloadPath);
      notes.push(`${step.torrentName}: restored download path ${undo.prevDownloadPath}`);
    }
    if (undo.autoTmm) {
      const back = await mustGet(client, step);
      if (!back.autoTmm) notes.push(...(await autoManagementBack(client, step, back, undo.prevSavePath, o)));
    }
    if (undo.wasRunning) await resumeConfirmed(client, step.torrentHash, { timeoutMs: 60_000 });
    return notes;
  },
};
