// Maps each plan step kind to its handler.
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

export function handlerFor(step: PlanStep): StepHandler<PlanStep> {
  switch (step.kind) {
    case 'copy':
      return copyStep as StepHandler<PlanStep>;
    case 'link-view':
      return linkViewStep as StepHandler<PlanStep>;
    case 'repoint':
      return repointStep as StepHandler<PlanStep>;
    case 'dedupe-link':
      return dedupeLinkStep as StepHandler<PlanStep>;
    case 'retire':
      return retireStep as StepHandler<PlanStep>;
    case 'repair':
      return repairStep as StepHandler<PlanStep>;
    case 'recheck':
      return recheckStep as StepHandler<PlanStep>;
    case 'retire-orphan':
      return retireOrphanStep as StepHandler<PlanStep>;
  }
}
