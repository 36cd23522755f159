// Reads and writes saved plan files and loads schemas/plan.schema.json for validation (reads the world).
import { isAscii } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, lstatSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { HashallError, errnoCode } from '../errors.js';
import { packageRoot } from '../config/schema.js';
import { decodePlan, planHash, serializePlan, type PlanValidator } from './plan-file.js';
import type { Plan } from './types.js';
import { validate as compiledPlanValidator } from './plan-schema.generated.js';

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

/**
 * Read a saved plan (format version and schemas/plan.schema.json checked) and the hash of its bytes that run records keep.
 * `judge` sees the file as opened (its fstat, and the descriptor: every byte is read from it) before a byte is read,
 * and throws to refuse it (apply: who could write it).
 */
export function readPlanFile(file: string, judge?: (st: Stats, fd?: number) => void): { plan: Plan; hash: string } {
  let bytes: Buffer;
  try {
    // A regular file or a pipe (`apply <(…)`) is read to its end; a device never ends (`apply /dev/zero` read until
    // memory ran out) and is no plan. Opening a FIFO waits for its writer: one another user put in a folder they can
    // write would hang apply before the judge saw it — a FIFO is judged by its status first.
    const pre = statSync(file, { throwIfNoEntry: false });
    if (pre?.isFIFO()) judge?.(pre);
    const fd = openSync(file, constants.O_RDONLY);
    try {
      const st = fstatSync(fd);
      if (!st.isFile() && !st.isFIFO()) {
        throw new HashallError(`cannot read plan file ${file}: it is ${st.isDirectory() ? 'a directory' : 'a device or socket'}, not a plan`, { hint: 'give the file written by `hashall plan --out FILE`' });
      }
      judge?.(st, fd);
      bytes = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if (err instanceof HashallError) throw err;
    const code = errnoCode(err);
    throw new HashallError(`cannot read plan file ${file}: ${code ?? (err as Error).message}`, {
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

/** What stands at `file` when it is not a regular file (nothing there: null). */
function notRegular(file: string): string | null {
  let st;
  try {
    st = lstatSync(file);
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

/** Throws when `file` holds something writePlanFile would refuse to replace (asked before a long plan is made). */
export function checkPlanOut(file: string): void {
  const fail = (why: string, cause?: unknown) => new HashallError(`cannot write plan file ${file}: ${why}`, { cause, hint: 'give --out the path of a regular file (or a new name)' });
  let there: string | null;
  try {
    there = notRegular(file);
  } catch (err) {
    throw fail(errnoCode(err) ?? (err as Error).message, err);
  }
  if (there) throw fail(`it is ${there}, not a regular file`);
  // Its folder must be there too: said now, not after a refresh and a plan of minutes.
  let dir: Stats | undefined;
  try {
    dir = statSync(path.dirname(file), { throwIfNoEntry: false });
  } catch (err) {
    throw new HashallError(`cannot write plan file ${file}: its folder cannot be read (${errnoCode(err) ?? (err as Error).message})`, { cause: err, hint: 'check the folder exists and is writable' });
  }
  if (!dir?.isDirectory()) throw new HashallError(`cannot write plan file ${file}: its folder ${path.dirname(file)} ${dir ? 'is not a folder' : 'does not exist'}`, { hint: 'create the folder first, or give --out a path in an existing one' });
}

/**
 * Write atomically, mode 0600: a temp file in the same folder (a random name, created exclusively and never through a
 * symlink — the folder may be one other users write), then renamed over `file`. Only a regular file is replaced: a
 * symlink, FIFO, device or folder at `file` is refused and left as it is.
 */
export function writePlanFile(file: string, plan: Plan): void {
  checkPlanOut(file);
  const fail = (why: string, cause: unknown) => new HashallError(`cannot write plan file ${file}: ${why}`, { cause, hint: 'check the folder exists and is writable' });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
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
    renameSync(tmp, file);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    try {
      if (made) unlinkSync(tmp); // only the temp file this call created
    } catch {
      // already renamed
    }
    throw fail(errnoCode(err) ?? (err as Error).message, err);
  }
}
