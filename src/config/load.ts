// Finds, reads and checks hashall.yaml: YAML → schema → normalize → rules → filesystem checks, all problems positioned.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { pseudoFsOfFd } from '../fs/pseudo-fs.js';
import { foreignDocument } from './foreign-file.js';
import { wholeFileError } from './problem.js';
import { untrustedInput, type UntrustedInput } from '../fs/trusted-place.js';
import { openInput } from '../fs/judged-open.js';
import { readInput } from '../fs/input-read.js';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, FsError, errnoCode, type ConfigProblem } from '../errors.js';
import { errnoWords, undecodablePath } from '../domain/errno-words.js';
import type { HashallConfig } from './types.js';
import { parseYamlSource, positionProblems, yamlData } from './yaml-source.js';
import { validateAgainstSchema } from './schema.js';
import { interpolateEnv } from './interpolate.js';
import { normalizeConfig, type RawConfig } from './normalize.js';
import { checkRules } from './rules.js';
import { checkFilesystemPaths, type FsCheckOptions } from './fs-checks.js';
import { mentionsRemoved, validParts } from './valid-parts.js';

export interface LoadOptions extends FsCheckOptions {
  env: Record<string, string | undefined>;
  cwd: string;
  /** Home directory for `~/` and the default catalog (default: $HOME, else os.homedir()). */
  homeDir?: string;
  /**
   * Schema and cross-field checks only (`validate --offline`): no environment variable is read (`${VAR}` is checked
   * for syntax; a value holding one is not judged by its written form), no filesystem check, no client.
   */
  offline?: boolean;
}

/** What checkConfig found; `config` is null when any error was found. */
export interface CheckResult {
  config: HashallConfig | null;
  problems: ConfigProblem[];
  /** Offline only: values holding a `${VAR}` reference, left unresolved. */
  unresolvedReferences: number;
}

/** The home directory without reading the environment (offline): the password database, else `/`. */
function homeWithoutEnv(): string {
  try {
    return os.userInfo().homedir || '/';
  } catch (_e) {
    return '/';
  }
}

/** A hashall.yaml is a few KB; reading stops past this, so a device or a wrong file (`--config /dev/zero`) ends in an error. */
export const CONFIG_MAX_BYTES = 1 << 20;

/**
 * Whether another local user could have changed the config just opened (`st`, its fstat): a problem at line 1 when the
 * file is owned by anyone but root, this user or — run as root under sudo — the user who ran sudo; when a regular file
 * is writable by its group or others; or when a folder on its real path lets them rename it away (see placeProblem).
 */
function untrustedConfig(file: string, st: Stats, env: Record<string, string | undefined>, fd: number | undefined): ConfigProblem | null {
  const found = untrustedInput(file, st, env, fd);
  return found === null ? null : configProblemOf(file, found);
}

function configProblemOf(file: string, found: UntrustedInput): ConfigProblem {
  const subject = found.where === 'file' ? `config ${found.at}` : found.where === 'link' ? `symlink ${found.at} on the way to the config` : `folder ${found.at} holding the config`;
  return wholeFileError(file, `${subject} ${found.problem}: whoever can change it decides what hashall moves, links and removes`, `${found.fix}, or keep hashall.yaml where only ${found.who} can write; nothing was read from it`);
}

/**
 * The config's bytes, or null when there are more than CONFIG_MAX_BYTES (a regular file's size is read first); or the
 * problem found before anything is read from it: a symlink on the way another user planted or could swap (opened
 * through openInput: each link judged as it is followed), or what untrustedInput finds with the file as opened.
 */
function readConfigBytes(file: string, env: Record<string, string | undefined>): Buffer | null | ConfigProblem {
  // Opening a FIFO waits for its writer: one another user put where the config is looked for would hang every command
  // before the judge saw it — a FIFO is judged by its status first (and again as opened).
  const pre = statSync(file, { throwIfNoEntry: false });
  if (pre?.isFIFO()) {
    const early = untrustedConfig(file, pre, env, undefined);
    if (early !== null) return early;
  }
  const opened = openInput(file, constants.O_RDONLY, env);
  if ('problem' in opened) return configProblemOf(file, opened.problem);
  const { fd } = opened;
  try {
    const st = fstatSync(fd);
    // /proc/self/environ (the environment, secrets included) or a control file of sysfs: no config, never read.
    const pseudo = pseudoFsOfFd(fd);
    if (pseudo !== null) {
      const real = symlinkedTo(file);
      return wholeFileError(file, `the config file is on ${pseudo}, a kernel pseudo filesystem: not a hashall.yaml; nothing was read from it`, `check --config and HASHALL_CONFIG${real !== null ? ` (${file} is a symlink to ${real})` : ''}`);
    }
    const problem = untrustedConfig(file, st, env, fd);
    if (problem !== null) return problem;
    if (st.isFile() && st.size > CONFIG_MAX_BYTES) return null;
    return readInput(file, fd, st, { maxBytes: CONFIG_MAX_BYTES });
  } finally {
    closeSync(fd);
  }
}

/** Where `file` really is when it differs from its spelling (a symlink on the way), else null. */
function symlinkedTo(file: string): string | null {
  try {
    const real = realpathSync(file);
    return real === file ? null : real;
  } catch {
    return null;
  }
}

/** `--config`, then `$HASHALL_CONFIG`, then `./hashall.yaml`, resolved against `cwd`. */
export function resolveConfigPath(opt: string | undefined, env: Record<string, string | undefined>, cwd: string): string {
  const chosen = opt ?? (env.HASHALL_CONFIG || undefined) ?? 'hashall.yaml';
  return path.resolve(cwd, chosen);
}

/**
 * Values kept as templates and resolved only when used (secrets): a client's password (`client.password`, and each
 * instance's `clients.NAME.password`), notification URLs and headers.
 */
const isPassword = (p: (string | number)[]): boolean =>
  (p.length === 2 && p[0] === 'client' && p[1] === 'password') ||
  (p.length === 3 && p[0] === 'clients' && p[2] === 'password') ||
  (p[0] === 'notify' && (p[2] === 'url' || p[2] === 'headers'));

/** Runs every stage it can and returns all problems; `config` is null when any error was found. Never throws for bad input. */
export function checkConfig(file: string, opts: LoadOptions): CheckResult {
  const env = opts.offline ? {} : opts.env;
  const configPath = path.resolve(opts.cwd, file);
  let bytes: Buffer | null | ConfigProblem;
  try {
    bytes = readConfigBytes(configPath, opts.env);
  } catch (e) {
    const code = errnoCode(e);
    const problem: ConfigProblem =
      code === 'ENOENT' && undecodablePath(configPath) !== null
        ? wholeFileError(configPath, `config file not found: its path ${undecodablePath(configPath)!.words}`, undecodablePath(configPath)!.hint)
        : code === 'ENOENT'
        ? wholeFileError(configPath, 'config file not found', 'run `hashall init` to write a starter hashall.yaml, or pass --config FILE / set HASHALL_CONFIG')
        : code === 'EISDIR'
          ? wholeFileError(configPath, 'the config path is a folder, not a file', 'give the path of hashall.yaml itself (e.g. --config /etc/hashall/hashall.yaml)')
          : e instanceof FsError
            ? wholeFileError(configPath, `cannot read config file: ${e.message}`, e.hint ?? 'check the path and its permissions')
            : wholeFileError(configPath, `cannot read config file: it ${errnoWords(code, (e as Error).message)}`, 'check the path and its permissions');
    return { config: null, problems: [problem], unresolvedReferences: 0 };
  }
  if (bytes !== null && !Buffer.isBuffer(bytes)) return { config: null, problems: [bytes], unresolvedReferences: 0 };
  if (bytes === null) {
    const problem = wholeFileError(configPath, `the config file holds more than ${CONFIG_MAX_BYTES / (1 << 20)} MiB: not a hashall.yaml (a few KB)`, 'check the path given by --config or HASHALL_CONFIG');
    return { config: null, problems: [problem], unresolvedReferences: 0 };
  }
  const src = parseYamlSource(bytes.toString('utf8'), configPath);
  // Some other file (a key or a token behind a symlink, a wrong --config): one problem that shows nothing of it.
  const foreign = foreignDocument(src.doc, configPath, symlinkedTo(configPath));
  if (foreign !== null) return { config: null, problems: [foreign], unresolvedReferences: 0 };
  const problems: ConfigProblem[] = [...src.problems];
  // Syntax errors leave no document to check further; a value problem the YAML stage found (a folded list item) does.
  if (src.doc.errors.length > 0) return { config: null, problems: sortProblems(problems), unresolvedReferences: 0 };

  const plain = yamlData(src);
  if ('problem' in plain) return { config: null, problems: sortProblems([...problems, plain.problem]), unresolvedReferences: 0 };
  const data = plain.data;
  if (data === null || data === undefined) {
    problems.push(wholeFileError(configPath, 'the config file is empty', 'run `hashall init` for a starter file, or see examples/'));
    return { config: null, problems, unresolvedReferences: 0 };
  }
  const interpolated = interpolateEnv(data, env, isPassword, { offline: opts.offline === true });
  problems.push(...positionProblems(src, interpolated.problems));
  // A value whose variable is unset (or not read, offline) was left as written; its complaints would only repeat that.
  const unresolved = new Set([...interpolated.problems, ...interpolated.deferred.map((path) => ({ path }))].map((p) => p.path.join('\u0000')));
  const unresolvedReferences = interpolated.deferred.length;
  const schemaProblems = validateAgainstSchema(interpolated.data).filter((p) => !unresolved.has(p.path.join('\u0000')));
  problems.push(...positionProblems(src, schemaProblems));
  // Every problem at once: with schema errors, the cross-field rules still run on the parts that are valid.
  let checked: unknown = interpolated.data;
  let removed = new Set<string>();
  if (schemaProblems.length > 0) {
    const parts = validParts(interpolated.data, schemaProblems);
    if (!parts || validateAgainstSchema(parts.data).length > 0) return { config: null, problems: sortProblems(problems), unresolvedReferences };
    checked = parts.data;
    removed = parts.removedFilesystems;
  }

  const homeDir = opts.homeDir ?? (opts.offline ? homeWithoutEnv() : opts.env.HOME || os.homedir());
  const normalized = normalizeConfig(checked as RawConfig, {
    configPath,
    configHash: createHash('sha256').update(bytes).digest('hex'),
    homeDir,
    env,
  });
  const fsProblems = opts.offline ? [] : checkFilesystemPaths(normalized.config, opts);
  const later = [...normalized.problems, ...checkRules(normalized.config), ...fsProblems].filter((p) => !mentionsRemoved(p, removed) && !unresolved.has(p.path.join('\u0000')));
  problems.push(...positionProblems(src, later));
  const ok = !problems.some((p) => p.severity === 'error');
  return { config: ok ? normalized.config : null, problems: sortProblems(problems), unresolvedReferences };
}

/** Loads a valid config or throws ConfigError carrying every problem (errors and warnings). */
export function loadConfig(file: string, opts: LoadOptions): { config: HashallConfig; warnings: ConfigProblem[] } {
  const { config, problems } = checkConfig(file, opts);
  if (!config) {
    const errors = problems.filter((p) => p.severity === 'error');
    const notFound = errors.length === 1 && errors[0]?.message === 'config file not found';
    throw new ConfigError(
      notFound ? `config file not found: ${path.resolve(opts.cwd, file)}` : `invalid config ${path.resolve(opts.cwd, file)}: ${errors.length} error(s)`,
      // A missing file has no position worth printing: the message says it once.
      notFound ? [] : problems,
      { hint: notFound ? errors[0]?.hint : 'fix the problems above; `hashall validate` checks the file without doing anything else' },
    );
  }
  return { config, warnings: problems };
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
}
