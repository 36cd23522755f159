// A config or plan whose path holds bytes that are not UTF-8: Node hands hashall its arguments and working folder already decoded (each such byte U+FFFD), so no such name can be opened — said as that, with what to do, never as a plain "not found".
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

let dir: string;
let bad: Buffer;
beforeEach(() => {
  dir = mkdtempSync('/tmp/hashall-non-utf8-');
  bad = Buffer.concat([Buffer.from(`${dir}/bad`), Buffer.from([0xff]), Buffer.from('dir')]);
  mkdirSync(bad, { mode: 0o755 });
  const cfg = ['version: 1', `catalog: ${dir}/state/catalog.db`, 'filesystems:', `  disk: { path: ${dir} }`, 'seeding:', `  disk: [${dir}]`, ''].join('\n');
  writeFileSync(Buffer.concat([bad, Buffer.from('/hashall.yaml')]), cfg);
  writeFileSync(Buffer.concat([bad, Buffer.from('/plan.json')]), '{}');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI run by sh, `$BAD` the folder's real bytes (Node cannot pass them as an argument itself). */
function cli(script: string) {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  delete env.SUDO_UID;
  const node = [process.execPath, '--import', path.resolve('test/support/ts-register.mjs'), path.resolve('src/cli/bin.ts')].map((a) => `'${a}'`).join(' ');
  const setBad = `BAD="$(printf '${dir}/bad\\377dir')"`;
  return spawnSync('sh', ['-c', `${setBad}; ${script.replaceAll('HASHALL', node)}`], { encoding: 'utf8', timeout: 20_000, env });
}

describe('a path with bytes that are not UTF-8', () => {
  it('--config through it, and ./hashall.yaml in it as the working folder: said as such (exit 3)', () => {
    for (const script of ['HASHALL validate --config "$BAD/hashall.yaml"', 'cd "$BAD" && HASHALL validate']) {
      const r = cli(script);
      expect(r.status, `${script}: ${r.stderr}`).toBe(3);
      expect(r.stderr, script).toContain('holds bytes that are not UTF-8');
      expect(r.stderr, script).toContain('hint: give a path without them');
    }
  });

  it('a plan file through it: said as such (exit 1)', () => {
    const r = cli('HASHALL show "$BAD/plan.json"');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('holds bytes that are not UTF-8');
  });
});
