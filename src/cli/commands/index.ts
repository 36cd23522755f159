// The list of hashall commands; each command lives in its own file and registers itself here.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { ExitStatus } from '../exit.js';
import { register as validateCommand } from './validate.js';
import { register as initCommand } from './init.js';
import { register as scanCommand } from './scan.js';
import { register as catalogCommand } from './catalog.js';
import { register as dupesCommand } from './dupes.js';
import { register as syncCommand } from './sync.js';
import { register as torrentsCommand } from './torrents.js';
import { register as whereisCommand } from './whereis.js';
import { register as planCommand } from './plan.js';
import { register as showCommand } from './show.js';
import { register as applyCommand } from './apply.js';
import { register as runsCommand } from './runs.js';
import { register as unlockCommand } from './unlock.js';
import { register as recoverCommand } from './recover.js';
import { register as verifyCommand } from './verify.js';
import { register as doctorCommand } from './doctor.js';
import { register as orphansCommand } from './orphans.js';
import { register as trashCommand } from './trash.js';
import { register as reconcileCommand } from './reconcile.js';
import { register as reclaimCommand } from './reclaim.js';

/** Registers one command; `exit` receives the code a command ends with when it does not throw. */
export type RegisterCommand = (program: Command, ctx: CliContext, exit: ExitStatus) => void;

const commands: RegisterCommand[] = [validateCommand, initCommand, scanCommand, catalogCommand, dupesCommand, syncCommand, torrentsCommand, whereisCommand, planCommand, showCommand, applyCommand, runsCommand, unlockCommand, recoverCommand, verifyCommand, doctorCommand, orphansCommand, trashCommand, reconcileCommand, reclaimCommand];

export function registerCommands(program: Command, ctx: CliContext, exit: ExitStatus): void {
  for (const register of commands) register(program, ctx, exit);
}
