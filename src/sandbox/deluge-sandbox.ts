// Throwaway loopback-only deluged + deluge-web for the demo and the tests (own config dir, free ports, bounded start/stop, ended by PID).
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stateIsStale } from '../clients/deluge/states.js';
import { DelugeTransport } from '../clients/deluge/transport.js';
import { freePort } from './qbt-sandbox.js';
import { pause, sandboxOwner, spawnOwned, tailFile, type OwnedProcess } from './owned-process.js';
import type { MadeTorrent } from './torrent-file.js';

export interface DelugeSandboxOptions {
  dir?: string;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
}

export interface DelugeSandbox {
  /** The deluge-web URL, `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The deluge-web password (the only secret hashall needs). */
  readonly password: string;
  readonly daemonPid: number;
  readonly webPid: number;
  readonly dir: string;
  readonly downloads: string;
  /** One JSON-RPC call through deluge-web with the sandbox's own session. */
  call(method: string, params?: unknown[]): Promise<unknown>;
  /** Add a .torrent whose data is already in `dir`, checked by Deluge; paused unless `running`; with a label. */
  add(t: MadeTorrent, o: { dir: string; running?: boolean; label?: string; settle?: boolean }): Promise<void>;
  /** Poll until the torrent is listed and not checking, moving or allocating. */
  waitSettled(hash: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
  /** kill -9 both processes (a crash); restart() starts them again on the same config dir. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  logTail(lines?: number): string;
}

/** Deluge's config file format: a version header object followed by the settings object. */
function delugeConf(file: number, body: Record<string, unknown>): string {
  return `${JSON.stringify({ file, format: 1 }, null, 4)}${JSON.stringify(body, null, 4)}`;
}

export async function startDeluge(opts: DelugeSandboxOptions = {}): Promise<DelugeSandbox> {
  const dir = path.resolve(opts.dir ?? mkdtempSync(path.join(tmpdir(), 'hashall-dl-')));
  const conf = path.join(dir, 'config');
  const downloads = path.join(dir, 'downloads');
  const logFile = path.join(dir, 'deluge.log');
  for (const d of [conf, downloads]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const account = `acct-${randomBytes(6).toString('hex')}`;
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1' };
  let daemon: OwnedProcess | null = null;
  let web: OwnedProcess | null = null;
  let url = '';
  let transport: DelugeTransport | null = null;

  async function launch(): Promise<void> {
    const daemonPort = await freePort();
    const webPort = await freePort();
    const peerPort = await freePort();
    if (new Set([daemonPort, webPort, peerPort]).size !== 3) return launch();
    const salt = randomBytes(20).toString('hex');
    writeFileSync(
      path.join(conf, 'core.conf'),
      delugeConf(1, {
        listen_ports: [peerPort, peerPort],
        random_port: false,
        listen_interface: '127.0.0.1',
        dht: false,
        upnp: false,
        natpmp: false,
        lsd: false,
        utpex: false,
        new_release_check: false,
        allow_remote: false,
        download_location: downloads,
        move_completed: false,
        move_completed_path: downloads,
        pre_allocate_storage: false,
        max_active_limit: -1,
        max_active_downloading: -1,
        max_active_seeding: -1,
        enabled_plugins: ['Label'],
      }),
      { mode: 0o600 },
    );
    // deluge-web reads the localclient line at start (it fails without one) and deluged writes it only on its first start.
    writeFileSync(path.join(conf, 'auth'), `localclient:${randomBytes(20).toString('hex')}:10\n${account}:${password}:10\n`, { mode: 0o600 });
    const sha = createHash('sha1').update(salt).update(password).digest('hex');
    writeFileSync(path.join(conf, 'web.conf'), delugeConf(2, { pwd_salt: salt, pwd_sha1: sha, interface: '127.0.0.1', port: webPort, https: false, first_login: false, default_daemon: '', base: '/' }), { mode: 0o600 });
    writeFileSync(path.join(conf, 'hostlist.conf'), delugeConf(3, { hosts: [[randomBytes(20).toString('hex'), '127.0.0.1', daemonPort, account, password]] }), { mode: 0o600 });
    // -q: Deluge 2.0.3's logger breaks on Python 3.11 (findCaller), every log line would print a traceback instead.
    daemon = spawnOwned('deluged', ['-d', '-q', '-c', conf, '-u', '127.0.0.1', '-p', String(daemonPort), '-i', '127.0.0.1'], { env, cwd: dir, logFile, marker: conf });
    web = spawnOwned('deluge-web', ['-d', '-q', '-c', conf, '-i', '127.0.0.1', '-p', String(webPort)], { env, cwd: dir, logFile, marker: conf });
    url = `http://127.0.0.1:${webPort}`;
    transport = new DelugeTransport({ url, password: () => password, timeoutMs: 15_000, attempts: 1 });
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
    for (let i = 0; ; i++) {
      if (!daemon.running() || !web.running()) {
        await stop();
        throw new Error(`deluge sandbox: ${daemon?.running() === false ? 'deluged' : 'deluge-web'} exited during start\n${tailFile(logFile)}`);
      }
      try {
        const got = await transport.call('core.get_config_value', ['download_location']);
        if (path.resolve(String(got)) !== downloads) {
          await stop();
          throw new Error(`deluge sandbox: ${url} reports download location ${String(got)}, expected ${downloads} (another instance?)`);
        }
        // Ready: from now on with the product's retries (network errors tried 3 times). Under load deluge-web closes
        // kept-alive sockets; a set-up call on one (core.add_torrent_file) failed the test with UND_ERR_SOCKET.
        transport = new DelugeTransport({ url, password: () => password, timeoutMs: 15_000 });
        return;
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('deluge sandbox')) throw err;
        transport = new DelugeTransport({ url, password: () => password, timeoutMs: 15_000, attempts: 1 });
      }
      if (Date.now() > deadline || i > 2000) {
        await stop();
        throw new Error(`deluge sandbox: no answer on ${url} within ${opts.readyTimeoutMs ?? 60_000} ms\n${tailFile(logFile)}`);
      }
      await pause(100);
    }
  }

  async function stop(): Promise<void> {
    const w = web;
    const d = daemon;
    web = null;
    daemon = null;
    await w?.stop(opts.stopTimeoutMs ?? 20_000);
    await d?.stop(opts.stopTimeoutMs ?? 20_000);
  }

  const call = (method: string, params: unknown[] = []): Promise<unknown> => {
    if (!transport) throw new Error('deluge sandbox: not running');
    return transport.call(method, params);
  };

  async function waitSettled(hash: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    let last: Record<string, unknown> | undefined;
    for (let i = 0; i < 3000; i++) {
      const got = (await call('core.get_torrents_status', [{ id: [hash] }, ['state', 'progress', 'message', 'save_path', 'paused']])) as Record<string, Record<string, unknown>>;
      last = got[hash];
      // Settled: not in a transition, and Deluge's state agrees with libtorrent's paused flag (else hashall reads the
      // phase as unknown — a plan fingerprinted then is stale by the time it is applied).
      const ltPaused = typeof last?.paused === 'boolean' ? last.paused : undefined;
      if (last && !['Checking', 'Moving', 'Allocating'].includes(String(last.state)) && !stateIsStale(String(last.state), ltPaused)) return last;
      if (Date.now() > deadline) break;
      await pause(50);
    }
    throw new Error(`deluge sandbox: torrent ${hash} did not settle within ${timeoutMs} ms (last: ${JSON.stringify(last ?? null)})\n${tailFile(logFile, 10)}`);
  }

  await launch();
  return {
    get url() {
      return url;
    },
    password,
    get daemonPid() {
      return daemon?.pid ?? 0;
    },
    get webPid() {
      return web?.pid ?? 0;
    },
    dir,
    downloads,
    call,
    async add(t, o) {
      await call('core.add_torrent_file', [`${t.infoHash}.torrent`, t.buffer.toString('base64'), { download_location: o.dir, add_paused: true }]);
      if (o.label) {
        const labels = (await call('label.get_labels')) as string[];
        if (!labels.includes(o.label)) await call('label.add', [o.label]);
        await call('label.set_torrent', [t.infoHash, o.label]);
      }
      if (o.settle === false) return;
      // A paused torrent is not checked by itself: ask for the check so Deluge knows its data is there.
      await call('core.force_recheck', [[t.infoHash]]);
      // The check is queued first (state still Paused at progress 0): wait for it to end complete, bounded.
      let s = await waitSettled(t.infoHash);
      for (let i = 0; i < 600 && Number(s.progress) < 100; i++) {
        await pause(50);
        s = await waitSettled(t.infoHash);
      }
      if (Number(s.progress) < 100) throw new Error(`deluge sandbox: ${t.infoHash} checked to ${String(s.progress)} % in ${o.dir}, expected 100\n${tailFile(logFile, 10)}`);
      if (o.running) {
        await call('core.resume_torrent', [[t.infoHash]]);
        for (let i = 0; i < 400 && (await waitSettled(t.infoHash)).state !== 'Seeding'; i++) await pause(50);
      }
      // Deluge re-pauses a force-rechecked paused torrent when its check ends, from an alert that may come after the
      // reads above: settled is the same settled state read twice, 250 ms apart (bounded).
      const want = o.running ? 'Seeding' : 'Paused';
      let prev = '';
      for (let i = 0; i < 80; i++) {
        const s = await waitSettled(t.infoHash);
        const now = `${String(s.state)} ${String(s.progress)}`;
        if (s.state === want && now === prev) return;
        if (s.state !== want && o.running && s.state === 'Paused') await call('core.resume_torrent', [[t.infoHash]]);
        prev = now;
        await pause(250);
      }
      throw new Error(`deluge sandbox: ${t.infoHash} did not stay ${want} in ${o.dir}\n${tailFile(logFile, 10)}`);
    },
    waitSettled,
    stop,
    async kill() {
      const w = web;
      const d = daemon;
      web = null;
      daemon = null;
      await w?.kill();
      await d?.kill();
    },
    async restart() {
      await stop();
      await launch();
    },
    logTail: (lines = 30) => `--- ${logFile}\n${tailFile(logFile, lines)}`,
  };
}

/** Per-test-file owner: stopAll stops every sandbox it started and deletes the temp dirs it created. */
export function delugeSandboxes() {
  return sandboxOwner<DelugeSandboxOptions, DelugeSandbox>(startDeluge);
}
