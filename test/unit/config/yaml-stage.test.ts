// The YAML stage: syntax errors, tabs and duplicate keys are reported with exact positions, all at once.
import { describe, expect, it } from 'vitest';
import { checkText } from './temp-config.js';

describe('YAML stage', () => {
  it('reports a syntax error at its line and column', () => {
    const r = checkText('version: 1\nfilesystems:\n  a: { path: /a\nseeding: {}\n');
    expect(r.config).toBeNull();
    expect(r.errors.length).toBeGreaterThan(0);
    expect(r.errors[0]?.message).toMatch(/^YAML: /);
    expect(r.errors[0]?.line).toBe(4);
    expect(r.errors[0]?.file).toBe(r.file);
    expect(r.errors[0]?.hint).toBeTruthy();
  });

  it('rejects tabs used for indentation, pointing at the line', () => {
    const r = checkText('version: 1\nfilesystems:\n\ta:\n\t\tpath: /a\n');
    expect(r.errors[0]).toMatchObject({ line: 3, col: 1, message: 'YAML: Tabs are not allowed as indentation' });
    expect(r.errors[0]?.hint).toMatch(/spaces/);
  });

  it('rejects duplicate keys with the position of the second one and its key path', () => {
    const r = checkText('version: 1\nfilesystems:\n  a:\n    path: /a\n  b:\n    path: /b\n    path: /c\n');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ line: 7, col: 5, path: 'filesystems.b.path' });
    expect(r.errors[0]?.message).toMatch(/^duplicate key/);
  });

  it('reports several YAML problems at once', () => {
    const r = checkText('version: 1\nversion: 1\nfilesystems:\n  a:\n\t  path: /a\n');
    expect(r.errors.map((e) => e.line)).toEqual(expect.arrayContaining([2, 5]));
  });

  it('anchors and aliases that expand to too much (a "billion laughs" file) are a YAML error at the first alias, not a crash', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [prev, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'g'], ['g', 'h']]) levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    const r = checkText(['version: 1', ...levels, ''].join('\n'));
    expect(r.config).toBeNull();
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ line: 3, col: 8 });
    expect(r.errors[0]?.message).toMatch(/^YAML: its aliases expand to more than/);
    expect(r.errors[0]?.hint).toMatch(/write the values out/);
  });

  it('a few aliases that reuse a value are fine', () => {
    const r = checkText(['version: 1', 'filesystems:', '  a: &fs { path: /a }', 'x: *fs', ''].join('\n'));
    expect(r.errors.some((e) => e.message.startsWith('YAML'))).toBe(false);
  });

  it('what YAML itself says about a secret never quotes it: a tag, an alias, a folded line, a colon inside the value', () => {
    const base = 'version: 1\nfilesystems:\n  disk: { path: /srv }\nclient:\n  url: http://127.0.0.1:8080\n';
    const cases: [string, RegExp][] = [
      ['  password: !Hunter2Secret\n', /^YAML: Unresolved tag \(in a secret: its value is not shown\)$/],
      ['  password: *Hunter2Secret\n', /^YAML: an alias \(\*name\) with no anchor \(&name\) before it \(in a secret/],
      ['  password: Hunter2Secret\n    - Secret99\n', /the value \(a secret, not shown\) spans both lines/],
      ['  password: Hunter2Secret: Secret99\n', /./],
    ];
    for (const [line, message] of cases) {
      const r = checkText(base + line, {});
      expect(r.config, line).toBeNull();
      expect(r.errors.map((e) => e.message).join('\n'), line).toMatch(message);
      expect(JSON.stringify([...r.errors, ...r.warnings]), line).not.toMatch(/Hunter2|Secret99/);
      expect(r.errors.every((e) => e.path === 'client.password' || !e.path.startsWith('client.password')), line).toBe(true);
    }
    // An unknown tag on any value is an error (the value it marks is dropped), not a warning a cron log would bury.
    const tagged = checkText(base.replace('/srv', '!x /srv'), {});
    expect(tagged.errors.map((e) => [e.path, e.message])).toContainEqual(['filesystems.disk.path', 'YAML: Unresolved tag: !x']);
  });

  it('reports an empty file', () => {
    expect(checkText('# nothing\n').errors).toMatchObject([{ line: 1, col: 1, message: 'the config file is empty' }]);
  });
});
