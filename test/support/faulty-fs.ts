// A real FsPort that fails (ENOSPC, EXDEV, EACCES, ...) or runs a hook before or after the Nth call of an operation (test support).
import { heldPathNow } from './held-path.js';
import type { FsPort } from '../../src/apply/fs-port.js';
import { FsError } from '../../src/errors.js';

export type FsOp = keyof FsPort;

export interface Fault {
  op: FsOp;
  /**
   * 1-based call number (counted per op, among calls whose first or second argument contains `pathIncludes`: a path
   * reached through a held folder, `/proc/self/fd/N/name`, is matched as spelled and as the folder's path now).
   */
  nth: number;
  pathIncludes?: string;
  /** Throw this errno instead of doing the call. */
  code?: string;
  /** Run after the real call succeeded (e.g. modify the source file "during" the copy). */
  after?: (args: unknown[]) => Promise<void> | void;
  /** Run right before the real call (e.g. swap the file it is about to open); `after` is then not run. */
  before?: (args: unknown[]) => Promise<void> | void;
}

export interface FaultyFsPort extends FsPort {
  /** How many times each op was called (matching or not). */
  calls: Partial<Record<FsOp, number>>;
  /** Faults that fired, in order. */
  fired: Fault[];
}

/** `arg` as given, and — when it names a held folder's descriptor (`/proc/self/fd/N[/…]`) — with the folder's path now in its place. */
function spellings(arg: unknown): string {
  const s = String(arg);
  const now = heldPathNow(s);
  return now === s ? s : `${s}\n${now}`;
}

export function faultyFsPort(base: FsPort, faults: Fault[]): FaultyFsPort {
  const counters = new Map<Fault, number>();
  const calls: Partial<Record<FsOp, number>> = {};
  const fired: Fault[] = [];
  const port = { calls, fired } as FaultyFsPort;
  for (const op of Object.keys(base) as FsOp[]) {
    const real = base[op] as (...args: unknown[]) => Promise<unknown>;
    (port as unknown as Record<string, unknown>)[op] = async (...args: unknown[]) => {
      calls[op] = (calls[op] ?? 0) + 1;
      const hits: Fault[] = [];
      for (const f of faults) {
        if (f.op !== op) continue;
        if (f.pathIncludes && !spellings(args[0]).includes(f.pathIncludes) && !spellings(args[1] ?? '').includes(f.pathIncludes)) continue;
        const n = (counters.get(f) ?? 0) + 1;
        counters.set(f, n);
        if (n === f.nth) hits.push(f);
      }
      const thrower = hits.find((f) => f.code);
      if (thrower) {
        fired.push(thrower);
        throw new FsError(`${op} ${String(args[0])}: injected ${thrower.code}`, { code: thrower.code, path: String(args[0]) });
      }
      for (const f of hits.filter((h) => h.before)) {
        fired.push(f);
        await f.before!(args);
      }
      const result = await real(...args);
      for (const f of hits.filter((h) => !h.before)) {
        fired.push(f);
        await f.after?.(args);
      }
      return result;
    };
  }
  return port;
}
