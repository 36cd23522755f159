// The parts of a config that passed the schema, so the cross-field rules can still run on them (pure).
import type { KeyPath, RawProblem } from './problem.js';

export interface ValidParts {
  data: Record<string, unknown>;
  /** Names of filesystems whose entry was invalid and removed: rules naming them would only repeat that. */
  removedFilesystems: Set<string>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A copy of `data` without the values the schema rejected: for each problem, the object key holding it is removed
 * (a whole list when one of its items is bad: list indexes must keep pointing at the file's lines). Null when the
 * document itself is unusable (a problem at the root).
 */
export function validParts(data: unknown, problems: readonly RawProblem[]): ValidParts | null {
  if (!isObject(data)) return null;
  const copy = structuredClone(data);
  const removedFilesystems = new Set<string>();
  for (const p of problems) {
    const firstIndex = p.path.findIndex((s) => typeof s === 'number');
    const cut: KeyPath = firstIndex < 0 ? p.path : p.path.slice(0, firstIndex);
    if (cut.length === 0) return null;
    let parent: unknown = copy;
    for (const seg of cut.slice(0, -1)) parent = isObject(parent) ? parent[String(seg)] : undefined;
    const key = String(cut[cut.length - 1]);
    if (!isObject(parent) || !(key in parent)) continue;
    if (cut.length === 1 && key === 'version') parent[key] = 1;
    else delete parent[key];
    if (cut[0] === 'filesystems' && cut.length >= 2) removedFilesystems.add(String(cut[1]));
  }
  return { data: copy, removedFilesystems };
}

/** Whether a rule problem only repeats that a removed filesystem entry is missing. */
export function mentionsRemoved(p: { message: string }, removed: ReadonlySet<string>): boolean {
  for (const name of removed) if (p.message.includes(JSON.stringify(name))) return true;
  return false;
}
