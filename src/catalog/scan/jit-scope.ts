// How V8 compiles while a scan runs: the optimising compiler inlines no calls, so each hot function of the walk is compiled once, on its own.
import { setFlagsFromString } from 'node:v8';

/**
 * Run `fn` with V8's optimising compiler inlining no calls (`--no-turbo-inlining`), then inline again.
 *
 * Why: a scan's hot path is a chain of small functions called per file — find's record parser, the settle callback,
 * the catalog-side lookup — and with inlining each one is compiled again inside every caller (the parser's
 * on-stack-replacement and regular versions each held the whole chain). On the 20k-file no-change rescan the
 * compiler's helper threads spent ~200 ms of job time doing that (`--trace-opt`), ~64 ms without inlining, and on a
 * 2-core machine they took the core GNU find walks on. Measured alternating fresh processes at load 3–5: the
 * process's CPU (all threads and find) median 160–162 → 137–141 ms for 20k files, 793 → 747 ms for 200k; calls
 * between optimised functions cost a few nanoseconds each.
 *
 * The flag is process-wide: code compiled meanwhile by anything else is compiled without inlining too (speed only,
 * never behaviour), and a scan overlapping another re-enables inlining when the first one ends.
 */
export async function withoutInlining<T>(fn: () => Promise<T>): Promise<T> {
  setFlagsFromString('--no-turbo-inlining');
  try {
    return await fn();
  } finally {
    setFlagsFromString('--turbo-inlining');
  }
}
