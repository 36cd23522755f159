// How V8 compiles while a scan runs: V8's default optimisation budget (whatever the command set), and the optimising compiler inlines no calls, so each hot function of the walk is compiled once, on its own.
import { setFlagsFromString } from 'node:v8';
import { DEFAULT_INTERRUPT_BUDGET, interruptBudget, setInterruptBudget } from '../../jit-budget.js';

/**
 * Run `fn` with V8's optimising compiler inlining no calls (`--no-turbo-inlining`) and with V8's default interrupt
 * budget, then inline again and put back the budget in force before.
 *
 * Why no inlining: a scan's hot path is a chain of small functions called per file — find's record parser, the
 * settle callback, the catalog-side lookup — and with inlining each one is compiled again inside every caller (the
 * parser's on-stack-replacement and regular versions each held the whole chain). On the 20k-file no-change rescan the
 * compiler's helper threads spent ~200 ms of job time doing that (`--trace-opt`), ~64 ms without inlining, and on a
 * 2-core machine they took the core GNU find walks on. Measured alternating fresh processes at load 3–5: the
 * process's CPU (all threads and find) median 160–162 → 137–141 ms for 20k files, 793 → 747 ms for 200k; calls
 * between optimised functions cost a few nanoseconds each.
 *
 * Why the default budget: `plan` and `apply` raise it for their own work (src/cli/optimizer-budget.ts), and a scan
 * run inside them (plan's refresh; apply from an empty catalog scans every file first) kept its per-file functions in
 * the interpreter ~15 times longer. Counted with callgrind (--separate-threads), a first scan of 20k files (the
 * dedupe bench's tree, `scan.hash: shared-sizes`): the main thread ran 2.65G instructions under the raised budget,
 * 2.14G under the default one (the optimiser's threads 0.35G → 0.72G, on the other core); a 20k no-change rescan
 * 1.54G → 1.28G in all.
 *
 * The flags are process-wide: code compiled meanwhile by anything else is compiled this way too (speed only, never
 * behaviour), and a scan overlapping another puts the flags back when the first one ends.
 */
export async function underScanJit<T>(fn: () => Promise<T>): Promise<T> {
  const budget = interruptBudget();
  setFlagsFromString('--no-turbo-inlining');
  setInterruptBudget(DEFAULT_INTERRUPT_BUDGET);
  try {
    return await fn();
  } finally {
    setFlagsFromString('--turbo-inlining');
    setInterruptBudget(budget);
  }
}
