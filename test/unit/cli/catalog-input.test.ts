// A catalog whose filesystem is full before a command opens it: said as a full disk with what to free (exit 1), not as a path or permission problem; the catalog unchanged.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';

let tmp: TempDir | null = null;
afterEach(() => tmp?.cleanup());

const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

describe('the catalog on a full filesystem', () => {
  it('every command that opens it says the filesystem is full and to free space there; nothing is written to it', async () => {
    tmp = makeTempDir('hashall-catalog-input-');
    const base = tmp.path;
    mkdirSync(path.join(base, 'seeding'));
    writeFileSync(path.join(base, 'seeding', 'a.bin'), 'payload');
    const cfgText = (catalog: string): string => `version: 1\ncatalog: ${catalog}\nfilesystems:\n  disk: { path: ${base} }\nseeding:\n  disk: [${base}/seeding]\n`;
    // A real catalog, made on the roomy disk, then copied onto a small tmpfs that is then filled to the last byte.
    writeFileSync(path.join(base, 'made.yaml'), cfgText(`${base}/made/catalog.db`));
    expect((await runCli(['scan', '--config', path.join(base, 'made.yaml')], { cwd: base })).code).toBe(0);
    const small = path.join(base, 'small');
    mountTmpfs(small, 256 * 1024);
    chmodSync(small, 0o700);
    const catalog = path.join(small, 'catalog.db');
    copyFileSync(path.join(base, 'made', 'catalog.db'), catalog);
    chmodSync(catalog, 0o600);
    try {
      writeFileSync(path.join(small, 'fill'), Buffer.alloc(1024 * 1024));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    const cfg = path.join(base, 'hashall.yaml');
    writeFileSync(cfg, cfgText(catalog));
    const before = sha(catalog);
    for (const argv of [['scan'], ['runs'], ['plan', '--no-refresh']]) {
      const r = await runCli([...argv, '--config', cfg], { cwd: base, env: { NO_COLOR: '1' } });
      expect(r.code, argv[0]).toBe(1);
      expect(r.stderr, argv[0]).toMatch(/^hashall: the catalog's filesystem is full .*\n {2}hint: free space where the catalog lives/);
      expect(r.stderr).not.toMatch(/permissions|unexpected error/);
    }
    expect(sha(catalog)).toBe(before);
  });
});
