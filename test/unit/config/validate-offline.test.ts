// `hashall validate --offline`: schema and cross-field checks only — no environment, no filesystem, no client — so a
// CI job without the secrets or the mounts can check every change of hashall.yaml (every shipped example included).
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { packageRoot } from '../../../src/config/schema.js';
import { tempDir } from './temp-config.js';

const root = packageRoot();
const shipped = [...readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.yaml')).map((f) => path.join(root, 'examples', f)), path.join(root, 'hashall.yaml')];

function write(text: string): string {
  const file = path.join(tempDir(), 'hashall.yaml');
  writeFileSync(file, text);
  return file;
}

describe('hashall validate --offline', () => {
  it('the examples need QBT_USER/QBT_PASSWORD without --offline (what CI lacks)', async () => {
    const r = await runCli(['validate', '--config', path.join(root, 'examples', 'docker-path-maps.yaml')], { env: {} });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('environment variable QBT_PASSWORD is not set');
  });

  for (const file of shipped) {
    it(`${path.relative(root, file)} passes with an empty environment, without a warning about the disks`, async () => {
      const r = await runCli(['validate', '--offline', '--config', file], { env: {}, cwd: '/' });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: valid \\(0 errors, 0 warnings; offline: schema and cross-field checks only`));
    });
  }

  it('checks the syntax of a ${VAR} reference without resolving it', async () => {
    const base = 'version: 1\nfilesystems:\n  disk: { path: /srv/x }\nclient:\n  url: http://127.0.0.1:8080\n  username: ${QBT_USER}\n';
    const ok = await runCli(['validate', '--offline', '--json', '--config', write(base + '  password: ${QBT_PASSWORD}\n')], { env: {} });
    expect(ok.code).toBe(0);
    const doc = JSON.parse(ok.stdout);
    expect(doc).toMatchObject({ ok: true, offline: true, errors: [], warnings: [], unresolvedReferences: 2 });
    const bad = await runCli(['validate', '--offline', '--config', write(base + '  password: ${QBT PASSWORD}\n')], { env: {} });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/:7:13: error: malformed variable reference \$\{QBT PASSWORD\} \[client\.password\]/);
    // A set variable is not read either: the reference stays a reference (a secret never reaches the output).
    const set = await runCli(['validate', '--offline', '--json', '--config', write(base + '  password: ${QBT_PASSWORD}\n')], { env: { QBT_USER: 'u', QBT_PASSWORD: 'hunter2' } });
    expect(JSON.parse(set.stdout).unresolvedReferences).toBe(2);
  });

  it('still reports schema and cross-field errors, all at once', async () => {
    const file = write('version: 1\nfilesystems:\n  disk: { path: /srv/x }\nsafety: { verify: fast }\nplacement: { default: nowhere }\n');
    const r = await runCli(['validate', '--offline', '--config', file], { env: {} });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${file}:4:19: error: invalid value "fast"`);
    expect(r.stderr).toContain(`${file}:5:23: error: placement.default names unknown filesystem "nowhere"`);
  });

  it('does not look at the filesystem: a seeding root that is a file or is missing is not checked', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'afile'), 'x');
    const text = `version: 1\nfilesystems:\n  disk: { path: ${dir} }\nseeding:\n  disk: [${dir}/afile, ${dir}/missing]\n`;
    const file = write(text);
    const online = await runCli(['validate', '--config', file], { env: {} });
    expect(online.code).toBe(3);
    expect(online.stderr).toContain('is not a directory');
    const offline = await runCli(['validate', '--offline', '--config', file], { env: {} });
    expect(offline.stderr).toBe('');
    expect(offline.code).toBe(0);
  });

  it('a value that is a reference (unknown offline) is not judged by its written form', async () => {
    const file = write('version: 1\nfilesystems:\n  disk: { path: /srv/x }\nclient:\n  url: ${QBT_URL}\n  timeout: ${QBT_TIMEOUT}\n');
    const r = await runCli(['validate', '--offline', '--config', file], { env: {} });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
