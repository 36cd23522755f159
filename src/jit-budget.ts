// The process's V8 interrupt budget (how much bytecode a function runs before the optimising compiler considers it), set in one place so a scope that changes it can put back the one in force.
import { setFlagsFromString } from 'node:v8';

/** Node 20's default (V8 11.3: `--interrupt-budget=67584`). */
export const DEFAULT_INTERRUPT_BUDGET = 67_584;

let current = DEFAULT_INTERRUPT_BUDGET;

/** The budget in force in this process (as last set here; V8's default until then). */
export function interruptBudget(): number {
  return current;
}

/** From now on, in this process, V8 considers optimising a function only after `budget` units of its bytecode ran. */
export function setInterruptBudget(budget: number): void {
  const b = Math.max(1, Math.floor(budget));
  if (b === current) return;
  setFlagsFromString(`--interrupt-budget=${b}`);
  current = b;
}
