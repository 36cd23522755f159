// Saved plan files: versioned JSON text ↔ Plan, with the format version checked first (pure).
import { createHash } from 'node:crypto';
import { HashallError } from '../errors.js';
import { PLAN_FORMAT_VERSION, READ_PLAN_FORMAT_VERSIONS, type Plan, type PlanGroup } from './types.js';
import { shortDedupeGroup, wholeDedupeGroup, type ShortDedupeGroup } from './dedupe-short.js';

/** Validates parsed JSON against schemas/plan.schema.json; returns problems (`/groups/0/action: …`), empty = valid. */
export type PlanValidator = (data: unknown) => string[];

/**
 * A plan file's text: JSON, indented, dedupe groups in their short form (dedupe-short.ts: each file once, ~5× fewer
 * bytes than the whole group), every character outside ASCII written as its \u escape — the same JSON values,
 * in bytes that are all ASCII, which Node 20 decodes ~6× faster than UTF-8 with any other character in it (a 4.8 MB
 * plan of 1,912 dedupe groups, whose reasons hold an em dash each: 2.6 ms instead of 16; see plan-file-io planText).
 */
export function serializePlan(plan: Plan): string {
  const groups = plan.groups.map((g): PlanGroup | ShortDedupeGroup => shortDedupeGroup(g) ?? g);
  return JSON.stringify({ ...plan, groups }, null, 2).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n';
}

/** The plan hash run records keep: SHA-256 of a plan file's bytes, or of the serialized plan when there is no file. */
export function planHash(planFileBytes: string | Buffer): string {
  return createHash('sha256').update(planFileBytes).digest('hex');
}

/** How many characters of context V8 shows on each side of an unexpected token in JSON.parse's message. */
const V8_JSON_CONTEXT = 10;

/**
 * Where JSON.parse stopped in `text`, from its message — never the excerpt of the text that message quotes: a plan
 * path swapped for a symlink to a secret file (root reads it) must not print its bytes.
 */
function jsonFault(text: string, message: string): string {
  if (message.includes('Unexpected end of JSON input')) return 'it ends too early';
  let at: number | null = null;
  const position = /at position (\d+)/.exec(message);
  if (position) at = Number(position[1]);
  else {
    // `Unexpected token 'x', ..."<10 characters before, 10 after>"... is not valid JSON`: found again in the text.
    const context = /^Unexpected token .*?, \.\.\."([\s\S]*?)"(?:\.\.\.)? is not valid JSON$/.exec(message);
    const found = context ? text.indexOf(context[1]!) : -1;
    if (found >= 0) at = found + V8_JSON_CONTEXT;
  }
  if (at === null) return 'near its start';
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  return `line ${line}, column ${at - before.lastIndexOf('\n')}`;
}

/**
 * Parse a saved plan. Order matters: not JSON → error; unknown formatVersion → error naming the versions read (never
 * guess at a newer format); then schema validation; then each short dedupe group read back whole (an index that names
 * no other file of its group: error). A formatVersion 1 file (written before the short form) reads as it always did.
 * `summaryText` (present in --json output) is dropped.
 */
export function decodePlan(text: string, validate: PlanValidator, source = 'plan file'): Plan {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new HashallError(`${source} is not valid JSON (${jsonFault(text, (err as Error).message)})`, { hint: 'pass a file written by `hashall plan --out FILE`' });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new HashallError(`${source} is not a hashall plan (expected a JSON object)`, { hint: 'pass a file written by `hashall plan --out FILE`' });
  }
  const version = (data as { formatVersion?: unknown }).formatVersion;
  if (!(READ_PLAN_FORMAT_VERSIONS as readonly unknown[]).includes(version)) {
    const shown = version === undefined ? 'no formatVersion' : `formatVersion ${JSON.stringify(version)}`;
    throw new HashallError(`${source} has ${shown}; this hashall reads plan format versions ${READ_PLAN_FORMAT_VERSIONS.join(' and ')} only`, {
      hint: 'create the plan again with this version: `hashall plan --out FILE`',
    });
  }
  const problems = validate(data);
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).map((p) => `  ${p}`).join('\n');
    const more = problems.length > 5 ? `\n  … and ${problems.length - 5} more` : '';
    throw new HashallError(`${source} does not match schemas/plan.schema.json:\n${shown}${more}`, { hint: 'the file was edited or damaged; create it again with `hashall plan --out FILE`' });
  }
  const { summaryText: _drop, ...rest } = data as Omit<Plan, 'groups'> & { groups: (PlanGroup | ShortDedupeGroup)[]; summaryText?: string };
  const whole = rest.groups.map((g, i): PlanGroup => {
    if (!('dedupe' in g)) return g;
    const group = wholeDedupeGroup(g);
    if (typeof group === 'string') {
      throw new HashallError(`${source} does not hold a readable plan:\n  /groups/${i}/${group}`, { hint: 'the file was edited or damaged; create it again with `hashall plan --out FILE`' });
    }
    return group;
  });
  // In the file's key order (a plan shown as JSON again lists its fields as before).
  return Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, k === 'groups' ? whole : k === 'formatVersion' ? PLAN_FORMAT_VERSION : v])) as unknown as Plan;
}
