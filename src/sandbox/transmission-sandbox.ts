// Throwaway loopback-only transmission-daemon for the demo and the tests (own config dir, free ports, bounded start/stop).
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './qbt-sandbox.js';
import { pause, sandboxOwner, spawnOwned, tailFile, type OwnedProcess } from './owned-process.js';
import type { MadeTorrent } from './torrent-file.js';

export interface TransmissionSandboxOptions {
  dir?: string;
  /** Require basic auth (default false). */
  auth?: boolean;
  username?: string;
  password?: string;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
}

export interface TransmissionSandbox {
  /** The RPC URL, `http://127.0.0.1:PORT/transmission/rpc`. */
  readonly url: string;
  readonly pid: number;
  readonly dir: string;
  readonly downloads: string;
  readonly username: string;
  readonly password: string;
  /** One RPC call with the sandbox's own credentials; returns `arguments`, throws unless `result` is `success`. */
  rpc(method: string, args?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Add a .torrent whose data is already in `downloadDir`; waits until Transmission verified it (unless settle:false). */
  add(t: MadeTorrent, o: { downloadDir: string; paused?: boolean; labels?: string[]; settle?: boolean }): Promise<void>;
  /** Poll until the torrent is listed and neither queued for nor in a check. */
  waitSettled(hash: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
  /** kill -9 (a crash), then nothing: call restart() to start again on the same config dir. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  logTail(lines?: number): string;
}

export async function startTransmission(opts: TransmissionSandboxOptions = {}): Promise<TransmissionSandbox> {
  const dir = path.resolve(opts.dir ?? mkdtempSync(path.join(tmpdir(), 'hashall-tr-')));
  const conf = path.join(dir, 'config');
  const downloads = path.join(dir, 'downloads');
  const logFile = path.join(dir, 'transmission.log');
  for (const d of [conf, downloads]) mkdirSync(d, { recursive: true });
  const username = opts.username ?? 'hashall';
  const password = opts.password ?? `pw-${randomBytes(6).toString('hex')}`;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  let proc: OwnedProcess | null = null;
  let url = '';
  let session = '';

  const auth = opts.auth ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` : null;

  async function post(body: string): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-transmission-session-id': session };
    if (auth) headers.authorization = auth;
    return fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) });
  }

  async function rpc(method: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const body = JSON.stringify({ method, arguments: args });
    let res = await post(body);
    if (res.status === 409) {
      session = res.headers.get('x-transmission-session-id') ?? '';
      await res.text();
      res = await post(body);
    }
    const text = await res.text();
    if (res.status !== 200) throw new Error(`transmission sandbox: ${method} answered ${res.status}: ${text.slice(0, 200)}\n${tailFile(logFile, 10)}`);
    const out = JSON.parse(text) as { result: string; arguments?: Record<string, unknown> };
    if (out.result !== 'success') throw new Error(`transmission sandbox: ${method}: ${out.result}`);
    return out.arguments ?? {};
  }

  async function launch(): Promise<void> {
    const rpcPort = await freePort();
    let peerPort = await freePort();
    while (peerPort === rpcPort) peerPort = await freePort();
    url = `http://127.0.0.1:${rpcPort}/transmission/rpc`;
    session = '';
    const authArgs = opts.auth ? ['-t', '-u', username, '-v', password] : ['-T'];
    const args = ['-f', '-g', conf, '-p', String(rpcPort), '-r', '127.0.0.1', '-a', '127.0.0.1', ...authArgs, '-w', downloads, '-P', String(peerPort), '-O', '-Y', '-M', '--no-utp', '--no-incomplete-dir', '-e', logFile];
    proc = spawnOwned('transmission-daemon', args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8' }, cwd: dir, logFile, marker: conf });
    const deadline = Date.now() + readyTimeoutMs;
    for (let i = 0; ; i++) {
      if (!proc.running()) throw new Error(`transmission sandbox: transmission-daemon exited during start\n${tailFile(logFile)}`);
      try {
        const got = await rpc('session-get', { fields: ['download-dir', 'version'] });
        if (path.resolve(String(got['download-dir'])) !== downloads) {
          await stop();
          throw new Error(`transmission sandbox: ${url} reports download dir ${String(got['download-dir'])}, expected ${downloads} (another instance?)`);
        }
        return;
      } catch (err) {
        if (err instanceof Error && err.message.includes('another instance')) throw err;
      }
      if (Date.now() > deadline || i > 2000) {
        await stop();
        throw new Error(`transmission sandbox: no answer on ${url} within ${readyTimeoutMs} ms\n${tailFile(logFile)}`);
      }
      await pause(50);
    }
  }

  async function stop(): Promise<void> {
    const p = proc;
    proc = null;
    await p?.stop(opts.stopTimeoutMs ?? 20_000);
  }

  async function waitSettled(hash: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    let last: Record<string, unknown> | undefined;
    for (let i = 0; i < 2000; i++) {
      const got = await rpc('torrent-get', { ids: [hash], fields: ['hashString', 'status', 'percentDone', 'recheckProgress', 'error', 'errorString'] });
      last = (got.torrents as Record<string, unknown>[])[0];
      // 1 = queued for a check, 2 = checking.
      if (last && last.status !== 1 && last.status !== 2) return last;
      if (Date.now() > deadline) break;
      await pause(50);
    }
    throw new Error(`transmission sandbox: torrent ${hash} did not settle within ${timeoutMs} ms (last: ${JSON.stringify(last ?? null)})\n${tailFile(logFile, 10)}`);
  }

  await launch();
  return {
    get url() {
      return url;
    },
    get pid() {
      return proc?.pid ?? 0;
    },
    dir,
    downloads,
    username,
    password,
    rpc,
    async add(t, o) {
      await rpc('torrent-add', { metainfo: t.buffer.toString('base64'), 'download-dir': o.downloadDir, paused: o.paused ?? true });
      if (o.labels) await rpc('torrent-set', { ids: [t.infoHash], labels: o.labels });
      if (o.settle !== false) {
        // A paused torrent is not checked by itself: ask for the check so it knows its data is there.
        if (o.paused ?? true) await rpc('torrent-verify', { ids: [t.infoHash] });
        await pause(100);
        await waitSettled(t.infoHash);
      }
    },
    waitSettled,
    stop,
    async kill() {
      const p = proc;
      proc = null;
      await p?.kill();
    },
    async restart() {
      await stop();
      await launch();
    },
    logTail: (lines = 30) => `--- ${logFile}\n${tailFile(logFile, lines)}`,
  };
}

/** Per-test-file owner: stopAll stops every sandbox it started and deletes the temp dirs it created. */
export function transmissionSandboxes() {
  return sandboxOwner<TransmissionSandboxOptions, TransmissionSandbox>(startTransmission);
}
