// Config problems before they are positioned in the file (a key path instead of line:col), and problems of the whole file at 1:1 (pure).
import type { ConfigProblem } from '../errors.js';

/** Keys and array indexes from the document root, e.g. `['placement', 'rules', 1, 'place']`. */
export type KeyPath = (string | number)[];

export interface RawProblem {
  severity: 'error' | 'warning';
  path: KeyPath;
  message: string;
  hint?: string;
  /** Point at the key itself rather than its value (unknown keys, duplicate names). */
  atKey?: boolean;
}

/** `['placement', 'rules', 1, 'place']` → `placement.rules[1].place`. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** An error about the whole file (it cannot be read, trusted or parsed as a config), at its first line and column. */
export function wholeFileError(file: string, message: string, hint: string): ConfigProblem {
  return { severity: 'error', file, line: 1, col: 1, path: '', message, hint };
}

/** Keys whose values are secrets: a message names their type, never their value. */
const SECRET_KEY = /password|passkey|secret|token|api[-_]?key/i;

/** Whether the value at `path` is a secret (a password, a token, a notification URL or header value). */
export function isSecretPath(path: readonly (string | number)[]): boolean {
  const last = path[path.length - 1];
  // A notification target's URL and header values are secrets whatever their names (a webhook URL is its token).
  if (path[0] === 'notify' && (path[2] === 'url' || path[2] === 'headers')) return true;
  return typeof last === 'string' && SECRET_KEY.test(last);
}

/** `path` cut after its first secret key: what lies below a secret (`password: a: b` reads as a map) is the secret's text. */
export function uptoSecret(path: KeyPath): { path: KeyPath; secret: boolean } {
  for (let i = 1; i <= path.length; i++) if (isSecretPath(path.slice(0, i))) return { path: path.slice(0, i), secret: true };
  return { path, secret: false };
}
