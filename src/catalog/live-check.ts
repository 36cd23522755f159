// The live check of many catalog files at once: lstat on worker threads while the snapshot reader goes on, reporting only the files whose disk state is not their row's.
//
// What it answers is exactly what liveInode (consumers.ts) would, file by file: for each checked file either nothing
// (same inode, size and mtime as its row, and no more links than its row counts: the live check can change no verdict)
// or the disk's inode, link count, size and mtime, or the errno code of a failed lstat. Two kinds of work:
//  - payload jobs: each worker opens the catalog read-only as soon as the pool starts (so its start overlaps the
//    reader's own reading); once the jobs are given (with the pool, or later: `start`), it begins a read transaction,
//    proves it sees the reader's snapshot (same lineage and serial; every change of catalog content bumps the serial in
//    its own transaction), then claims them in order, reads each payload's rows itself and answers per payload with its row
//    count, bytes and only the rows that differ (or are named as linked) — so the reader never builds a row it only
//    checks. A job the workers cannot answer (no catalog, another snapshot, a name that is not UTF-8, a count that is
//    not the reader's) answers null, and the caller checks that payload on its own thread: never "unchanged".
//  - file lists (`submit`/`take`), for rows the reader holds anyway (a payload's content copies).
// A submission or job whose answer does not come (a worker that died or hangs) is checked on the calling thread
// instead, so the answer never depends on the workers. The reader stays synchronous: it waits on a shared counter and
// takes answers with receiveMessageOnPort.
import { createRequire } from 'node:module';
import { lstatSync } from 'node:fs';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { CatalogFile } from '../domain/snapshot.js';
import { fsPathArg } from '../fs/path-encoding.js';
import { liveInode, type LiveInode } from './consumers.js';
import { LIVE_ROWS_SQL } from './payload-rows.js';
import type { CatalogDb } from './db.js';

export type LiveAnswer = LiveInode | { code: string };

/** One payload for the workers: its rows as payloadBulkReader.resolve reads them, and what the reader expects of them. */
export interface PayloadJob {
  fsId: number;
  /** 'file': the row at `rel`; 'dir': the rows in [lo, hi) (every row of the filesystem when lo is null). */
  kind: 'file' | 'dir';
  rel: string;
  lo: string | null;
  hi: string | null;
  /** Canonical path of the payload root (a file's path is the root, or the root + '/' + its path below it). */
  root: string;
  /** Canonical paths of the payload files whose inode has other rows or links: answered even when unchanged. */
  linked: string[];
  /** The reader's file count and bytes of the payload (its summary): an answer that disagrees is no answer. */
  files: number;
  bytes: number;
  /**
   * Also answer the payload's content copies (a 'dir' job with a range only): false when some other active row holding
   * the content of a payload file is on one of the payload's inodes, else every such row as LIVE_ROWS_SQL.probe
   * gives it (see LiveCheckPool.probe).
   */
  probe?: true;
}

/** A payload file a worker reports: its row as the worker read it, and what lstat found (null: unchanged, reported because linked). */
export interface PayloadEntry {
  /** Position in the payload's rows (ordered by path, as the reader orders them). */
  index: number;
  path: string;
  ino: number;
  size: number;
  mtimeNs: string;
  nlink: number;
  live: LiveAnswer | null;
}

/**
 * lstat as the check asks it (fs.lstatSync with bigint, or exactLstat: the same values, as numbers and the mtime's
 * decimal text); the owner, group and mode too (the dedupe planner's link sets, see withLiveMeta).
 */
export type LstatFn = (
  p: string,
  o: { bigint: true; throwIfNoEntry: false },
) => { ino: bigint | number; nlink: bigint | number; size: bigint | number; mtimeNs: bigint | string; uid: bigint | number; gid: bigint | number; mode: bigint | number } | undefined;

/**
 * Node's own fs binding (`process.binding('fs')`), whose lstat fills an array of the stat numbers and builds no Stats
 * object (fs.lstatSync's BigIntStats makes 14 BigInts and 4 Dates per call: about half its CPU time), or null where it
 * is not to be used: no such binding, the permission model on (the binding would skip fs.lstatSync's access check),
 * or --pending-deprecation (it would print DEP0111). Self-contained: the workers run it from its source text.
 */
export function fsBinding(): unknown {
  try {
    const proc = process as unknown as { binding?: (name: string) => unknown; permission?: unknown; execArgv: string[]; env: Record<string, string | undefined> };
    if (proc.permission !== undefined || typeof proc.binding !== 'function') return null;
    if (proc.execArgv.includes('--pending-deprecation') || (proc.env.NODE_OPTIONS ?? '').includes('--pending-deprecation')) return null;
    return proc.binding('fs');
  } catch {
    return null;
  }
}

/**
 * The live check's lstat: `lstat` (fs.lstatSync) answered exactly, at about half its cost, from the fs binding's stat
 * numbers (fsBinding) — inode, size and link count as numbers, the mtime as its decimal nanoseconds (seconds and
 * nanoseconds come apart in the binding's array, both exact). Whatever it cannot answer exactly is asked of `lstat`
 * itself: a number that is not a safe integer (an inode past 2^53 is never rounded here), an mtime at or before the
 * epoch, a name that is not text or holds a NUL. Errors are the binding's, which are fs.lstatSync's (a missing file:
 * undefined). Before it is used, it must answer as `lstat` does for `reference` (an existing file), a name below it
 * (ENOTDIR) and a missing sibling: otherwise (another Node, another layout) `lstat` is returned as it is.
 * Self-contained (no closure, no import): the workers run it from its source text.
 */
export function exactLstat(binding: unknown, lstat: LstatFn, reference: string): LstatFn {
  type Raw = (p: string, bigint: false, req: undefined, throwIfNoEntry: false) => ArrayLike<number> | undefined;
  const b = binding as { lstat?: Raw } | null;
  if (b === null || typeof b !== 'object' || typeof b.lstat !== 'function') return lstat;
  const raw = b.lstat;
  const opts = { bigint: true, throwIfNoEntry: false } as const;
  const fast: LstatFn = (p, o) => {
    if (typeof p !== 'string' || p.includes('\0')) return lstat(p, o);
    const s = raw.call(b, p, false, undefined, false);
    if (s === undefined) return undefined;
    const ino = s[7]!, size = s[8]!, nlink = s[2]!, sec = s[12]!, nsec = s[13]!, mode = s[1]!, uid = s[3]!, gid = s[4]!;
    if (!Number.isSafeInteger(ino) || !Number.isSafeInteger(size) || !Number.isSafeInteger(nlink) || !Number.isSafeInteger(sec) || sec < 1 || !Number.isInteger(nsec) || nsec < 0 || nsec >= 1e9) return lstat(p, o);
    if (!Number.isSafeInteger(mode) || !Number.isSafeInteger(uid) || !Number.isSafeInteger(gid)) return lstat(p, o);
    return { ino, nlink, size, mtimeNs: String(sec) + String(1e9 + nsec).slice(1), uid, gid, mode };
  };
  // The same answer as `lstat` (values, or the error code, or no file), or null when it is not.
  const same = (p: string): boolean => {
    const ask = (f: LstatFn): string => {
      try {
        const st = f(p, opts);
        return st === undefined ? 'none' : `${String(st.ino)} ${String(st.nlink)} ${String(st.size)} ${String(st.mtimeNs)} ${String(st.uid)} ${String(st.gid)} ${String(st.mode)}`;
      } catch (e) {
        return `code ${String((e as { code?: unknown } | null)?.code)}`;
      }
    };
    return ask(fast) === ask(lstat);
  };
  try {
    if (!same(reference) || !same(reference + '/x') || !same(reference + '.hashall-no-such-file')) return lstat;
  } catch {
    return lstat;
  }
  return fast;
}
type RowStmt = { all(...args: unknown[]): unknown[] };
/** A payload job's answer from checkPayloadRows: row count, bytes, the flat entries, and the probe's answer (null: not asked). */
type RowsAnswer = [number, number, unknown[], string | false | null];

/**
 * A worker's check of one payload job: [row count, bytes, entries] with entries flat — index, path, ino, size, mtimeNs,
 * nlink, then 0 (linked, unchanged), 1 and the errno code, or 2 and the disk's ino, nlink, size, mtimeNs — or null when
 * a path is an escaped (not UTF-8) name, which the calling thread checks by its bytes. Self-contained (no closure, no
 * import): the worker threads run this very function from its source text. The same comparison as liveDifferences.
 * A directory's rows come as one packed text (LIVE_ROWS_SQL.packed): per row only its absolute path and mtime become strings.
 * A job with `probe` is also answered its content copies: false when one is on an inode of the payload (the same
 * filesystem and an inode of its rows), else LIVE_ROWS_SQL.probe's text.
 */
export function checkPayloadRows(stmts: { one: RowStmt; under: RowStmt; all: RowStmt; packed: RowStmt; probe: RowStmt }, lstat: LstatFn, job: PayloadJob): RowsAnswer | null {
  const packed = job.kind === 'dir' && job.lo !== null;
  const rows = (packed ? [] : job.kind === 'file' ? stmts.one.all(job.fsId, job.rel) : stmts.all.all(job.fsId)) as [string, number, number, string, number][];
  let text = '';
  let count = rows.length;
  if (packed) {
    // The root is the preferred mount joined with `rel` (absoluteCatalogPath): what precedes `rel` in it begins every
    // row's absolute path. A root spelled otherwise is no job this check answers (the caller checks it itself).
    const mountPrefix = job.root.slice(0, job.root.length - job.rel.length);
    if (job.rel === '' || !job.root.endsWith(job.rel) || !mountPrefix.endsWith('/')) return null;
    const r = stmts.packed.all(mountPrefix, job.fsId, job.lo, job.hi)[0] as [string | null, number, number];
    text = r[0] ?? '';
    count = r[1];
  }
  const prefix = job.root === '/' ? '/' : job.root + '/';
  const linked = job.linked.length > 0 ? new Set(job.linked) : null;
  // The inodes of the payload's rows, when its copies are asked.
  const own = job.probe === true && packed ? new Set<number>() : null;
  const out: unknown[] = [];
  let bytes = 0;
  // Reading position in `text`, and a decimal number read from it up to the next space (which it steps over), as
  // SQLite's integer converts to a JS number (above 2^53 or negative: Number() of its digits, rounded as SQLite's is).
  let at = 0;
  const num = (): number => {
    const from = at;
    let n = 0;
    for (let c = text.charCodeAt(at++); c !== 32; c = text.charCodeAt(at++)) n = c === 45 ? NaN : n * 10 + (c - 48);
    return n <= 9007199254740991 ? n : Number(text.slice(from, at - 1));
  };
  for (let i = 0; i < count; i++) {
    let p: string, ino: number, size: number, mtimeNs: string, nlink: number;
    if (packed) {
      ino = num();
      if (own !== null) own.add(ino);
      size = num();
      nlink = num();
      const sp = text.indexOf(' ', at);
      mtimeNs = text.slice(at, sp);
      let end = text.indexOf('\0', sp + 1);
      if (end < 0) end = text.length;
      p = text.slice(sp + 1, end);
      at = end + 1;
    } else {
      const row = rows[i]!;
      [, ino, size, mtimeNs, nlink] = row;
      p = row[0] === '' ? job.root : prefix + row[0];
    }
    bytes += size;
    if (p.includes('\uFFFD')) return null;
    let st;
    try {
      st = lstat(p, { bigint: true, throwIfNoEntry: false });
    } catch (e) {
      out.push(i, p, ino, size, mtimeNs, nlink, 1, (e as { code?: string }).code || 'EIO');
      continue;
    }
    if (st === undefined) {
      out.push(i, p, ino, size, mtimeNs, nlink, 1, 'ENOENT');
      continue;
    }
    const lino = Number(st.ino), lnlink = Number(st.nlink), lsize = Number(st.size), lmtime = String(st.mtimeNs);
    if (lino === ino && lsize === size && lmtime === mtimeNs && lnlink <= nlink) {
      if (linked !== null && linked.has(p)) out.push(i, p, ino, size, mtimeNs, nlink, 0);
      continue;
    }
    out.push(i, p, ino, size, mtimeNs, nlink, 2, lino, lnlink, lsize, lmtime);
  }
  let probe: string | false | null = null;
  if (own !== null) {
    const copies = ((stmts.probe.all(job.fsId, job.lo, job.hi)[0] as [string | null])[0] ?? '');
    probe = copies;
    // Each copy `fs_id ino path`: one on an inode of the payload's rows ends the probe (SQLite's integer as a JS number, as `num` reads it).
    for (let from = 0; from < copies.length; ) {
      const s1 = copies.indexOf(' ', from);
      const s2 = copies.indexOf(' ', s1 + 1);
      let end = copies.indexOf('\0', s2 + 1);
      if (end < 0) end = copies.length;
      if (Number(copies.slice(from, s1)) === job.fsId && own.has(Number(copies.slice(s1 + 1, s2)))) {
        probe = false;
        break;
      }
      from = end + 1;
    }
  }
  return [count, bytes, out, probe];
}

/** The reading thread's own check of a payload job (PayloadJobs.self): the workers' code on its connection, inside its read transaction. */
export function ownPayloadCheck(catalog: CatalogDb): NonNullable<PayloadJobs['self']> {
  const db = catalog.db;
  const stmts = {
    one: db.prepare(LIVE_ROWS_SQL.one).raw(true),
    under: db.prepare(LIVE_ROWS_SQL.under).raw(true),
    all: db.prepare(LIVE_ROWS_SQL.all).raw(true),
    packed: db.prepare(LIVE_ROWS_SQL.packed).raw(true),
    probe: db.prepare(LIVE_ROWS_SQL.probe).raw(true),
  };
  const lstat = exactLstat(fsBinding(), lstatSync as LstatFn, process.execPath);
  return (job) => checkPayloadRows(stmts, lstat, job);
}

/**
 * A payload job answered on the reading thread (ownPayloadCheck, inside its read transaction), as the pool answers it:
 * the entries of `payload(index)` and the answer of `probe(index)`.
 */
export function payloadHere(check: NonNullable<PayloadJobs['self']>, job: PayloadJob): { entries: PayloadEntry[] | null; probe: string | false | null } {
  let answer: RowsAnswer | null = null;
  try {
    answer = check(job);
  } catch {
    answer = null;
  }
  const entries = answer === null ? null : payloadEntries(job, answer);
  return { entries, probe: entries !== null && job.probe === true ? answer![3] : null };
}

/** A worker's answer to `job` as entries, or null when its row count or bytes are not the reader's (not the same rows). */
function payloadEntries(job: PayloadJob, answer: RowsAnswer): PayloadEntry[] | null {
  const [count, bytes, flat] = answer;
  if (count !== job.files || bytes !== job.bytes) return null;
  const out: PayloadEntry[] = [];
  for (let i = 0; i < flat.length; ) {
    const e = { index: flat[i] as number, path: flat[i + 1] as string, ino: flat[i + 2] as number, size: flat[i + 3] as number, mtimeNs: flat[i + 4] as string, nlink: flat[i + 5] as number };
    const tag = flat[i + 6] as number;
    if (tag === 0) {
      out.push({ ...e, live: null });
      i += 7;
    } else if (tag === 1) {
      out.push({ ...e, live: { code: flat[i + 7] as string } });
      i += 8;
    } else {
      out.push({ ...e, live: { ino: flat[i + 7] as number, nlink: flat[i + 8] as number, size: flat[i + 9] as number, mtimeNs: flat[i + 10] as string } });
      i += 11;
    }
  }
  return out;
}

// Payload jobs: the worker opens the catalog read-only at once; the jobs come in one message ({ jobs, ends }) when the
// reader knows them: then it begins one read transaction and checks it is the reader's snapshot (lineage and serial,
// given in workerData) before it claims any job; jobs are claimed a chunk at a time
// (signal[1] counts claims; the reader claims too while it waits, see PayloadJobs.self). Each answer message: { w, jobs: [job index,
// answer or null, ...] }; before them { w, ready: [lineage, serial] } or, when the catalog cannot be read as the
// reader's, { w, fail } and no claim.
// File lists: a message carries a batch of submissions in four pieces, cheap to pass: `text` joins each file's path and mtime
// (nanoseconds, decimal) with NUL — no path can hold a NUL, and the worker checks the count — `nums` holds each file's
// inode, size and link count (transferred, not copied), `raw` lists [file index, bytes] for the paths whose name is not
// UTF-8 (checked by those exact bytes, never a string round trip). The answer per submission: [file index in the
// message, code] or [file index, ino, nlink, size, mtimeNs] for each file that differs, or null when the message could not be read
// (the calling thread then checks that submission itself).
const WORKER_SOURCE = String.raw`
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { port, signal, rows } = workerData;
const lstat = (${exactLstat.toString()})((${fsBinding.toString()})(), fs.lstatSync, process.execPath);
const post = (m) => {
  port.postMessage(m);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
};
let work = null;
let begin = null;
if (rows) {
  const checkPayloadRows = ${checkPayloadRows.toString()};
  let db = null;
  const fail = (e) => {
    post({ w: rows.w, fail: String(e && e.message) });
    if (db !== null) try { db.close(); } catch {}
    db = null;
  };
  try {
    const Database = require(rows.sqlite);
    db = new Database(rows.catalog, { readonly: true, fileMustExist: true });
    const meta = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    const stmts = { one: db.prepare(rows.sql.one).raw(true), under: db.prepare(rows.sql.under).raw(true), all: db.prepare(rows.sql.all).raw(true), packed: db.prepare(rows.sql.packed).raw(true), probe: db.prepare(rows.sql.probe).raw(true) };
    // One claim at a time, yielding in between so that file lists sent meanwhile are answered without waiting for every job.
    const claim = () => {
      if (db === null) return;
      try {
        const c = Atomics.add(signal, 1, 1);
        if (c >= work.ends.length) {
          db.close();
          db = null;
          return;
        }
        const out = [];
        for (let j = c === 0 ? 0 : work.ends[c - 1]; j < work.ends[c]; j++) {
          let a = null;
          try {
            a = checkPayloadRows(stmts, lstat, work.jobs[j]);
          } catch {
            a = null;
          }
          out.push(j, a);
        }
        post({ w: rows.w, jobs: out });
        setImmediate(claim);
      } catch (e) {
        fail(e);
      }
    };
    // The read transaction begins only when the jobs come (opened and prepared before, while the reader reads): its
    // snapshot is proven to be the reader's before any claim.
    begin = () => {
      try {
        db.exec('BEGIN');
        const lineage = meta.get('lineage');
        const serial = Number(meta.get('serial'));
        if (lineage !== rows.lineage || serial !== rows.serial) throw new Error('the catalog is at ' + lineage + ' serial ' + serial + ', the reader reads ' + rows.lineage + ' serial ' + rows.serial);
        post({ w: rows.w, ready: [lineage, serial] });
      } catch (e) {
        fail(e);
        return;
      }
      claim();
    };
  } catch (e) {
    fail(e);
  }
}
port.on('message', (job) => {
  if (job.ends) {
    work = job;
    if (begin !== null) begin();
    return;
  }
  const { ids, counts, nums, raw } = job;
  const parts = job.text.split('\0');
  let files = 0;
  for (let s = 0; s < counts.length; s++) files += counts[s];
  const out = [];
  if (parts.length !== 2 * files + 1 || nums.length !== 3 * files) {
    for (let s = 0; s < ids.length; s++) out.push(ids[s], null);
  } else {
    let k = 0;
    let r = 0;
    for (let s = 0; s < ids.length; s++) {
      const found = [];
      for (let end = k + counts[s]; k < end; k++) {
        let p = parts[2 * k];
        if (r < raw.length && raw[r] === k) {
          p = Buffer.from(raw[r + 1]);
          r += 2;
        }
        let st;
        try {
          st = lstat(p, { bigint: true, throwIfNoEntry: false });
        } catch (e) {
          found.push(k, e.code || 'EIO');
          continue;
        }
        if (st === undefined) {
          found.push(k, 'ENOENT');
          continue;
        }
        const ino = Number(st.ino), nlink = Number(st.nlink), size = Number(st.size), mtimeNs = String(st.mtimeNs);
        if (ino === nums[3 * k] && size === nums[3 * k + 1] && mtimeNs === parts[2 * k + 1] && nlink <= nums[3 * k + 2]) continue;
        found.push(k, ino, nlink, size, mtimeNs);
      }
      out.push(ids[s], found);
    }
  }
  post(out);
});
`;

/** The submissions not yet sent, gathered into one message. */
interface Batch {
  ids: number[];
  counts: number[];
  /** Each file's path then mtime (a raw path's slot is empty): joined with NUL when sent. */
  text: string[];
  /** Inode, size, link count per file. */
  nums: Float64Array;
  /** File index in the batch, then the path's bytes, for paths that are not UTF-8 text. */
  raw: (number | Buffer)[];
  files: number;
}

/** Files per message to a worker (a payload is one submission; small ones travel together). `take` sends a batch holding its handle at once. */
const BATCH_FILES = 1024;
/** How long `take` waits without any answer before checking the submission, and every later one, itself. */
const STALL_MS = 30_000;

export interface LiveCheckPool {
  /** Queue files for checking; the handle names them for `take`. */
  submit(files: readonly CatalogFile[]): number;
  /** The answer for each file of the submission whose disk state differs from its row (by the very file objects submitted); waits for it. */
  take(handle: number, files: readonly CatalogFile[]): Map<CatalogFile, LiveAnswer>;
  /**
   * The answer to payload job `index` (see PayloadJob): the payload files that differ from their rows or are named as
   * linked, in row order; waits for it. Null when no worker could answer it as the reader's snapshot: the caller
   * checks the payload itself (never read as unchanged).
   */
  payload(index: number): PayloadEntry[] | null;
  /**
   * The probe's answer of payload job `index` (a job with `probe`), once `payload(index)` returned its entries: false
   * when a copy of the payload's content is on one of its inodes, else every copy (LIVE_ROWS_SQL.probe's text); null
   * when there is none (no entries, or the job asked no probe): the caller reads the copies itself.
   */
  probe(index: number): string | false | null;
  /**
   * Give the payload jobs (see PayloadJobs.jobs), once: the workers, already started, claim them in order. Until then
   * no job is answered.
   */
  start(jobs: readonly PayloadJob[]): void;
  /** Stop the workers (the pool is unusable after). */
  close(): void;
}

/** Payload jobs for a pool: the catalog the workers open (its lineage and serial as the reader sees them) and the jobs, in the order the reader takes them. */
export interface PayloadJobs {
  catalog: { path: string; lineage: string; serial: number };
  /** The jobs, in the order the reader takes them; absent: given later (`start`), once the reader knows them. */
  jobs?: readonly PayloadJob[];
  /**
   * The reader's own check of a job (checkPayloadRows on its connection, inside its read transaction): while it waits
   * for an answer, the reader takes the next job no worker claimed yet and checks it itself. Without it, the reader
   * only waits (and checks jobs itself, by reading the payload, only once every worker failed).
   */
  self?: (job: PayloadJob) => RowsAnswer | null;
}

/** Files per claim of payload jobs (a claim is one answer message). */
const CLAIM_FILES = 1024;

/** What liveInode finds for each file that differs from its row (the calling thread's own check; the workers give the same). */
export function liveDifferences(files: readonly CatalogFile[]): Map<CatalogFile, LiveAnswer> {
  const out = new Map<CatalogFile, LiveAnswer>();
  for (const f of files) {
    const r = liveInode(f);
    if ('code' in r || r.ino !== f.ino || r.size !== f.size || r.mtimeNs !== f.mtimeNs || r.nlink > f.nlink) out.set(f, r);
  }
  return out;
}

/**
 * A payload job's answer as liveDifferences' map over the reader's own rows of that payload (the same rows in the same
 * order), or null when an answered row is not the reader's (then the reader checks the payload itself).
 */
export function differencesOnRows(files: readonly CatalogFile[], entries: readonly PayloadEntry[]): Map<CatalogFile, LiveAnswer> | null {
  const out = new Map<CatalogFile, LiveAnswer>();
  for (const e of entries) {
    const f = files[e.index];
    if (f === undefined || f.path !== e.path || f.ino !== e.ino || f.size !== e.size || f.mtimeNs !== e.mtimeNs || f.nlink !== e.nlink) return null;
    if (e.live !== null) out.set(f, e.live);
  }
  return out;
}

/**
 * A pool of `workers` threads (at least one) for one snapshot read; close it when the read ends. `rows`: the catalog
 * the workers open at once, and the payload jobs they start on as soon as they are given (with `rows.jobs`, or `start`). `opts` also takes, for tests, a worker's code and the stall time.
 */
export function liveCheckPool(workers: number, opts: { source?: string; stallMs?: number; rows?: PayloadJobs } = {}): LiveCheckPool {
  const stallMs = opts.stallMs ?? STALL_MS;
  // [0]: messages posted by the workers (what a waiting reader watches); [1]: payload-job claims handed out.
  const signal = new Int32Array(new SharedArrayBuffer(8));
  // The payload jobs once given (`start`); claim c covers jobs [ends[c - 1], ends[c]).
  let jobs: readonly PayloadJob[] = [];
  const ends: number[] = [];
  // Jobs given with the pool start it at once; without any (a file-list pool), no worker opens the catalog.
  const rowsData = (w: number) =>
    opts.rows && (opts.rows.jobs === undefined || opts.rows.jobs.length > 0)
      ? { w, sqlite: createRequire(import.meta.url).resolve('better-sqlite3'), catalog: opts.rows.catalog.path, lineage: opts.rows.catalog.lineage, serial: opts.rows.catalog.serial, sql: LIVE_ROWS_SQL }
      : undefined;
  const threads: { worker: Worker; port: MessagePort; queued: number }[] = [];
  for (let i = 0; i < Math.max(1, workers); i++) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(opts.source ?? WORKER_SOURCE, { eval: true, workerData: { port: port2, signal, rows: rowsData(i) }, transferList: [port2] });
    worker.unref();
    // A worker that fails leaves its submissions unanswered: take() then checks them itself.
    worker.on('error', () => undefined);
    threads.push({ worker, port: port1, queued: 0 });
  }
  // Per submission: the differences found ([file index, code] or [file index, ino, nlink, size, mtimeNs], flat), or
  // null for a message the worker could not read.
  const answers = new Map<number, unknown[] | null>();
  // Per submission not yet answered: its first file's index in its message.
  const firstOf = new Map<number, number>();
  const newBatch = (): Batch => ({ ids: [], counts: [], text: [], nums: new Float64Array(3 * BATCH_FILES), raw: [], files: 0 });
  let batch = newBatch();
  let next = 0;
  // Set once the workers stopped answering: every later submission is checked on the calling thread at once.
  let stalled = false;
  const flush = (): void => {
    if (batch.ids.length === 0) return;
    const t = threads.reduce((a, b) => (b.queued < a.queued ? b : a));
    t.queued += batch.files;
    const nums = batch.files * 3 === batch.nums.length ? batch.nums : batch.nums.slice(0, batch.files * 3);
    // A NUL after the last file too: the worker finds 2 parts per file and one empty tail.
    batch.text.push('');
    t.port.postMessage({ ids: batch.ids, counts: batch.counts, text: batch.text.join('\0'), nums, raw: batch.raw }, [nums.buffer as ArrayBuffer]);
    batch = newBatch();
  };
  // Per payload job answered (or claimed by this thread: null) and not yet taken.
  const jobAnswers = new Map<number, PayloadEntry[] | null>();
  // Per payload job answered with entries and asked a probe, and not yet taken: the probe's answer.
  const probes = new Map<number, string | false>();
  /** Record the answer to job `j` (null: none to trust). */
  const settle = (j: number, answer: RowsAnswer | null): void => {
    const job = jobs[j];
    const entries = answer !== null && job !== undefined ? payloadEntries(job, answer) : null;
    jobAnswers.set(j, entries);
    if (entries !== null && job!.probe === true && answer![3] !== null) probes.set(j, answer![3]);
  };
  // Workers whose read transaction was shown to be the reader's snapshot: only their job answers count.
  const trusted = new Set<number>();
  // Workers that claim no job (their catalog read failed or was not the reader's snapshot).
  const failed = new Set<number>();
  // Time waited since the last message from any worker: past the stall time, the workers count as gone.
  let waitedSinceAnswer = 0;
  const drain = (): void => {
    for (const t of threads) {
      for (let m = receiveMessageOnPort(t.port); m !== undefined; m = receiveMessageOnPort(t.port)) {
        waitedSinceAnswer = 0;
        if (Array.isArray(m.message)) {
          const out = m.message as unknown[];
          for (let i = 0; i < out.length; i += 2) answers.set(out[i] as number, out[i + 1] as unknown[] | null);
          continue;
        }
        const msg = m.message as { w: number; ready?: [string, number]; fail?: string; jobs?: unknown[] };
        const cat = opts.rows?.catalog;
        if (msg.ready && cat && msg.ready[0] === cat.lineage && msg.ready[1] === cat.serial) trusted.add(msg.w);
        if (msg.fail !== undefined) failed.add(msg.w);
        if (!msg.jobs) continue;
        for (let i = 0; i < msg.jobs.length; i += 2) {
          const j = msg.jobs[i] as number;
          const answer = msg.jobs[i + 1] as RowsAnswer | null;
          settle(j, trusted.has(msg.w) ? answer : null);
        }
      }
    }
  };
  /** Wait for the next worker message, up to the stall time since the last one (then `stalled`); false once stalled. */
  const waitForMessage = (seen: number): boolean => {
    if (stalled || waitedSinceAnswer >= stallMs) {
      stalled = true;
      return false;
    }
    const step = Math.min(1000, stallMs);
    const r = Atomics.wait(signal, 0, seen, step);
    waitedSinceAnswer = r === 'timed-out' ? waitedSinceAnswer + step : 0;
    return true;
  };
  const pool: LiveCheckPool = {
    start(given) {
      if (ends.length > 0 || jobs.length > 0) throw new Error('liveCheckPool: the payload jobs are given once');
      jobs = given;
      for (let j = 0, files = 0; j < jobs.length; j++) {
        files += jobs[j]!.files;
        if (files >= CLAIM_FILES || j === jobs.length - 1) {
          ends.push(j + 1);
          files = 0;
        }
      }
      if (opts.rows && jobs.length > 0) for (const t of threads) t.port.postMessage({ jobs, ends });
    },
    submit(files) {
      const n = files.length;
      const id = next++;
      const b = batch;
      const first = b.files;
      if (3 * (first + n) > b.nums.length) {
        const grown = new Float64Array(Math.max(2 * b.nums.length, 3 * (first + n)));
        grown.set(b.nums);
        b.nums = grown;
      }
      const { nums, text, raw } = b;
      for (let i = 0; i < n; i++) {
        const f = files[i]!;
        const k = first + i;
        const p = fsPathArg(f.path);
        if (typeof p === 'string') text.push(p, f.mtimeNs);
        else {
          text.push('', f.mtimeNs);
          raw.push(k, p);
        }
        nums[3 * k] = f.ino;
        nums[3 * k + 1] = f.size;
        nums[3 * k + 2] = f.nlink;
      }
      b.ids.push(id);
      b.counts.push(n);
      b.files += n;
      firstOf.set(id, first);
      if (b.files >= BATCH_FILES) flush();
      return id;
    },
    take(handle, files) {
      // Ids grow: the handle is in the batch not yet sent when it is at least the batch's first.
      if (batch.ids.length > 0 && handle >= batch.ids[0]!) flush();
      for (;;) {
        const seen = Atomics.load(signal, 0);
        drain();
        const found = answers.get(handle);
        if (found !== undefined) {
          const first = firstOf.get(handle)!;
          answers.delete(handle);
          firstOf.delete(handle);
          if (found === null) return liveDifferences(files);
          const out = new Map<CatalogFile, LiveAnswer>();
          for (let i = 0; i < found.length; ) {
            const f = files[(found[i] as number) - first]!;
            if (typeof found[i + 1] === 'string') {
              out.set(f, { code: found[i + 1] as string });
              i += 2;
            } else {
              out.set(f, { ino: found[i + 1] as number, nlink: found[i + 2] as number, size: found[i + 3] as number, mtimeNs: found[i + 4] as string });
              i += 5;
            }
          }
          return out;
        }
        if (!waitForMessage(seen)) return liveDifferences(files);
      }
    },
    payload(index) {
      for (;;) {
        const seen = Atomics.load(signal, 0);
        drain();
        const found = jobAnswers.get(index);
        if (found !== undefined) {
          jobAnswers.delete(index);
          return found;
        }
        // Rather than wait, this thread claims the next job no worker took and checks it itself (without its own check:
        // only once every worker failed, answered null — the caller reads and checks those payloads).
        const self = opts.rows?.self;
        if ((self !== undefined || failed.size === threads.length) && Atomics.load(signal, 1) < ends.length) {
          const c = Atomics.add(signal, 1, 1);
          if (c < ends.length) {
            for (let j = c === 0 ? 0 : ends[c - 1]!; j < ends[c]!; j++) {
              let answer: RowsAnswer | null = null;
              try {
                answer = self === undefined ? null : self(jobs[j]!);
              } catch {
                answer = null;
              }
              settle(j, answer);
            }
          }
          continue;
        }
        if (!waitForMessage(seen)) return null;
      }
    },
    probe(index) {
      const found = probes.get(index);
      probes.delete(index);
      return found ?? null;
    },
    close() {
      for (const t of threads) {
        t.port.close();
        void t.worker.terminate();
      }
    },
  };
  if (opts.rows?.jobs !== undefined) pool.start(opts.rows.jobs);
  return pool;
}
