// A qBittorrent behind HTTPS with a private CA, on real parts: the installed `hashall` (sh launcher through npm's bin symlink) trusts the CA NODE_EXTRA_CA_CERTS names, though the node it runs starts without that variable; without the CA the same call is refused, clearly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeQbt, type FakeQbt } from '../../support/fake-qbt.js';
import { makePrivateCa, type PrivateCa } from '../../support/private-ca.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let out: string;
let tmp: string;
let bin: string;
let ca: PrivateCa;
let qbt: FakeQbt;
let config: string;
/** What each request saw of the process that sent it: its environment (/proc/PID/environ) and its program. */
let seen: { environ: string[]; exe: string }[] = [];
/** The pid of the hashall being run (the fake reads its /proc entry while it waits for the answer). */
let runningPid = 0;

beforeAll(async () => {
  mkdirSync(path.join(repo, 'dist'), { recursive: true });
  out = mkdtempSync(path.join(repo, 'dist', 'https-ca-test-'));
  const b = spawnSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs'), out], { encoding: 'utf8' });
  expect(b.stderr).toBe('');
  expect(b.status).toBe(0);
  tmp = mkdtempSync(path.join(tmpdir(), 'hashall-https-ca-'));
  // As npm links a global install: <prefix>/bin/hashall -> the package's dist/cli/hashall.
  mkdirSync(path.join(tmp, 'bin'));
  bin = path.join(tmp, 'bin', 'hashall');
  symlinkSync(path.relative(path.dirname(bin), path.join(out, 'hashall')), bin);
  ca = makePrivateCa(tmp);
  qbt = await startFakeQbt({
    tls: { key: ca.key, cert: ca.cert },
    onRequest: () => {
      if (runningPid === 0) return;
      seen.push({ environ: readFileSync(`/proc/${runningPid}/environ`, 'latin1').split('\0'), exe: readlinkSync(`/proc/${runningPid}/exe`) });
    },
  });
  const world = path.join(tmp, 'world');
  mkdirSync(path.join(world, 'seeding'), { recursive: true });
  config = path.join(world, 'hashall.yaml');
  writeFileSync(
    config,
    ['version: 1', `catalog: ${path.join(world, 'state', 'catalog.db')}`, 'filesystems:', `  disk: { path: ${world} }`, 'seeding:', `  disk: [${path.join(world, 'seeding')}]`, 'client:', '  type: qbittorrent', `  url: ${qbt.url}`, '  timeout: 5s', ''].join('\n'),
  );
});

afterAll(async () => {
  await qbt?.close();
  rmSync(out, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

/** `doctor` (it asks the client for its version) run as `argv` with this environment, but no CA variable not given. */
async function doctor(argv: string[], extra: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: path.join(tmp, 'cache') };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.HASHALL_EXTRA_CA_CERTS;
  seen = [];
  const child = spawn(argv[0]!, [...argv.slice(1), 'doctor', '--config', config], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
  runningPid = child.pid!;
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  runningPid = 0;
  return { code, stdout, stderr };
}

const clientLine = (text: string) => text.split('\n').find((l) => l.includes('qbittorrent "default"')) ?? '';

describe('HTTPS to a client behind a private CA', () => {
  it('through the sh launcher, NODE_EXTRA_CA_CERTS naming the CA: the client is reached, and the node that reached it started without the variable', async () => {
    const r = await doctor([bin], { NODE_EXTRA_CA_CERTS: ca.caFile });
    expect(r.stderr).toBe('');
    expect(clientLine(r.stdout)).toMatch(/^ok\s+qbittorrent "default" at https:.*: reachable/);
    expect(qbt.count('/app/version')).toBeGreaterThan(0);
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) {
      expect(s.exe).toBe(readlinkSync('/proc/self/exe'));
      expect(s.environ.filter((e) => e.startsWith('NODE_EXTRA_CA_CERTS='))).toEqual([]);
      expect(s.environ).toContain(`HASHALL_EXTRA_CA_CERTS=${ca.caFile}`);
    }
  });

  it('without the CA, the same call is refused, saying the certificate is untrusted and how to trust a private CA', async () => {
    const r = await doctor([bin], {});
    expect(clientLine(r.stdout)).toMatch(/^PROBLEM\s+qbittorrent "default" at https:/);
    expect(r.stdout).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE \(the server's TLS certificate is not signed by a trusted CA; for a private CA, name its PEM file in NODE_EXTRA_CA_CERTS\)/);
  });

  it('a CA file that cannot be read: one warning naming it, then the default roots (refused)', async () => {
    const missing = path.join(tmp, 'no-such-ca.pem');
    const r = await doctor([bin], { NODE_EXTRA_CA_CERTS: missing });
    expect(r.stderr.match(/warning/g)).toHaveLength(1);
    expect(r.stderr).toContain(`ignoring the extra CA certificates of "${missing}" (NODE_EXTRA_CA_CERTS): cannot read it (ENOENT)`);
    expect(clientLine(r.stdout)).toMatch(/^PROBLEM\s+qbittorrent "default" at https:/);
  });

  it('hashall.cjs run by node directly: node loads NODE_EXTRA_CA_CERTS itself, and hashall does not read it again', async () => {
    // HASHALL_EXTRA_CA_CERTS naming the same file is left to node (that it is not read again: test/unit/clients/http-send.test.ts).
    const r = await doctor([process.execPath, path.join(out, 'hashall.cjs')], { NODE_EXTRA_CA_CERTS: ca.caFile, HASHALL_EXTRA_CA_CERTS: ca.caFile });
    expect(r.stderr).toBe('');
    expect(clientLine(r.stdout)).toMatch(/^ok\s+qbittorrent "default" at https:.*: reachable/);
    expect(seen[0]?.environ).toContain(`NODE_EXTRA_CA_CERTS=${ca.caFile}`);
  });
});
