// Reads and writes saved plan files and loads schemas/plan.schema.json for validation (reads the world).
import { isAscii } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, lstatSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { anchoredPath } from '../domain/anchored-path.js';
import { errnoWords, undecodablePath } from '../domain/errno-words.js';
import { FsError, HashallError, errnoCode } from '../errors.js';
import { packageRoot } from '../config/schema.js';
import { decodePlan, planHash, serializePlan, type PlanValidator } from './plan-file.js';
import type { Plan } from './types.js';
import { validate as compiledPlanValidator } from './plan-schema.generated.js';
import type { PlaceProblem, UntrustedInput } from '../fs/trusted-place.js';

export function planSchemaPath(): string {
  return path.join(packageRoot(), 'schemas', 'plan.schema.json');
}

export function loadPlanSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(planSchemaPath(), 'utf8')) as Record<string, unknown>;
}

/**
 * A validator for plan documents: schemas/plan.schema.json as compiled ahead of time (plan-schema.generated.ts, which a
 * test keeps equal to the schema; compiling it costs ~0.5 s per command, and loading ajv's compiler ~40 ms), or
 * `validate` (the test's schema compiled now, to prove both judge alike).
 */
export function planValidator(validate: ValidateFunction = compiledPlanValidator as unknown as ValidateFunction): PlanValidator {
  return (data) => {
    if (validate(data)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}${e.params && 'allowedValue' in e.params ? ` (${JSON.stringify(e.params.allowedValue)})` : ''}`);
  };
}

export function parsePlan(text: string, source?: string): Plan {
  return decodePlan(text, planValidator(), source);
}

/** How `apply` trusts a plan file (given by the caller: the planner's room opens no path of its own judging). */
export interface PlanTrust {
  /** Open the file, judging each symlink on the way (judged-open.ts openInput). */
  open(file: string, flags: number): { fd: number } | { problem: UntrustedInput };
  /** Who could have written the file as opened (trusted-place.ts untrustedInput), on its descriptor when given. */
  judge(file: string, st: Stats, fd?: number): UntrustedInput | null;
  /** Throws: the file, a folder holding it or a symlink on the way is one another user could change. */
  refuse(found: UntrustedInput): never;
  /** Read the file as `open` opened it (O_NONBLOCK) to its end: input-read.ts readInput. */
  read: PlanReader;
}

/**
 * Reads the plan file open on `fd` (its fstat `st`), opened O_NONBLOCK, to its end without waiting for ever on a pipe
 * (input-read.ts readInput, given by the caller: the planner's room reads no descriptor through src/fs itself).
 */
export type PlanReader = (file: string, fd: number, st: Stats) => Buffer;

/** Opens the folder `plan --out` writes into, judging each symlink on the way (judged-open.ts openJudged). */
export type FolderOpener = (folder: string, flags: number) => { fd: number } | { problem: PlaceProblem };

/**
 * Read a saved plan (format version and schemas/plan.schema.json checked) and the hash of its bytes that run records keep.
 * With `trust` (apply), the file is opened through openInput — a symlink on the way another user planted or could swap
 * is refused as it is followed — and judged on that descriptor (untrustedInput) before a byte is read from it. With
 * `trust` or `reader` (show), it is opened without waiting for a FIFO's writer and read by the reader, which gives up
 * on a pipe whose writer does not come or stays silent (a FIFO nobody writes to hung apply and show for ever).
 */
export function readPlanFile(file: string, trust?: PlanTrust, reader?: PlanReader): { plan: Plan; hash: string } {
  // Without a reader (tests), the file is opened as open(2) would and read to its end as readFileSync reads it.
  const read = trust?.read ?? reader;
  let bytes: Buffer;
  try {
    // A regular file or a pipe (`apply <(…)`) is read to its end; a device never ends (`apply /dev/zero` read until
    // memory ran out) and is no plan. Opening a FIFO waits for its writer: one another user put in a folder they can
    // write would hang apply before the judge saw it — a FIFO is judged by its status first.
    const judge = (st: Stats, fd?: number): void => {
      const found = trust ? trust.judge(file, st, fd) : null;
      if (found !== null) trust!.refuse(found);
    };
    const pre = statSync(file, { throwIfNoEntry: false });
    if (pre?.isFIFO()) judge(pre);
    let fd: number;
    if (trust) {
      const opened = trust.open(file, constants.O_RDONLY);
      fd = 'problem' in opened ? trust.refuse(opened.problem) : opened.fd;
    } else fd = openSync(file, constants.O_RDONLY | (read ? constants.O_NONBLOCK : 0));
    try {
      const st = fstatSync(fd);
      if (!st.isFile() && !st.isFIFO()) {
        throw new HashallError(`cannot read plan file ${file}: it is ${st.isDirectory() ? 'a directory' : 'a device or socket'}, not a plan`, { hint: 'give the file written by `hashall plan --out FILE`' });
      }
      judge(st, fd);
      bytes = read ? read(file, fd, st) : readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if (err instanceof HashallError) throw err;
    const code = errnoCode(err);
    const undecodable = code === 'ENOENT' ? undecodablePath(file) : null;
    if (undecodable !== null) throw new HashallError(`cannot read plan file ${file}: its path ${undecodable.words}`, { cause: err, hint: undecodable.hint });
    throw new HashallError(`cannot read plan file ${file}: it ${errnoWords(code, (err as Error).message)}`, {
      cause: err,
      hint: code === 'ENOENT' ? 'save a plan with `hashall plan --out FILE` first' : 'check the path; plans are written by `hashall plan --out FILE`',
    });
  }
  return { plan: parsePlan(planText(bytes), `plan file ${file}`), hash: planHash(bytes) };
}

/**
 * A plan file's bytes as text (UTF-8). Bytes that are all ASCII (serializePlan writes only those) are the same text
 * in Latin-1, which Node 20 decodes ~6× faster (a 4.8 MB plan: 2.6 ms instead of 16); any other byte (a plan written
 * by an older version, or by hand) is decoded as UTF-8.
 */
export function planText(bytes: Buffer): string {
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

/** What stands at `at` (a name in a held folder) when it is not a regular file (nothing there: null). */
function notRegular(at: string): string | null {
  let st;
  try {
    st = lstatSync(at);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
  if (st.isFile()) return null;
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : 'not a file';
}

/** The folder `plan --out` writes into, held open from the check before the refresh to the write after it. */
export interface PlanOut {
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
  close(): void;
}

/** The folder opened by its path as given, no link judged: for callers that trust it (tests); `plan --out` passes openJudged. */
const plainOpen: FolderOpener = (folder, flags) => ({ fd: openSync(folder, flags) });

/**
 * Open the folder of `file` through openJudged: a symlink on the way that another user planted or could swap (they
 * would choose the folder root writes in, and the file its rename replaces there) is refused, and so is a folder that
 * is missing or no folder.
 */
function openOutFolder(file: string, open: FolderOpener): { fd: number; dev: number; ino: number } {
  const folder = path.dirname(file);
  let opened;
  try {
    opened = open(folder, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    const code = errnoCode(err);
    const undecodable = code === 'ENOENT' ? undecodablePath(folder) : null;
    if (undecodable !== null) throw new HashallError(`cannot write plan file ${file}: its folder's path ${undecodable.words}`, { cause: err, hint: undecodable.hint });
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new HashallError(`cannot write plan file ${file}: its folder ${folder} ${code === 'ENOENT' ? 'does not exist' : 'is not a folder'}`, { cause: err, hint: 'create the folder first, or give --out a path in an existing one' });
    // openJudged's own refusals (a component replaced while it was opened, past 40 links) say what happened themselves.
    const why = err instanceof FsError ? err.message : `its folder ${folder} ${errnoWords(code, (err as Error).message)}`;
    throw new HashallError(`cannot write plan file ${file}: ${why}`, { cause: err, hint: 'check the folder exists and is writable' });
  }
  if ('problem' in opened) {
    const { at, problem, kind } = opened.problem;
    throw new HashallError(`cannot write plan file ${file}: symlink ${at} on the way to it ${problem}`, {
      hint: `give --out the real path (no symlink another user could plant or swap)${kind === 'owner' ? '' : `, or chmod go-w ${path.dirname(at)}`}; nothing was written`,
    });
  }
  const st = fstatSync(opened.fd);
  return { fd: opened.fd, dev: st.dev, ino: st.ino };
}

/**
 * Hold the folder `plan --out FILE` writes into (see openOutFolder) and throw when `file` holds something writePlanFile
 * would refuse to replace — asked before a long plan is made. The caller closes it after writePlanFile.
 */
export function checkPlanOut(file: string, open: FolderOpener = plainOpen): PlanOut {
  const folder = openOutFolder(file, open);
  try {
    refuseNotRegular(file, folder.fd);
  } catch (err) {
    closeSync(folder.fd);
    throw err;
  }
  return { ...folder, close: () => closeSync(folder.fd) };
}

function refuseNotRegular(file: string, fd: number): void {
  let there: string | null;
  try {
    there = notRegular(anchoredPath(fd, path.basename(file)));
  } catch (err) {
    throw new HashallError(`cannot write plan file ${file}: it ${errnoWords(errnoCode(err), (err as Error).message)}`, { cause: err, hint: 'give --out the path of a regular file (or a new name)' });
  }
  if (there) throw new HashallError(`cannot write plan file ${file}: it is ${there}, not a regular file`, { hint: 'give --out the path of a regular file (or a new name)' });
}

/**
 * Write atomically, mode 0600, in the folder `out` holds (checkPlanOut; without it, held now): a temp file with a random
 * name, created exclusively and never through a symlink (the folder may be one other users write), then renamed over
 * `file` — both through the held folder, so a folder on the way swapped meanwhile cannot send the write elsewhere; the
 * name of the folder must still lead to it (else nothing is written). Only a regular file is replaced: a symlink, FIFO,
 * device or folder at `file` is refused and left as it is.
 */
export function writePlanFile(file: string, plan: Plan, out?: PlanOut, open: FolderOpener = plainOpen): void {
  const held = out ?? checkPlanOut(file, open);
  try {
    if (out) {
      // Held since before the refresh: its name must still lead to it, else the user would find no plan where they said.
      const now = openOutFolder(file, open);
      closeSync(now.fd);
      if (now.dev !== held.dev || now.ino !== held.ino) {
        throw new HashallError(`cannot write plan file ${file}: its folder ${path.dirname(file)} was replaced since hashall checked it (moved away, or swapped for a symlink or another folder); nothing was written`, {
          hint: 'find out who can write there; give --out a folder only you can write',
        });
      }
    }
    refuseNotRegular(file, held.fd);
    writeIn(file, held.fd, plan);
  } finally {
    if (!out) held.close();
  }
}

/** The temp file and the rename of writePlanFile, through held folder `dir`. */
function writeIn(file: string, dir: number, plan: Plan): void {
  const fail = (err: unknown): HashallError => {
    const code = errnoCode(err);
    const folder = path.dirname(file);
    // Said in words (errno-words.ts); a temp file this call made is gone by now, and `file` is as it was before.
    const hint =
      code === 'ENOSPC' || code === 'EDQUOT'
        ? `free space on the filesystem holding ${folder} (or give --out a path on another one); nothing was written, ${path.basename(file)} is as it was`
        : code === 'EROFS'
          ? `give --out a path on a filesystem mounted read-write; nothing was written`
          : 'check the folder exists and is writable';
    return new HashallError(`cannot write plan file ${file}: it ${errnoWords(code, (err as Error).message)}`, { cause: err, hint });
  };
  const tmp = anchoredPath(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | null = null;
  let made = false;
  try {
    // Private (0600 whatever the umask): a plan names every path and torrent of the user's library.
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    made = true;
    fchmodSync(fd, 0o600);
    const bytes = Buffer.from(serializePlan(plan), 'utf8');
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, anchoredPath(dir, path.basename(file)));
  } catch (err) {
    if (fd !== null) closeSync(fd);
    try {
      if (made) unlinkSync(tmp); // only the temp file this call created
    } catch {
      // already renamed
    }
    throw fail(err);
  }
}
