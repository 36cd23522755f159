// `plan --out FILE` on a filesystem that fills up while the plan is written (a real tmpfs, size=…): the error says the filesystem is full in words, exit 1, the temp file is removed and the plan saved before under that name is left as it was.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';

let tmp: TempDir | null = null;
afterEach(() => tmp?.cleanup());

describe('plan --out on a full filesystem', () => {
  it('says the filesystem is full (not ENOSPC), exits 1, leaves no temp file and the older plan under its name intact', async () => {
    tmp = makeTempDir('hashall-plan-out-full-');
    const base = tmp.path;
    mkdirSync(path.join(base, 'seeding'));
    writeFileSync(path.join(base, 'seeding', 'a.bin'), 'payload');
    const cfg = path.join(base, 'hashall.yaml');
    writeFileSync(cfg, `version: 1\ncatalog: ${base}/state/catalog.db\nfilesystems:\n  disk: { path: ${base} }\nseeding:\n  disk: [${base}/seeding]\n`);
    expect((await runCli(['scan', '--config', cfg], { cwd: base })).code).toBe(0);

    // The plans' folder: a real tmpfs holding an older plan, then filled so that only a few bytes of a new one fit.
    const plans = path.join(base, 'plans');
    mountTmpfs(plans, 64 * 1024);
    const file = path.join(plans, 'plan.json');
    const ok = await runCli(['plan', '--no-refresh', '--no-notify', '--config', cfg, '--out', file], { cwd: base });
    expect(ok.code, ok.stderr).toBe(0);
    const older = readFileSync(file);
    expect(older.length).toBeGreaterThan(100);
    try {
      writeFileSync(path.join(plans, 'fill'), Buffer.alloc(1024 * 1024));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    expect(statfsSync(plans).bavail).toBe(0);

    const r = await runCli(['plan', '--no-refresh', '--no-notify', '--config', cfg, '--out', file], { cwd: base });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot write plan file ${file}: it is on a full filesystem`);
    expect(r.stderr).not.toContain('ENOSPC');
    expect(r.stderr).toMatch(/hint: free space on the filesystem holding .*plans/);
    expect(readdirSync(plans).sort()).toEqual(['fill', 'plan.json']);
    expect(readFileSync(file).equals(older)).toBe(true);
  });

  it('on a filesystem mounted read-only: said in words (not EROFS), exit 1, the older plan intact', async () => {
    tmp = makeTempDir('hashall-plan-out-ro-');
    const base = tmp.path;
    mkdirSync(path.join(base, 'seeding'));
    writeFileSync(path.join(base, 'seeding', 'a.bin'), 'payload');
    const cfg = path.join(base, 'hashall.yaml');
    writeFileSync(cfg, `version: 1\ncatalog: ${base}/state/catalog.db\nfilesystems:\n  disk: { path: ${base} }\nseeding:\n  disk: [${base}/seeding]\n`);
    expect((await runCli(['scan', '--config', cfg], { cwd: base })).code).toBe(0);
    const plans = path.join(base, 'plans');
    mountTmpfs(plans, 1024 * 1024);
    const file = path.join(plans, 'plan.json');
    expect((await runCli(['plan', '--no-refresh', '--no-notify', '--config', cfg, '--out', file], { cwd: base })).code).toBe(0);
    const older = readFileSync(file);
    execFileSync('mount', ['-o', 'remount,ro', plans]);
    const r = await runCli(['plan', '--no-refresh', '--no-notify', '--config', cfg, '--out', file], { cwd: base });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot write plan file ${file}: it is on a filesystem mounted read-only`);
    expect(r.stderr).toContain('hint: give --out a path on a filesystem mounted read-write');
    expect(readdirSync(plans)).toEqual(['plan.json']);
    expect(readFileSync(file).equals(older)).toBe(true);
  });
});
