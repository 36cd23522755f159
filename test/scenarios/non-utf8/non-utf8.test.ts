// Names are bytes end to end: a file whose name is not valid UTF-8 goes through scan → plan → apply (dedupe) and a move with its exact bytes.
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { payloadHash } from '../../../src/domain/payload-hash.js';
import { bytesToPathText } from '../../../src/fs/path-encoding.js';
import type { Plan } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, makeApplyFixture, makePlan, type ApplyFixture } from '../../support/apply-fixture.js';
import { runCli } from '../../support/cli.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';

/** `café-<latin-1 é>.bin`: the byte 0xe9 alone is not UTF-8. */
const NAME = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from('.bin')]);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Write `data` at directory `dir` (text) + the raw name bytes; returns the path as bytes. */
function writeRaw(dir: string, name: Buffer, data: Buffer): Buffer {
  mkdirSync(dir, { recursive: true });
  const p = Buffer.concat([Buffer.from(dir + '/'), name]);
  writeFileSync(p, data);
  return p;
}

let tmp: TempDir | null = null;
let w: ApplyFixture | null = null;
afterEach(() => {
  tmp?.cleanup();
  tmp = null;
  w?.cleanup();
  w = null;
});

describe('a file name that is not valid UTF-8', () => {
  it('scan → plan → apply: the dedupe of it and its twin is planned and applied (no stale plan, no exit 5)', async () => {
    tmp = makeTempDir('hashall-nonutf8-');
    const stash = path.join(tmp.path, 'stash');
    mountTmpfs(stash, 32 << 20, 'stash');
    const seed = path.join(stash, 'seeding');
    const data = bytesFor('twin', 300_000);
    const odd = writeRaw(path.join(seed, 'a'), NAME, data);
    writeRaw(path.join(seed, 'b'), Buffer.from('twin.bin'), data);
    const config = path.join(tmp.path, 'hashall.yaml');
    writeFileSync(
      config,
      [
        'version: 1',
        'catalog: catalog.db',
        'filesystems:',
        `  stash: { path: ${JSON.stringify(stash)} }`,
        'seeding:',
        `  stash: [${JSON.stringify(seed)}]`,
        'dedupe: { filesystems: [stash], minSize: 1 }',
        'safety: { minFree: 0 }',
        '',
      ].join('\n'),
    );
    const cli = (...args: string[]) => runCli([...args, '--config', config], { cwd: tmp!.path });
    const planFile = path.join(tmp.path, 'plan.json');
    const planned = await cli('plan', '--out', planFile);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
    expect(plan.groups.map((g) => g.action)).toEqual(['dedupe']);
    expect(JSON.stringify(plan)).toContain(bytesToPathText(NAME)); // the escaped catalog text
    const applied = await cli('apply', planFile, '--auto-approve');
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/Apply succeeded: 1\/1/);
    // Both names still there, byte for byte, now one inode, same content.
    expect(readdirSync(path.join(seed, 'a'), { encoding: 'buffer' })).toEqual([NAME]);
    expect(lstatSync(odd).ino).toBe(lstatSync(path.join(seed, 'b', 'twin.bin')).ino);
    expect(sha(readFileSync(odd))).toBe(sha(data));
    // The next plan has nothing left to do.
    const again = await cli('plan', '--detailed-exitcode');
    expect(again.code, again.stderr).toBe(0);
  });

  it('a move copies it under its exact bytes (preflight, copy, verify and undo data all use the decoded name)', async () => {
    w = makeApplyFixture();
    const src = path.join(w.stash, 'seeding', 'movies', 'M');
    const data = bytesFor('m', 50_000);
    const srcFile = writeRaw(src, NAME, data);
    const rel = bytesToPathText(NAME);
    const st = lstatSync(srcFile, { bigint: true });
    const files = [{ relpath: rel, size: data.length, sha256: sha(data) }];
    const dst = path.join(w.pool, 'seeding', 'movies', 'M');
    const plan = makePlan(w, [
      {
        id: 'g1',
        key: 'nonutf8',
        action: 'move',
        title: 'M',
        payloadHash: payloadHash(files),
        torrents: [],
        from: { fs: 'stash', path: src },
        to: { fs: 'pool', path: dst },
        reasons: ['test'],
        rule: null,
        bytesToCopy: data.length,
        bytesToFree: 0,
        steps: [{ kind: 'copy', fromFs: 'stash', toFs: 'pool', fromRoot: src, toRoot: dst, files, bytes: data.length }],
        fingerprint: { files: [{ path: path.join(src, rel), ino: Number(st.ino), size: data.length, mtimeNs: st.mtimeNs.toString(), nlink: 1 }], torrents: [] },
      },
    ]);
    const res = await applyPlan(testDeps(w), plan);
    expect(res.status, JSON.stringify(res.groups)).toBe('succeeded');
    expect(readdirSync(dst, { encoding: 'buffer' })).toEqual([NAME]);
    expect(sha(readFileSync(Buffer.concat([Buffer.from(dst + '/'), NAME])))).toBe(sha(data));
    expect(sha(readFileSync(srcFile))).toBe(sha(data)); // the source stays
  });
});
