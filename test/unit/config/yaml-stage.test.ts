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

  it('reports an empty file', () => {
    expect(checkText('# nothing\n').errors).toMatchObject([{ line: 1, col: 1, message: 'the config file is empty' }]);
  });
});
