// A copy whose owner cannot be kept (hashall not root, or a filesystem that refuses chown) never keeps the source's setuid/setgid bits: they would make another user's program run as hashall's user or group.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** hashall's user here: not root (a media user), so it may not give a file away. */
const HASHALL = 65534;
/** The uploader: another user, owner of the setuid file in the seeding tree. */
const UPLOADER = 1000;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync('/tmp/hashall-copy-setid-');
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, 'src'), { mode: 0o755 });
  mkdirSync(path.join(dir, 'dst'), { mode: 0o755 });
  chownSync(path.join(dir, 'dst'), HASHALL, HASHALL);
  // A small file (the synchronous copy) and one past it (the pipelined copy), each 06755 and the uploader's.
  for (const [name, size] of [['small.bin', 1000], ['big.bin', 3 << 20]] as const) {
    const p = path.join(dir, 'src', name);
    writeFileSync(p, Buffer.alloc(size, 7));
    chownSync(p, UPLOADER, UPLOADER);
    chmodSync(p, 0o6755);
  }
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The real FsPort's copyFileVerified of `name`, run as hashall's (non-root) user, in both of its ways (syncData on and off). */
function copyAsHashall(name: string, syncData: boolean): { status: number | null; stderr: string } {
  const script = path.join(dir, `copy-${name}-${String(syncData)}.ts`);
  writeFileSync(
    script,
    [
      `import { realFsPort } from ${JSON.stringify(path.join(repo, 'src/apply/fs-port.js'))};`,
      `const fs = realFsPort();`,
      `await fs.copyFileVerified(${JSON.stringify(path.join(dir, 'src', name))}, ${JSON.stringify(path.join(dir, 'dst', `${name}.${String(syncData)}`))}, { syncData: ${String(syncData)} });`,
      `await fs.close?.();`,
      `process.exit(0);`,
    ].join('\n'),
  );
  const r = spawnSync('setpriv', ['--reuid', String(HASHALL), '--regid', String(HASHALL), '--clear-groups', process.execPath, '--import', './test/support/ts-register.mjs', script], {
    cwd: repo,
    env: { PATH: process.env.PATH, HOME: '/nonexistent', NO_COLOR: '1' },
    encoding: 'utf8',
  });
  return { status: r.status, stderr: r.stderr };
}

it("a setuid/setgid file copied by a hashall that cannot give it to its owner: the copy is hashall's, with the bytes and the rest of the mode, but neither bit", () => {
  for (const name of ['small.bin', 'big.bin']) {
    for (const syncData of [false, true]) {
      const r = copyAsHashall(name, syncData);
      expect(r.status, r.stderr).toBe(0);
      const copy = path.join(dir, 'dst', `${name}.${String(syncData)}`);
      const st = lstatSync(copy);
      expect(st.uid).toBe(HASHALL);
      expect(readFileSync(copy).equals(readFileSync(path.join(dir, 'src', name)))).toBe(true);
      expect(st.mode & 0o7777, `${name} syncData=${String(syncData)}`).toBe(0o755);
    }
  }
});
