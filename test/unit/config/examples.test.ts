// Every shipped example (examples/*.yaml and the top-level hashall.yaml) validates, and the README documents the schema.
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
});
