// Parses hashall.yaml text with node positions and maps key paths back to file line:col (pure).
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { ConfigProblem } from '../errors.js';
import { formatKeyPath, uptoSecret, type KeyPath, type RawProblem } from './problem.js';

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** Problems of the YAML stage itself: syntax errors, tabs, duplicate keys. */
  problems: ConfigProblem[];
}

const YAML_HINTS: Record<string, string> = {
  TAB_AS_INDENT: 'indent with spaces; YAML does not allow tabs for indentation',
  DUPLICATE_KEY: 'each key may appear once in a mapping; remove or merge the duplicate',
  BAD_INDENT: 'check the indentation of this line against its parent',
  MISSING_CHAR: 'a closing bracket or quote is missing',
  UNEXPECTED_TOKEN: 'check the syntax of this line',
  BLOCK_AS_IMPLICIT_KEY: 'a key must fit on one line; check indentation and quoting',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line; check indentation and quoting',
};

export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, keepSourceTokens: false });
  const problems: ConfigProblem[] = [];
  const shallow = shallowListItems(text, doc, lineCounter, file);
  problems.push(...shallow.values());
  for (const [level, list] of [['error', doc.errors], ['warning', doc.warnings]] as const) {
    for (const e of list) {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      // Said once, as what it is (YAML reports it as three errors about implicit keys).
      if (shallow.has(line)) continue;
      const at = uptoSecret(keyPathAt(doc, e.pos[0]));
      const full = e.message.split('\n')[0] ?? e.message;
      // Within a secret, YAML's own words quote its text ("Unresolved tag: !…"): only what went wrong is said.
      const message = at.secret ? `${full.split(':')[0]} (in a secret: its value is not shown)` : full;
      // An unknown tag (`!x`) drops the value it marks (an empty password, an empty path): never a mere warning.
      const severity = e.code === 'TAG_RESOLVE_FAILED' ? 'error' : level;
      problems.push({
        severity,
        file,
        line,
        col,
        path: formatKeyPath(at.path),
        message: e.code === 'DUPLICATE_KEY' ? `duplicate key: ${message}` : `YAML: ${message}`,
        hint: e.code === 'TAG_RESOLVE_FAILED' ? 'hashall.yaml uses no YAML tags: quote a value that starts with "!"' : (YAML_HINTS[e.code] ?? 'fix the YAML syntax at this position'),
      });
    }
  }
  problems.push(...foldedListItems(text, doc, lineCounter, file));
  return { file, doc, lineCounter, problems };
}

/** How many times the document may repeat an anchored value: plenty for a config that reuses a path map or two. */
const MAX_ALIAS_COUNT = 100;

/**
 * The document as plain data, or the problem that stopped it: anchors and aliases that would expand to more than a
 * config can hold (a "billion laughs" file, megabytes from a few lines) are a YAML error at the first alias.
 */
export function yamlData(src: YamlSource): { data: unknown } | { problem: ConfigProblem } {
  try {
    return { data: src.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown };
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    let at = 0;
    visit(src.doc, {
      Alias(_key, node) {
        at = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    const { line, col } = src.lineCounter.linePos(at);
    const where = uptoSecret(keyPathAt(src.doc, at));
    // yaml throws a ReferenceError for an alias with no anchor before it too (`password: *abc`, a value that starts with "*").
    const unresolved = /unresolved alias/i.test(err.message);
    return {
      problem: {
        severity: 'error',
        file: src.file,
        line,
        col,
        path: formatKeyPath(where.path),
        message: unresolved
          ? `YAML: an alias (*name) with no anchor (&name) before it${where.secret ? ' (in a secret: its value is not shown)' : ''}`
          : `YAML: its aliases expand to more than ${MAX_ALIAS_COUNT} copies of their anchors`,
        hint: unresolved ? 'quote a value that starts with "*"' : 'write the values out, or use fewer aliases: a hashall.yaml needs few or none',
      },
    };
  }
}

/**
 * A list item indented less than the one above it (`    - /a` then `   - /b`) ends that list: YAML then reports the
 * line as three errors about "implicit keys" (with a hint about a missing bracket). Each such line, by its number, as
 * one error at its "- " naming the column the list's items start at.
 */
function shallowListItems(text: string, doc: Document.Parsed, lineCounter: LineCounter, file: string): Map<number, ConfigProblem> {
  const out = new Map<number, ConfigProblem>();
  const lines = text.split('\n');
  for (const e of doc.errors) {
    if (e.code !== 'BLOCK_AS_IMPLICIT_KEY') continue;
    const { line } = lineCounter.linePos(e.pos[0]);
    const indent = /^( *)- /.exec(lines[line - 1] ?? '')?.[1]?.length;
    if (indent === undefined || out.has(line)) continue;
    // The nearest list item above it that is indented deeper, before any line at or left of this one's indent.
    for (let above = line - 1; above >= 1; above--) {
      const l = lines[above - 1]!;
      if (/^\s*(#.*)?$/.test(l)) continue;
      const own = /^ */.exec(l)![0].length;
      if (own <= indent) break;
      if (!/^ *- /.test(l)) continue;
      const at = uptoSecret(keyPathAt(doc, (lineCounter.lineStarts[above - 1] ?? 0) + own));
      const listPath = typeof at.path[at.path.length - 1] === 'number' ? at.path.slice(0, -1) : at.path;
      out.set(line, {
        severity: 'error',
        file,
        line,
        col: indent + 1,
        path: formatKeyPath(listPath),
        message: `this "- " is indented less than the list item above it (line ${above}, column ${own + 1}): YAML does not read it as an item of that list`,
        hint: `indent every "- item" of a list exactly like the first one: start this line's "- " at column ${own + 1}`,
      });
      break;
    }
  }
  return out;
}

/**
 * A list item indented deeper than the one before (`- /a` then `  - /b`) is no second item: YAML folds it into the
 * first, a plain scalar spanning two lines, and the value silently becomes one path "/a - /b". Found from the source
 * positions: a plain scalar whose continuation line starts with "- ".
 */
function foldedListItems(text: string, doc: Document.Parsed, lineCounter: LineCounter, file: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  visit(doc, {
    Scalar(_key, node, path) {
      if (node.type !== 'PLAIN' || !node.range || typeof node.value !== 'string') return;
      const source = text.slice(node.range[0], node.range[1]);
      const m = /\n([ \t]*)- /.exec(source);
      if (!m) return;
      const { line, col } = lineCounter.linePos(node.range[0] + m.index + 1 + m[1]!.length);
      const keys: KeyPath = [];
      for (const [i, anc] of path.entries()) {
        const child = path[i + 1] ?? node;
        if (isMap(anc)) {
          const pair = anc.items.find((p) => p === child);
          if (pair && isScalar(pair.key)) keys.push(String(pair.key.value));
        } else if (isSeq(anc)) keys.push(anc.items.indexOf(child as never));
      }
      const at = uptoSecret(keys);
      out.push({
        severity: 'error',
        file,
        line,
        col,
        path: formatKeyPath(at.path),
        message: `this "- " continues the value above instead of starting a new list item: ${at.secret ? 'the value (a secret, not shown) spans both lines' : `the value reads ${JSON.stringify(node.value)}`}`,
        hint: 'indent every "- item" of a list exactly like the first one (or quote the value if the " - " is meant)',
      });
    },
  });
  return out;
}

/** The key path of the innermost node containing `offset` (for naming where a YAML error is). */
function keyPathAt(doc: Document.Parsed, offset: number): KeyPath {
  const path: KeyPath = [];
  let node: unknown = doc.contents;
  for (let depth = 0; depth < 64 && node; depth++) {
    let next: unknown = null;
    // A node's range ends where the next one starts: an offset on that boundary (a duplicate key right after its
    // first) belongs to the later node, so the last one holding it wins — never a key inside the one before.
    let key: string | number | null = null;
    if (isMap(node)) {
      for (const pair of node.items) {
        const k = pair.key as Node | null;
        const v = pair.value as Node | null;
        const start = k?.range?.[0] ?? v?.range?.[0];
        const end = v?.range?.[2] ?? k?.range?.[2];
        if (start !== undefined && end !== undefined && offset >= start && offset <= end) {
          key = isScalar(k) ? String(k.value) : '?';
          next = v;
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const r = (item as Node | null)?.range;
        if (r && offset >= r[0] && offset <= r[2]) {
          key = i;
          next = item;
        }
      });
    }
    if (key !== null) path.push(key);
    node = next;
  }
  return path;
}

/**
 * Position of the node at `path` (or of its key when `atKey`); walks up to the nearest existing
 * ancestor when the path does not exist in the file (e.g. a missing required key).
 */
export function positionOf(src: YamlSource, path: KeyPath, atKey = false): { line: number; col: number } {
  let node: unknown = src.doc.contents;
  let best: [number, number, number] | undefined = (node as Node | null)?.range ?? undefined;
  for (let i = 0; i < path.length && node; i++) {
    const seg = path[i];
    let next: unknown = null;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair) {
        const isLast = i === path.length - 1;
        const keyRange = (pair.key as Node).range;
        const valueRange = (pair.value as Node | null)?.range;
        if (isLast && (atKey || !valueRange)) best = keyRange ?? best;
        else best = valueRange ?? keyRange ?? best;
        next = pair.value;
      }
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (item?.range) best = item.range;
      next = item ?? null;
    }
    node = next;
  }
  return best ? src.lineCounter.linePos(best[0]) : { line: 1, col: 1 };
}

/** Attaches file, line and col to problems found by key path. */
export function positionProblems(src: YamlSource, raw: RawProblem[]): ConfigProblem[] {
  return raw.map((p) => {
    const { line, col } = positionOf(src, p.path, p.atKey);
    const out: ConfigProblem = { severity: p.severity, file: src.file, line, col, path: formatKeyPath(p.path), message: p.message };
    if (p.hint) out.hint = p.hint;
    return out;
  });
}
