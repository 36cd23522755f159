// The read-only commands (catalog stats, dupes, orphans, reclaim, trash, doctor) on a catalog of another schema: one left
// by an older hashall, or whose upgrade was cut short (a full disk), is a catalog error saying how to upgrade it; one of
// a newer hashall is refused as the writers refuse it. Before: "unexpected error: no such column: verified_at".
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openCatalog } from '../../../src/catalog/db.js';
import { MIGRATIONS } from '../../../src/catalog/migrations/index.js';
import { runCli } from '../../support/cli.js';

const NEWEST = Math.max(...MIGRATIONS.map((m) => m.version));
const READERS = [['catalog', 'stats'], ['dupes'], ['orphans'], ['reclaim'], ['trash']];

let dir: string;
let cfg: string;
let catalogFile: string;

beforeEach(() => {
  dir = mkdtempSync('/tmp/hashall-schema-ro-');
  mkdirSync(path.join(dir, 'state'), { mode: 0o700 });
  mkdirSync(path.join(dir, 'seeding'));
  writeFileSync(path.join(dir, 'seeding', 'f.bin'), 'some bytes\n');
  catalogFile = path.join(dir, 'state', 'catalog.db');
  cfg = path.join(dir, 'hashall.yaml');
  writeFileSync(cfg, `version: 1\ncatalog: ${catalogFile}\nfilesystems:\n  disk: { path: ${dir} }\nseeding:\n  disk: [${dir}/seeding]\n`);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A catalog as hashall left it at schema `version` (its migrations up to there, nothing after). */
function catalogAt(version: number): void {
  openCatalog(catalogFile, { migrations: MIGRATIONS.filter((m) => m.version <= version) }).close();
}

describe('a read-only command on a catalog of an older schema', () => {
  it.each([4, NEWEST - 1])('at schema %i: a catalog error naming both versions and the command that upgrades it; after a scan, it reads', async (version) => {
    catalogAt(version);
    for (const cmd of READERS) {
      const r = await runCli([...cmd, '--config', cfg]);
      expect(r.stderr, cmd.join(' ')).not.toContain('unexpected error');
      expect(r.stderr, cmd.join(' ')).toContain(`catalog ${catalogFile} is at schema version ${version}; this hashall uses ${NEWEST}`);
      expect(r.stderr, cmd.join(' ')).toContain('`hashall scan`');
      expect(r.code, cmd.join(' ')).toBe(1);
    }
    const doctor = await runCli(['doctor', '--json', '--config', cfg]);
    const check = (JSON.parse(doctor.stdout) as { checks: { id: string; status: string; detail: string; fix?: string }[] }).checks.find((c) => c.id === 'catalog');
    expect(check?.status).toBe('problem');
    expect(check?.detail).toContain(`schema version ${version}`);
    // The fix is the upgrade, not "damaged: move it aside and rebuild" (which would lose its runs and trash records).
    expect(check?.fix).toContain('`hashall scan`');
    expect(check?.fix).not.toContain('move it aside');
    expect((await runCli(['scan', '--config', cfg])).code).toBe(0);
    const stats = await runCli(['catalog', 'stats', '--config', cfg]);
    expect(stats.stderr).toBe('');
    expect(stats.code).toBe(0);
  });
});

describe('a read-only command on a catalog of a newer hashall', () => {
  it('is refused as a writer refuses it, naming both versions', async () => {
    catalogAt(NEWEST);
    const c = openCatalog(catalogFile);
    c.db.prepare(`UPDATE meta SET value = ? WHERE key = 'schema_version'`).run(String(NEWEST + 1));
    c.close();
    for (const cmd of [...READERS, ['scan']]) {
      const r = await runCli([...cmd, '--config', cfg]);
      expect(r.stderr, cmd.join(' ')).toContain(`catalog schema version ${NEWEST + 1} is newer than this hashall understands (${NEWEST})`);
      expect(r.code, cmd.join(' ')).toBe(1);
    }
  });
});
