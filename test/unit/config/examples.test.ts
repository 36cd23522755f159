// Every shipped example (examples/*.yaml and the top-level hashall.yaml) validates, and the README's configuration reference documents the schema: every key, nested ones too, and every default.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../../src/config/load.js';
import { loadSchema, packageRoot } from '../../../src/config/schema.js';

const root = packageRoot();
const examples = readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.yaml')).map((f) => path.join(root, 'examples', f));
const env = { HOME: '/home/tester', QBT_PASSWORD: 'secret', QBT_USER: 'admin' };

describe('shipped configs', () => {
  it('ships the required examples', () => {
    const names = examples.map((f) => path.basename(f));
    expect(names).toEqual(expect.arrayContaining(['zfs-stash-pool.yaml', 'docker-path-maps.yaml', 'single-disk.yaml']));
  });

  for (const file of [...examples, path.join(root, 'hashall.yaml')]) {
    it(`${path.relative(root, file)} validates with no errors and points editors at the schema`, () => {
      const text = readFileSync(file, 'utf8');
      const ref = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text)?.[1];
      expect(ref).toBeDefined();
      expect(path.resolve(path.dirname(file), ref ?? '')).toBe(path.join(root, 'schemas', 'hashall.schema.json'));
      const r = checkConfig(file, { env, cwd: root });
      expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
      // Their directories do not exist on a test machine: only "does not exist" warnings (and no others).
      expect(r.problems.filter((p) => !/does not exist/.test(p.message))).toEqual([]);
      expect(r.config).not.toBeNull();
    });
  }

  it('every schema property has a description', () => {
    const missing: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (!node || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      for (const [k, v] of Object.entries((n.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        if (typeof v.description !== 'string' || !v.description) missing.push(`${at}.${k}`);
        walk(v, `${at}.${k}`);
      }
      for (const key of ['additionalProperties', 'items']) if (n[key] && typeof n[key] === 'object') walk(n[key], `${at}.${key}`);
    };
    const schema = loadSchema();
    walk(schema, '');
    walk((schema.definitions as Record<string, unknown>).filesystem, 'definitions.filesystem');
    expect(missing).toEqual([]);
  });

  it('the README "Configuration reference" section mentions every top-level schema property', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const start = readme.indexOf('## Configuration reference');
    expect(start).toBeGreaterThan(-1);
    const next = readme.indexOf('\n## ', start + 1);
    const section = readme.slice(start, next === -1 ? undefined : next);
    const keys = Object.keys(loadSchema().properties as object);
    expect(keys.length).toBeGreaterThan(8);
    expect(keys.filter((k) => !section.includes('`' + k + '`'))).toEqual([]);
  });

  /** The README's configuration reference table: top-level key → its meaning and default cells. */
  function referenceRows(): Map<string, { meaning: string; defaults: string }> {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const start = readme.indexOf('## Configuration reference');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const rows = new Map<string, { meaning: string; defaults: string }>();
    for (const line of section.split('\n')) {
      const m = /^\| `([A-Za-z]+)` \| (.*) \| ([^|]*) \|$/.exec(line);
      if (m) rows.set(m[1]!, { meaning: m[2]!, defaults: m[3]! });
    }
    return rows;
  }

  type SchemaNode = Record<string, unknown>;
  const definitions = loadSchema().definitions as Record<string, SchemaNode>;
  const resolve = (n: SchemaNode): SchemaNode => (typeof n.$ref === 'string' ? resolve(definitions[n.$ref.split('/').pop()!]!) : n);
  /** Every property name below a schema node (through arrays, maps and $refs), with the scalar defaults met on the way. */
  function nested(node: SchemaNode, names: Set<string>, defaults: [string, unknown][]): void {
    const n = resolve(node);
    for (const [k, v] of Object.entries((n.properties ?? {}) as Record<string, SchemaNode>)) {
      names.add(k);
      if (['string', 'number', 'boolean'].includes(typeof v.default)) defaults.push([k, v.default]);
      nested(v, names, defaults);
    }
    for (const key of ['additionalProperties', 'items']) if (n[key] && typeof n[key] === 'object') nested(n[key] as SchemaNode, names, defaults);
    for (const key of ['oneOf', 'anyOf', 'allOf']) for (const alt of (n[key] ?? []) as SchemaNode[]) nested(alt, names, defaults);
  }

  it('each row of the reference shows the nested keys its schema property has ({ a, b: { c } }), and no key the schema lacks', () => {
    const rows = referenceRows();
    const props = loadSchema().properties as Record<string, SchemaNode>;
    expect([...rows.keys()].sort()).toEqual(Object.keys(props).sort());
    const mismatched: Record<string, { readme: string[]; schema: string[] }> = {};
    for (const [key, { meaning }] of rows) {
      // `clients`: "the same settings as `client`".
      const same = /the same settings as `([A-Za-z]+)`/.exec(meaning)?.[1];
      const text = (same ? rows.get(same)!.meaning : meaning).replace(/`/g, '');
      const open = text.indexOf('{');
      let shown: string[] = [];
      if (open !== -1) {
        let depth = 0;
        let end = open;
        for (; end < text.length; end++) {
          if (text[end] === '{') depth++;
          if (text[end] === '}' && --depth === 0) break;
        }
        shown = [...text.slice(open, end + 1).matchAll(/(?<=[{,]\s*)([A-Za-z]+)\??(?=\s*[:,}])/g)].map((m) => m[1]!);
      }
      const names = new Set<string>();
      nested(props[key]!, names, []);
      const schema = [...names].sort();
      const readme = [...new Set(shown)].sort();
      if (JSON.stringify(schema) !== JSON.stringify(readme)) mismatched[key] = { readme, schema };
    }
    expect(mismatched).toEqual({});
  });

  it("each row's default column states the schema's default of every key below it (`72h`, or `auto: false`)", () => {
    const rows = referenceRows();
    const missing: string[] = [];
    for (const [key, node] of Object.entries(loadSchema().properties as Record<string, SchemaNode>)) {
      const defaults: [string, unknown][] = [];
      nested(node, new Set(), defaults);
      const same = /the same settings as `([A-Za-z]+)`/.exec(rows.get(key)?.meaning ?? '')?.[1];
      const cell = rows.get(same ?? key)?.defaults ?? '';
      for (const [k, v] of defaults) if (!cell.includes('`' + String(v) + '`') && !cell.includes('`' + k + ': ' + String(v) + '`')) missing.push(`${key} … ${k}: ${String(v)}`);
    }
    expect(missing).toEqual([]);
  });
});
