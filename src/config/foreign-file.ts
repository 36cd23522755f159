// Tells a file that is no hashall config at all (a key, a password or token file behind a symlink, a wrong --config) from a config with mistakes, so nothing of a foreign file is echoed.
import { isMap, isScalar, isSeq, type Document } from 'yaml';
import type { ConfigProblem } from '../errors.js';
import { wholeFileError } from './problem.js';
import { closest } from './schema.js';

/** The top-level keys of hashall.yaml (schemas/hashall.schema.json `properties`; a test keeps the two equal). */
export const TOP_LEVEL_KEYS = ['version', 'catalog', 'filesystems', 'seeding', 'libraries', 'client', 'clients', 'categories', 'placement', 'dedupe', 'scan', 'verify', 'orphans', 'safety', 'apply', 'notify'] as const;

/**
 * One problem, at 1:1, when the parsed document (syntax errors or not) cannot be a hashall config: its top level is
 * text, a number or a list, or a mapping none of whose keys is one hashall knows or a near misspelling of one. Such a
 * file is something else — an SSH key, a password file, a token — reached through a symlink (a pull request can commit
 * one) or a wrong --config, and hashall may run as root: its problems would quote its keys and values, so none of it
 * is shown. `realPath` names where a symlinked config really points. Null for an empty file or a config with mistakes.
 */
export function foreignDocument(doc: Document, file: string, realPath: string | null): ConfigProblem | null {
  const root = doc.contents;
  let shape: string;
  if (root === null || root === undefined) return null;
  if (isMap(root)) {
    if (root.items.length === 0) return null;
    const keys = root.items.map((p) => (isScalar(p.key) ? String(p.key.value) : null));
    if (keys.some((k) => k !== null && ((TOP_LEVEL_KEYS as readonly string[]).includes(k) || closest(k, TOP_LEVEL_KEYS) !== null))) return null;
    shape = `a mapping of ${keys.length} key(s), none of them one hashall knows`;
  } else if (isSeq(root)) shape = 'a list';
  else if (isScalar(root) && typeof root.value === 'string') shape = `text (${root.value.length} character(s))`;
  else shape = 'a single value';
  const errors = doc.errors.length > 0 ? ` and ${doc.errors.length} YAML syntax error(s)` : '';
  return wholeFileError(
    file,
    `not a hashall config: its top level is ${shape}${errors}; nothing of it is shown`,
    (realPath !== null ? `${file} is a symlink to ${realPath}; ` : '') + 'check --config and HASHALL_CONFIG — a hashall.yaml starts with `version: 1` and `filesystems:` (`hashall init` writes one)',
  );
}
