// Raises V8's optimisation threshold for the rest of a command whose time goes to system calls and SQLite (applying a plan, planning): far fewer warm functions are compiled by the optimising compiler.
// Measured on a dedupe apply of 2,000 pairs (per-thread CPU from /proc, four runs alternated at load 8–10): V8's
// helper threads — mostly the concurrent optimising compiler — used 640–670 ms of 1.62–1.73 s of CPU with the default
// budget, 140–160 ms of 1.22–1.25 s with this one; the main thread's own time did not change measurably (980–1,060 ms
// vs 1,080–1,090 ms). Hot loops still reach optimised code, only later; nothing else about the run changes.
// A scan inside such a command (plan's refresh, apply's scan from an empty catalog) runs with V8's default budget
// meanwhile (see src/catalog/scan/jit-scope.ts): its per-file loop is what the optimising compiler is for.
import { setInterruptBudget } from '../jit-budget.js';

/** Bytecode budget a function runs before V8 considers optimising it (Node 20's default is 67,584). */
export const APPLY_INTERRUPT_BUDGET = 1_000_000;

/** From now on, in this process, V8 optimises a function only after `budget` units of its bytecode ran. */
export function raiseOptimizerBudget(budget: number = APPLY_INTERRUPT_BUDGET): void {
  setInterruptBudget(budget);
}
