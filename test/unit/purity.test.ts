// The dependency rule: the import graph of domain/policy/plan/render (except *-io.ts) and of PURE_FILES reaches no fs,
// SQLite, network, child process or worker module, and no reached file uses Date.now, Math.random or process.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PURE_DIRS = ['src/domain', 'src/policy', 'src/plan', 'src/render'];
/** Pure modules inside impure rooms (the scanner's per-file decisions). */
const PURE_FILES = ['src/catalog/scan/decide.ts'];
const FORBIDDEN = /^(node:)?(fs|fs\/promises|net|http|https|http2|dgram|child_process|worker_threads|cluster|os)$|^better-sqlite3$|^execa$/;
const FORBIDDEN_CODE: [RegExp, string][] = [
  [/\bDate\.now\b/, 'Date.now'],
  [/\bnew Date\(\s*\)/, 'new Date()'],
  [/\bMath\.random\b/, 'Math.random'],
  [/(?<![.\w$])process\b/, 'process'],
];

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

export function importsOf(src: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;
  for (let m = re.exec(src); m; m = re.exec(src)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

/** Walk the graph from `entries` over relative imports; report every forbidden specifier or code use. */
export function findImpurities(entries: string[], read: (file: string) => string | null): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const src = read(file);
    if (src === null) {
      problems.push(`${file}: cannot resolve`);
      continue;
    }
    const code = stripComments(src);
    // A type-only import is erased by the compiler: it runs nothing, so the walk does not follow it.
    const typesOnly = typeOnlyImports(code);
    for (const spec of importsOf(code)) {
      if (typesOnly.has(spec)) continue;
      if (spec.startsWith('.')) {
        const target = path.normalize(path.join(path.dirname(file), spec.replace(/\.js$/, '.ts')));
        queue.push(target);
      } else if (FORBIDDEN.test(spec)) problems.push(`${file} imports ${spec}`);
    }
    for (const [re, what] of FORBIDDEN_CODE) if (re.test(code)) problems.push(`${file} uses ${what}`);
  }
  return problems.sort();
}

function listTs(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts') && !d.name.endsWith('-io.ts'))
    .map((d) => path.relative(ROOT, path.join(d.parentPath, d.name)));
}

const readRepo = (file: string): string | null => {
  const abs = path.join(ROOT, file);
  return existsSync(abs) ? readFileSync(abs, 'utf8') : null;
};

describe('purity of the planner layers', () => {
  it('finds the pure modules it is meant to check', () => {
    const files = PURE_DIRS.flatMap(listTs);
    expect(files).toContain(path.join('src', 'plan', 'build.ts'));
    expect(files).toContain(path.join('src', 'render', 'plan-text.ts'));
    expect(files).not.toContain(path.join('src', 'plan', 'plan-file-io.ts'));
  });

  it('no pure module reaches fs, SQLite, network, processes, the clock or randomness', () => {
    expect(findImpurities([...PURE_DIRS.flatMap(listTs), ...PURE_FILES], readRepo)).toEqual([]);
  });

  it('the checker itself catches impure imports, transitive ones, and clock/process use', () => {
    const fake: Record<string, string> = {
      'src/plan/a.ts': "import { x } from './b.js';\nimport { y } from '../domain/t.js';\nimport type { R } from '../catalog/r.js';\n// Date.now() in a comment is fine\n",
      'src/plan/b.ts': "import Database from 'better-sqlite3';\nexport const x = () => Date.now();\n",
      'src/domain/t.ts': "export type T = number;\nconst cwd = process.cwd();\nimport('node:fs');\n",
    };
    expect(findImpurities(['src/plan/a.ts'], (f) => fake[f] ?? null)).toEqual([
      'src/domain/t.ts imports node:fs',
      'src/domain/t.ts uses process',
      'src/plan/b.ts imports better-sqlite3',
      'src/plan/b.ts uses Date.now',
    ]);
  });
});

/**
 * Rooms a room may never import (the pipeline runs config → catalog/clients → plan → apply → render → cli, and
 * `reconcile`, the orchestration — refresh, read, plan, apply side by side — joins them for the commands).
 * `all`: not even a type; `code`: no value import (the pure rooms may name the data types of the rooms they describe).
 */
const LAYERS: Record<string, { all: string[]; code: string[] }> = {
  fs: { all: ['plan', 'apply', 'reconcile', 'cli', 'render', 'demo', 'sandbox'], code: [] },
  config: { all: ['plan', 'apply', 'reconcile', 'cli', 'render', 'demo', 'sandbox'], code: [] },
  clients: { all: ['plan', 'apply', 'reconcile', 'cli', 'render', 'demo', 'sandbox'], code: [] },
  catalog: { all: ['plan', 'apply', 'reconcile', 'cli', 'render', 'demo', 'sandbox'], code: [] },
  domain: { all: ['apply', 'reconcile', 'cli', 'render', 'demo', 'sandbox'], code: ['fs', 'config', 'clients', 'catalog', 'policy', 'plan'] },
  policy: { all: ['apply', 'reconcile', 'cli', 'render', 'demo', 'sandbox'], code: ['fs', 'clients', 'catalog', 'plan'] },
  plan: { all: ['apply', 'reconcile', 'cli', 'render', 'demo', 'sandbox'], code: ['fs', 'clients', 'catalog'] },
  render: { all: ['cli', 'demo', 'sandbox'], code: ['fs', 'clients', 'catalog', 'apply', 'reconcile'] },
  apply: { all: ['reconcile', 'cli', 'render', 'demo'], code: [] },
  notify: { all: ['reconcile', 'cli', 'demo', 'sandbox'], code: [] },
  reconcile: { all: ['cli', 'demo', 'sandbox'], code: [] },
};

/** Specifiers imported only as types (`import type … from`, `export type … from`). */
function typeOnlyImports(src: string): Set<string> {
  const out = new Set<string>();
  const re = /(?:^|[\s;])(?:import|export)\s+type\s[^'"]*?from\s*['"]([^'"]+)['"]/gm;
  for (let m = re.exec(src); m; m = re.exec(src)) out.add(m[1]!);
  return out;
}

/** Every relative import of a src file that lands in a room it may not use, or outside src (e.g. test/). */
export function layerViolations(files: string[], read: (file: string) => string | null): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const room = file.split(path.sep)[1] ?? '';
    const banned = LAYERS[room] ?? { all: [], code: [] };
    const code = stripComments(read(file) ?? '');
    const typesOnly = typeOnlyImports(code);
    for (const spec of importsOf(code)) {
      if (!spec.startsWith('.')) continue;
      const target = path.normalize(path.join(path.dirname(file), spec));
      const [top, to] = target.split(path.sep);
      if (top !== 'src') problems.push(`${file} imports ${target} (src never imports outside src)`);
      else if (to !== undefined && banned.all.includes(to)) problems.push(`${file} (${room}) imports ${target} (${to})`);
      else if (to !== undefined && banned.code.includes(to) && !typesOnly.has(spec)) problems.push(`${file} (${room}) imports code from ${target} (${to})`);
    }
  }
  return problems.sort();
}

describe('layering of the rooms', () => {
  const allSrc = (): string[] =>
    readdirSync(path.join(ROOT, 'src'), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith('.ts'))
      .map((d) => path.relative(ROOT, path.join(d.parentPath, d.name)));

  it('no room imports a room above it, and nothing in src imports test/', () => {
    const files = allSrc();
    expect(files.length).toBeGreaterThan(50);
    expect(layerViolations(files, readRepo)).toEqual([]);
  });

  it('the rule fails on a deliberately wrong import', () => {
    const fake: Record<string, string> = {
      'src/catalog/snapshot.ts': "import { detailNeeds } from '../plan/needs.js';\nimport type { X } from '../domain/x.js';\n",
      'src/demo/seedbox.ts': "import { startQbt } from '../../test/support/qbt-sandbox.js';\n",
      'src/fs/walk.ts': "// import { x } from '../apply/y.js' in a comment is fine\nexport const w = 1;\n",
      'src/apply/x.ts': "export { main } from '../cli/main.js';\n",
      'src/render/r.ts': "import type { Row } from '../catalog/rows.js';\nimport { readRows } from '../catalog/read.js';\n",
      'src/clients/c.ts': "import type { Plan } from '../plan/types.js';\n",
      'src/catalog/sync.ts': "import { makePlan } from '../reconcile/plan.js';\n",
      'src/apply/run.ts': "import type { RunApplyInput } from '../reconcile/apply.js';\n",
      'src/reconcile/plan.ts': "import { refreshOutput } from '../cli/refresh-output.js';\nimport { readSnapshot } from '../catalog/snapshot.js';\n",
    };
    expect(layerViolations(Object.keys(fake), (f) => fake[f] ?? null)).toEqual([
      'src/apply/run.ts (apply) imports src/reconcile/apply.js (reconcile)',
      'src/apply/x.ts (apply) imports src/cli/main.js (cli)',
      'src/catalog/snapshot.ts (catalog) imports src/plan/needs.js (plan)',
      'src/catalog/sync.ts (catalog) imports src/reconcile/plan.js (reconcile)',
      'src/clients/c.ts (clients) imports src/plan/types.js (plan)',
      'src/demo/seedbox.ts imports test/support/qbt-sandbox.js (src never imports outside src)',
      'src/reconcile/plan.ts (reconcile) imports src/cli/refresh-output.js (cli)',
      'src/render/r.ts (render) imports code from src/catalog/read.js (catalog)',
    ]);
  });
});

/**
 * SQL on the raw database handle, outside src/catalog: only in the modules that own a table (the run journal and
 * its reader, the apply lock, the notification record). The rest of src goes through their named queries.
 */
const TABLE_OWNERS_OUTSIDE_CATALOG: Record<string, string> = {
  'src/apply/journal.ts': 'runs, run_groups, run_steps, run_step_undo: written as a run goes',
  'src/apply/run-store.ts': 'runs and their groups and steps: read back, acknowledged, marked interrupted',
  'src/apply/lock.ts': 'apply_lock',
  'src/notify/state.ts': 'run_notifications, notify_state',
};

/** Files outside src/catalog that prepare SQL, exec it or set a pragma on a database handle. */
export function rawSqlUsers(files: string[], read: (file: string) => string | null): string[] {
  return files.filter((f) => !f.startsWith(`src${path.sep}catalog${path.sep}`) && /\.prepare\(|\bdb\.(exec|pragma)\(/.test(stripComments(read(f) ?? ''))).sort();
}

describe('one owner per table', () => {
  const allSrc = (): string[] =>
    readdirSync(path.join(ROOT, 'src'), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith('.ts'))
      .map((d) => path.relative(ROOT, path.join(d.parentPath, d.name)));

  it('outside src/catalog only the owners listed touch the raw database handle', () => {
    const users = rawSqlUsers(allSrc(), readRepo);
    expect(users.filter((f) => !(f.split(path.sep).join('/') in TABLE_OWNERS_OUTSIDE_CATALOG))).toEqual([]);
    // An entry whose file no longer touches the handle is stale: remove it.
    expect(Object.keys(TABLE_OWNERS_OUTSIDE_CATALOG).filter((f) => !users.map((u) => u.split(path.sep).join('/')).includes(f))).toEqual([]);
  });

  it('the rule fails on SQL outside the owners', () => {
    const fake: Record<string, string> = {
      'src/apply/steps/retire.ts': "const r = ctx.catalog.db.prepare(`SELECT repointed_at FROM relocations WHERE id = ?`).get(id);\n",
      'src/catalog/relocations.ts': 'db.prepare(`SELECT 1`);\n',
      'src/cli/x.ts': "// db.prepare('x') in a comment is fine\nconst m = /a/.exec(s);\n",
      'src/apply/y.ts': "deps.catalog.db.pragma('synchronous = FULL');\n",
    };
    expect(rawSqlUsers(Object.keys(fake), (f) => fake[f] ?? null)).toEqual([path.join('src', 'apply', 'steps', 'retire.ts'), path.join('src', 'apply', 'y.ts')]);
  });
});
