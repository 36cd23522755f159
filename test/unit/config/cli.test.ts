// `hashall validate` and `hashall init` through the real CLI: exit codes, stderr format, --json shape.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { tempDir } from './temp-config.js';

const valid = 'version: 1\nfilesystems:\n  disk: { path: /srv/hashall-test-missing }\n';
const invalid = 'version: 1\nfilesystems:\n  disk: { path: /srv/x }\nsafety: { verify: fast }\nplacement: { default: nowhere }\n';

function write(text: string): { dir: string; file: string } {
  const dir = tempDir();
  const file = path.join(dir, 'hashall.yaml');
  writeFileSync(file, text);
  return { dir, file };
}

describe('hashall validate', () => {
  it('exits 0 for a valid config, printing warnings with positions and a verdict', async () => {
    const { file } = write(valid);
    const r = await runCli(['validate', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${file}:3:17: warning: filesystem "disk" path /srv/hashall-test-missing does not exist (yet) [filesystems.disk.path]`);
    expect(r.stderr).toMatch(/\n {2}hint: /);
    expect(r.stdout).toBe(`${file}: valid (0 errors, 1 warning)\n`);
  });

  it('exits 3 for an invalid config and lists every problem', async () => {
    const { file } = write(invalid);
    const r = await runCli(['validate', '--config', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${file}:4:19: error: invalid value "fast": must be one of "full", "sample" [safety.verify]`);
    expect(r.stdout).toBe(`${file}: invalid (2 errors, 1 warning)\n`);
  });

  it('reports schema errors and the cross-field rule errors of the valid parts together', async () => {
    const { file } = write(invalid);
    const r = await runCli(['validate', '--config', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${file}:4:19: error: invalid value "fast"`);
    expect(r.stderr).toContain(`${file}:5:23: error: placement.default names unknown filesystem "nowhere" [placement.default]`);
    expect(r.stdout).toBe(`${file}: invalid (2 errors, 1 warning)\n`);
    // An invalid filesystem entry is reported once, not again as "unknown filesystem" wherever it is named.
    const fsBad = write('version: 1\nfilesystems:\n  disk: { pth: /srv/x }\n  other: { path: /srv/y }\nseeding:\n  disk: [/srv/x/seed]\nplacement: { default: cold }\n');
    const r2 = await runCli(['validate', '--config', fsBad.file]);
    expect(r2.stderr).not.toMatch(/unknown filesystem "disk"/);
    expect(r2.stderr).toContain('unknown filesystem "cold"');
  });

  it('a list item indented too far (folded into the item above as "a - b") is an error at its line and column', async () => {
    const { file } = write('version: 1\nfilesystems:\n  disk: { path: /srv/x }\nlibraries:\n  - /srv/x/movies\n    - /srv/x/shows\nplacement: { default: nowhere }\n');
    const r = await runCli(['validate', '--config', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${file}:6:5: error: this "- " continues the value above instead of starting a new list item: the value reads "/srv/x/movies - /srv/x/shows" [libraries[0]]`);
    // … reported together with everything else.
    expect(r.stderr).toContain('unknown filesystem "nowhere"');
  });

  it('a list item indented less than the one above is one error at its "- " naming the column to use, not three YAML errors', async () => {
    // Seen on a hand-edited config: YAML said "A block sequence may not be used as an implicit map key", "Implicit keys
    // need to be on a single line" and "Implicit map keys need to be followed by map values" (hint: "a closing bracket
    // or quote is missing") for one line indented a space too little.
    const { file } = write('version: 1\nfilesystems:\n  disk: { path: /srv/x }\nseeding:\n  disk:\n    - /srv/x/a\n   - /srv/x/b\nplacement: { default: nowhere }\n');
    const r = await runCli(['validate', '--config', file]);
    expect(r.code).toBe(3);
    const yamlErrors = r.stderr.split('\n').filter((l) => l.startsWith(`${file}:7:`));
    expect(yamlErrors).toEqual([`${file}:7:4: error: this "- " is indented less than the list item above it (line 6, column 5): YAML does not read it as an item of that list [seeding.disk]`]);
    expect(r.stderr).toContain('  hint: indent every "- item" of a list exactly like the first one: start this line\'s "- " at column 5');
    expect(r.stderr).not.toContain('closing bracket');
    // A top-level list too, and its valid parts are still checked.
    const top = write('version: 1\nfilesystems:\n  disk: { path: /srv/x }\nlibraries:\n    - /srv/x/a\n  - /srv/x/b\n');
    const r2 = await runCli(['validate', '--config', top.file]);
    expect(r2.code).toBe(3);
    expect(r2.stderr.split('\n').filter((l) => l.includes(': error: '))).toEqual([
      `${top.file}:6:3: error: this "- " is indented less than the list item above it (line 5, column 5): YAML does not read it as an item of that list [libraries]`,
    ]);
  });

  it('orphans: a bad action or minAge is an error at its line:col', async () => {
    const { file } = write('version: 1\nfilesystems:\n  disk: { path: /srv/x }\norphans:\n  action: delete\n  minAge: soon\n');
    const r = await runCli(['validate', '--config', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${file}:5:11: error: invalid value "delete": must be one of "report", "retire" [orphans.action]`);
    expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6:11: error: not a duration: "soon"`));
  });

  it('--json prints one document { ok, file, errors, warnings } on stdout', async () => {
    const { file } = write(invalid);
    const r = await runCli(['validate', '--json', '--config', file]);
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.stdout) as { ok: boolean; file: string; errors: unknown[]; warnings: unknown[] };
    expect(Object.keys(doc)).toEqual(['ok', 'file', 'errors', 'warnings']);
    expect(doc.ok).toBe(false);
    expect(doc.file).toBe(file);
    expect(doc.errors).toEqual([
      { severity: 'error', file, line: 4, col: 19, path: 'safety.verify', message: 'invalid value "fast": must be one of "full", "sample"', hint: 'use one of "full", "sample"' },
      { severity: 'error', file, line: 5, col: 23, path: 'placement.default', message: 'placement.default names unknown filesystem "nowhere"', hint: 'known filesystems: disk (or keep)' },
    ]);
    const ok = await runCli(['validate', '--json', '--config', write(valid).file]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, errors: [], warnings: [{ severity: 'warning', line: 3, col: 17 }] });
  });

  it('finds the file via $HASHALL_CONFIG, then ./hashall.yaml; a missing file suggests hashall init', async () => {
    const { dir, file } = write(valid);
    const viaEnv = await runCli(['validate'], { env: { HASHALL_CONFIG: file, HOME: '/root' }, cwd: '/' });
    expect(viaEnv.code).toBe(0);
    const viaCwd = await runCli(['validate'], { env: { HOME: '/root' }, cwd: dir });
    expect(viaCwd.stdout).toBe(`${file}: valid (0 errors, 1 warning)\n`);
    const empty = tempDir();
    const missing = await runCli(['validate'], { env: { HOME: '/root' }, cwd: empty });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`${empty}/hashall.yaml:1:1: error: config file not found`);
    expect(missing.stderr).toContain('hashall init');
  });

  it('a command without its config says so once, with the hint; apply --json also puts the error in the NDJSON stream', async () => {
    const empty = tempDir();
    const plan = await runCli(['plan'], { env: { HOME: '/root' }, cwd: empty });
    expect(plan.code).toBe(3);
    expect(plan.stderr).toBe(`hashall: config file not found: ${empty}/hashall.yaml\n  hint: run \`hashall init\` to write a starter hashall.yaml, or pass --config FILE / set HASHALL_CONFIG\n`);
    const apply = await runCli(['apply', '--auto-approve', '--json'], { env: { HOME: '/root' }, cwd: empty });
    expect(apply.code).toBe(3);
    expect(apply.stderr).toBe(plan.stderr);
    expect(apply.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { type: 'error', message: `config file not found: ${empty}/hashall.yaml`, hint: expect.stringContaining('hashall init'), exitCode: 3, problems: [] },
    ]);
  });
});

describe('hashall init', () => {
  it('writes a starter hashall.yaml from this machine\'s mounts that validates, and never overwrites it', async () => {
    const dir = tempDir();
    const r = await runCli(['init', '--path', dir]);
    expect(r.code).toBe(0);
    const file = path.join(dir, 'hashall.yaml');
    expect(r.stdout).toBe(file + '\n');
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^# yaml-language-server: \$schema=\/.*schemas\/hashall\.schema\.json\n/);
    expect(text).toContain('/proc/self/mountinfo');
    const v = await runCli(['validate', '--json', '--config', file]);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, errors: [] });
    expect(v.code).toBe(0);

    writeFileSync(file, '# mine\n');
    const again = await runCli(['init', '--path', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists; not overwriting it');
    expect(readFileSync(file, 'utf8')).toBe('# mine\n');
  });

  it('--json: the file written, the filesystems found and the free-space margin as one document; the text names odd paths escaped', async () => {
    const dir = path.join(tempDir(), 'odd\nname');
    mkdirSync(dir);
    const r = await runCli(['init', '--json', '--path', dir]);
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(dir, 'hashall.yaml');
    const doc = JSON.parse(r.stdout) as { file: string; filesystems: { name: string; path: string; fsType: string }[]; minFree: { text: string; why: string } };
    expect(doc).toMatchObject({ file, minFree: { text: expect.any(String), why: expect.any(String) } });
    expect(Array.isArray(doc.filesystems)).toBe(true);
    expect(r.stderr).toBe('');
    rmSync(file);
    const text = await runCli(['init', '--path', dir]);
    expect(text.stdout).toBe(file.replace('\n', '\\n') + '\n');
    expect(text.stderr).toMatch(/^wrote .*odd\\nname\/hashall\.yaml \(/);
    const v = await runCli(['validate', '--offline', '--config', file]);
    expect(v.stdout).toMatch(/^\S*odd\\nname\/hashall\.yaml: valid \(/);
  });

  it('fails with exit 1 when the directory does not exist', async () => {
    const dir = path.join(tempDir(), 'nope');
    const r = await runCli(['init', '--path', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot write');
    expect(existsSync(dir)).toBe(false);
  });
});

describe('hashall validate: a config that is not a config file', () => {
  it('a device or a file past 1 MiB is an error at 1:1 (exit 3), read no further; a folder is an error too', async () => {
    // /dev/zero never ends: before, validate read it until memory ran out.
    const dev = await runCli(['validate', '--config', '/dev/zero']);
    expect(dev.code).toBe(3);
    expect(dev.stderr).toContain('/dev/zero:1:1: error: the config file holds more than 1 MiB: not a hashall.yaml (a few KB)');
    // A regular file is judged by its size before it is read: valid YAML (comments) past the limit is refused too.
    const { dir, file } = write('version: 1\nfilesystems:\n  disk: { path: /srv/x }\n' + '# padding\n'.repeat(110_000));
    const big = await runCli(['validate', '--config', file]);
    expect(big.code).toBe(3);
    expect(big.stderr).toContain(`${file}:1:1: error: the config file holds more than 1 MiB`);
    const folder = await runCli(['validate', '--config', dir]);
    expect(folder.code).toBe(3);
    expect(folder.stderr).toContain(`${dir}:1:1: error: the config path is a folder, not a file`);
    // Just under the limit still reads.
    writeFileSync(file, valid + '#'.repeat((1 << 20) - valid.length - 1) + '\n');
    const edge = await runCli(['validate', '--config', file]);
    expect(edge.code).toBe(0);
  });
});
