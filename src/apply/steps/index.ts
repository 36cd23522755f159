// Maps each plan step kind to its handler.
import { HashallError } from '../../errors.js';
import type { PlanStep } from '../../plan/types.js';
import { copyStep } from './copy.js';
import { dedupeLinkStep } from './dedupe-link.js';
import { linkViewStep } from './link-view.js';
import { recheckStep } from './recheck.js';
import { repairStep } from './repair.js';
import { repointStep } from './repoint.js';
import { retireStep } from './retire.js';
import { retireOrphanStep } from './retire-orphan.js';
import type { StepHandler } from './types.js';

/** One handler per step kind, each typed for its own kind (a kind without one does not compile). */
const HANDLERS: { [K in PlanStep['kind']]: StepHandler<Extract<PlanStep, { kind: K }>> } = {
  copy: copyStep,
  'link-view': linkViewStep,
  repoint: repointStep,
  'dedupe-link': dedupeLinkStep,
  retire: retireStep,
  repair: repairStep,
  recheck: recheckStep,
  'retire-orphan': retireOrphanStep,
};

export function handlerFor(step: PlanStep): StepHandler<PlanStep> {
  // Own keys only: a kind read from a journal or plan file never reaches Object.prototype.
  if (!Object.hasOwn(HANDLERS, step.kind)) throw new HashallError(`no handler for a step of kind ${JSON.stringify(step.kind)} (written by another hashall version?)`);
  return HANDLERS[step.kind] as StepHandler<PlanStep>;
}
