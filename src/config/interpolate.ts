// Replaces `${ENV_VAR}` in every string value of parsed YAML data; reports unset variables by key path (pure).
import type { RawProblem, KeyPath } from './problem.js';

const VAR_RE = /\$\$|\$\{([^}]*)\}/g;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names of the variables a template uses, and syntax errors found in it. */
export function templateVariables(template: string): { names: string[]; bad: string[] } {
  const names: string[] = [];
  const bad: string[] = [];
  for (const m of template.matchAll(VAR_RE)) {
    if (m[0] === '$$') continue;
    const name = m[1] ?? '';
    if (NAME_RE.test(name)) names.push(name);
    else bad.push(m[0]);
  }
  return { names, bad };
}

/** Substitutes `${NAME}` from `env` (`$$` is a literal `$`); unset names stay as written. */
export function expandTemplate(template: string, env: Record<string, string | undefined>): string {
  return template.replace(VAR_RE, (whole, name: string | undefined) => {
    if (whole === '$$') return '$';
    const v = name !== undefined && NAME_RE.test(name) ? env[name] : undefined;
    return v ?? whole;
  });
}

/**
 * Returns a copy of `data` with every string interpolated. Strings at a path for which `keepRaw`
 * returns true are checked (variables must be set) but left as written: they are resolved at use (secrets).
 * With `offline`, no variable is read: `deferred` lists the paths whose value holds a reference.
 */
export function interpolateEnv(
  data: unknown,
  env: Record<string, string | undefined>,
  keepRaw: (path: KeyPath) => boolean,
  opts: { offline?: boolean } = {},
): { data: unknown; problems: RawProblem[]; deferred: KeyPath[] } {
  const problems: RawProblem[] = [];
  // Offline (validate --offline): references are checked for syntax only, never read, and their values left as written.
  const deferred: KeyPath[] = [];
  const walk = (value: unknown, path: KeyPath): unknown => {
    if (typeof value === 'string') {
      if (!value.includes('$')) return value;
      const { names, bad } = templateVariables(value);
      for (const b of bad) {
        problems.push({ severity: 'error', path, message: `malformed variable reference ${b}`, hint: 'write ${NAME} with letters, digits and _ (or $$ for a literal $)' });
      }
      if (opts.offline) {
        if (names.length > 0) deferred.push(path);
        return value;
      }
      for (const name of names) {
        if (env[name] === undefined) {
          // A secret (kept raw, read at use) is never to be written into the file: that is what the variable is for.
          const where = `export ${name}=... before running hashall; from cron or systemd, in the environment they give it (e.g. EnvironmentFile= in the unit).`;
          const hint = keepRaw(path) ? `${where} A secret stays in the environment, never written into hashall.yaml` : `${where} Or write the value directly`;
          problems.push({ severity: 'error', path, message: `environment variable ${name} is not set`, hint });
        }
      }
      return keepRaw(path) ? value : expandTemplate(value, env);
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = walk(v, [...path, k]);
      return out;
    }
    return value;
  };
  return { data: walk(data, []), problems, deferred };
}
