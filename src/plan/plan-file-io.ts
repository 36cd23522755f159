// Reads and writes saved plan files and loads schemas/plan.schema.json for validation (reads the world).
import { chmodSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
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

/** Read a saved plan (format version and schemas/plan.schema.json checked) and the hash of its bytes that run records keep. */
export function readPlanFile(file: string): { plan: Plan; hash: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = errnoCode(err);
    throw new HashallError(`cannot read plan file ${file}: ${code ?? (err as Error).message}`, {
      cause: err,
      hint: code === 'ENOENT' ? 'save a plan with `hashall plan --out FILE` first' : 'check the path; plans are written by `hashall plan --out FILE`',
    });
  }
  return { plan: parsePlan(bytes.toString('utf8'), `plan file ${file}`), hash: planHash(bytes) };
}

/** Write atomically (temp file in the same directory, then rename), mode 0600. */
export function writePlanFile(file: string, plan: Plan): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  try {
    // Private (0600 whatever the umask): a plan names every path and torrent of the user's library.
    writeFileSync(tmp, serializePlan(plan), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (err) {
    throw new HashallError(`cannot write plan file ${file}: ${errnoCode(err) ?? (err as Error).message}`, { cause: err });
  }
}
