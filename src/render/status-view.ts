// The one-line results of the small commands — validate, init, unlock, runs ack — as text (names escaped) or one JSON document (exact) (pure).
import type { LockHolder } from '../apply/lock.js';
import type { ConfigProblem } from '../errors.js';
import { formatConfigProblem } from './config-problem.js';
import { printable } from './escape.js';
import { jsonDocument } from './json.js';
import type { ViewOutput } from './view-output.js';

const out = (to: ViewOutput['to'], text: string): ViewOutput => ({ to, text });
const iso = (ms: number): string => new Date(ms).toISOString();
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What `hashall validate` found in `file`; offline: how many `${VAR}` references were left unresolved. */
export interface ValidateResult {
  file: string;
  problems: readonly ConfigProblem[];
  offline: boolean;
  unresolvedReferences: number;
}

/** `validate`: every problem on stderr and the verdict on stdout, or `{ ok, file, errors, warnings[, offline, unresolvedReferences] }`. */
export function validateView(r: ValidateResult, json: boolean): ViewOutput[] {
  const errors = r.problems.filter((p) => p.severity === 'error');
  const warnings = r.problems.filter((p) => p.severity === 'warning');
  const ok = errors.length === 0;
  if (json) return [out('stdout', jsonDocument({ ok, file: r.file, errors, warnings, ...(r.offline ? { offline: r.offline, unresolvedReferences: r.unresolvedReferences } : {}) }))];
  const scope = r.offline ? `; offline: schema and cross-field checks only, ${r.unresolvedReferences} environment reference(s) not resolved, no filesystem or client checked` : '';
  const counts = `${plural(errors.length, 'error')}, ${plural(warnings.length, 'warning')}${scope}`;
  return [...r.problems.map((p) => out('stderr', formatConfigProblem(p) + '\n')), out('stdout', `${printable(r.file)}: ${ok ? 'valid' : 'invalid'} (${counts})\n`)];
}

/** What `hashall init` wrote: the file, the data filesystems it found, the free-space margin it chose. */
export interface InitResult {
  file: string;
  filesystems: readonly { name: string; path: string; fsType: string }[];
  minFree: { text: string; why: string };
}

/** `init`: what was found on stderr and the file's path alone on stdout (for scripts), or one document. */
export function initView(r: InitResult, json: boolean): ViewOutput[] {
  if (json) return [out('stdout', jsonDocument({ file: r.file, filesystems: r.filesystems.map((m) => ({ name: m.name, path: m.path, fsType: m.fsType })), minFree: r.minFree }))];
  const found = r.filesystems.map((m) => `${printable(m.name)} at ${printable(m.path)} [${printable(m.fsType)}]`).join(', ') || 'none';
  const file = printable(r.file);
  return [
    out('stderr', `wrote ${file} (${r.filesystems.length} filesystem${r.filesystems.length === 1 ? '' : 's'} found: ${found}); safety.minFree ${r.minFree.text} (${r.minFree.why}); edit the CHANGE ME lines, then run \`hashall validate --config ${file}\`\n`),
    out('stdout', file + '\n'),
  ];
}

/** `unlock`: the holder cleared (`described` as apply/lock.ts describeHolder words it) and what happens next, or one document. */
export function unlockView(holder: LockHolder, described: string, json: boolean): ViewOutput[] {
  if (json) return [out('stdout', jsonDocument({ unlocked: { runId: holder.runId, pid: holder.pid, host: holder.host, command: holder.command, startedAt: iso(holder.startedAt) } }))];
  return [out('stdout', `unlocked: ${printable(described)}\n`), out('stderr', 'hashall: the next `hashall apply` (or `hashall recover`) rolls back whatever that run left half done\n')];
}

/** A needs-attention run acknowledged now, or (`already`) before. */
export interface RunAck {
  runId: string;
  ackedBy: string | null;
  ackedAt: number;
  already: boolean;
}

/** `runs ack`: who acknowledged the run and when, or one document. */
export function runAckView(a: RunAck, json: boolean): ViewOutput[] {
  if (json) return [out('stdout', jsonDocument({ runId: a.runId, acknowledged: true, already: a.already, ackedBy: a.ackedBy, ackedAt: iso(a.ackedAt) }))];
  const id = printable(a.runId);
  const by = printable(a.ackedBy ?? '?');
  return [out('stdout', a.already ? `run ${id} was already acknowledged by ${by} at ${iso(a.ackedAt)}\n` : `run ${id} acknowledged by ${by} at ${iso(a.ackedAt)}; plan no longer blocks its paths\n`)];
}
