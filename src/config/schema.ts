// Validates parsed config data against schemas/hashall.schema.json (compiled ahead of time by ajv) and words each violation.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { isSecretPath, type KeyPath, type RawProblem } from './problem.js';
import { validate as compiledConfigValidator } from './config-schema.generated.js';

/** The package root: the nearest ancestor of this module holding hashall's package.json (works from src/ and dist/src/). */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (let i = 0; i < 12; i++) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'hashall') return dir;
      } catch (_e) {
        // not ours; keep walking up
      }
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`cannot find the hashall package root above ${from}`);
}

export function schemaPath(): string {
  return path.join(packageRoot(), 'schemas', 'hashall.schema.json');
}

export function loadSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(schemaPath(), 'utf8')) as Record<string, unknown>;
}

/**
 * schemas/hashall.schema.json as compiled ahead of time (config-schema.generated.ts from scripts/gen-config-validator.mjs,
 * which a test keeps equal to the schema; compiling it at start-up cost ~0.3 s of CPU per command that reads hashall.yaml).
 */
export function configValidator(): ValidateFunction {
  return compiledConfigValidator as unknown as ValidateFunction;
}

/** Validates `data` and returns one problem per distinct schema violation, in document order of key paths. */
export function validateAgainstSchema(data: unknown, validate: ValidateFunction = configValidator()): RawProblem[] {
  if (validate(data)) return [];
  const seen = new Set<string>();
  const out: RawProblem[] = [];
  const errors = validate.errors ?? [];
  // A propertyNames failure reports its inner pattern error too; keep only the clear one.
  const badNames = new Set(errors.filter((e) => e.keyword === 'propertyNames').map((e) => e.instancePath));
  for (const e of errors) {
    if (e.propertyName !== undefined && badNames.has(e.instancePath) && e.keyword !== 'propertyNames') continue;
    const p = describeError(e);
    const key = `${p.path.join('\u0000')}|${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out;
}

function pointerToPath(pointer: string): KeyPath {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

function showValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
}


/**
 * A value as error messages show it: JSON, with everything before the last `@` (after a scheme, if any) masked — the
 * user information of a URL, with or without its scheme, whatever characters the password holds (an `@` in it too).
 */
function show(v: unknown): string {
  const text = showValue(v);
  return typeof v === 'string' && v.includes('@') ? text.replace(/^("(?:[a-zA-Z][\w+.-]*:\/\/)?)[^"]*@/, '$1***@') : text;
}

/** Closest allowed key by edit distance, for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_v, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] ?? 0;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j] ?? 0;
      prev[j] = Math.min((prev[j] ?? 0) + 1, (prev[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length] ?? 0;
}

const PATTERN_TEXT: Record<string, { message: (v: unknown) => string; hint: string }> = {
  size: { message: (v) => `not a size: ${show(v)}`, hint: 'write a number of bytes or a number with a unit, e.g. 500MB, 1.5GiB, 2TB' },
  durationHours: { message: (v) => `not a duration: ${show(v)}`, hint: 'write a number of hours or a duration such as 24h, 7d, 1h30m' },
  durationSeconds: { message: (v) => `not a duration: ${show(v)}`, hint: 'write a number of seconds or a duration such as 30s, 2m' },
  durationDays: { message: (v) => `not a duration: ${show(v)}`, hint: 'write a number of days or a duration such as 14d, 36h, 2w' },
  name: { message: (v) => `not a valid name: ${show(v)}`, hint: 'use letters, digits, _, - and . (starting with a letter or digit)' },
  absolutePath: { message: (v) => `must be an absolute path: ${show(v)}`, hint: 'start the path with /' },
};

function describeError(e: ErrorObject): RawProblem {
  const path = pointerToPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  // Never echo a secret's value (a numeric password would otherwise be printed as "got number 424242").
  const secret = isSecretPath(path);
  const shown = (v: unknown): string => (secret ? '(a secret: value not shown)' : show(v));
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(((e.parentSchema as { properties?: object } | undefined)?.properties ?? {}) as object);
      const guess = closest(key, allowed);
      const hint = (guess ? `did you mean "${guess}"? ` : '') + (allowed.length ? `allowed keys here: ${allowed.join(', ')}` : 'no other keys are allowed here');
      return { severity: 'error', path: [...path, key], atKey: true, message: `unknown key "${key}"`, hint };
    }
    case 'required':
      return { severity: 'error', path, atKey: true, message: `missing required key "${String(params.missingProperty)}"`, hint: 'see the schema description of this section (schemas/hashall.schema.json)' };
    case 'type': {
      const want = Array.isArray(params.type) ? (params.type as string[]).join(' or ') : String(params.type);
      const got = e.data === null ? 'null' : Array.isArray(e.data) ? 'a list' : typeof e.data === 'object' ? 'a mapping' : `${typeof e.data} ${shown(e.data)}`;
      return { severity: 'error', path, message: `wrong type: expected ${want.replace('object', 'a mapping').replace('array', 'a list')}, got ${got}`, hint: 'check the value type (quote strings, indent mappings, use - for list items)' };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => show(v)).join(', ');
      return { severity: 'error', path, message: `invalid value ${shown(e.data)}: must be one of ${allowed}`, hint: `use one of ${allowed}` };
    }
    case 'const':
      if (path.length === 1 && path[0] === 'version' && Number.isInteger(e.data) && typeof params.allowedValue === 'number' && (e.data as number) > params.allowedValue) {
        return { severity: 'error', path, message: `format version ${String(e.data)} is newer than this hashall reads (${params.allowedValue})`, hint: `upgrade hashall to read it, or write the file for format version ${params.allowedValue}` };
      }
      return { severity: 'error', path, message: `invalid value ${shown(e.data)}: must be ${show(params.allowedValue)}`, hint: `write ${show(params.allowedValue)}` };
    case 'pattern': {
      const def = /#\/definitions\/([A-Za-z]+)\/pattern$/.exec(e.schemaPath)?.[1];
      const text = def ? PATTERN_TEXT[def] : undefined;
      if (text) return { severity: 'error', path, message: text.message(e.data), hint: text.hint };
      if (path[path.length - 1] === 'url') return { severity: 'error', path, message: `not an http(s) URL: ${shown(e.data)}`, hint: 'write e.g. http://127.0.0.1:8080' };
      return { severity: 'error', path, message: `invalid value ${shown(e.data)}: must match ${String(params.pattern)}` };
    }
    case 'propertyNames': {
      const name = String(params.propertyName);
      return { severity: 'error', path: [...path, name], atKey: true, message: `not a valid name: ${show(name)}`, hint: PATTERN_TEXT.name?.hint ?? '' };
    }
    case 'minimum':
      return { severity: 'error', path, message: `must not be negative (got ${shown(e.data)})` };
    case 'minItems':
    case 'minProperties':
      return { severity: 'error', path, message: `must not be empty`, hint: 'add at least one entry or remove the key' };
    case 'minLength':
      return { severity: 'error', path, message: `must not be an empty string` };
    case 'uniqueItems':
      return { severity: 'error', path, message: `duplicate list items (positions ${String(params.j)} and ${String(params.i)})`, hint: 'list each entry once' };
    default:
      return { severity: 'error', path, message: e.message ?? `invalid (${e.keyword})` };
  }
}
