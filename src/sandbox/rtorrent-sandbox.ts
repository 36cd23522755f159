// Throwaway loopback-only rtorrent (SCGI unix socket, optional loopback HTTP→SCGI relay) for the demo and the tests.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RtorrentTransport } from '../clients/rtorrent/transport.js';
import type { XmlRpcValue } from '../clients/rtorrent/xmlrpc.js';
import { freePort } from './qbt-sandbox.js';
import { pause, sandboxOwner, spawnOwned, tailFile, type OwnedProcess } from './owned-process.js';
import type { MadeTorrent } from './torrent-file.js';

export interface RtorrentSandboxOptions {
  dir?: string;
  /** rTorrent's session folder (session.path); default `<dir>/session`. */
  session?: string;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
}

export interface RtorrentSandbox {
  /** `scgi:///…/rpc.sock` */
  readonly url: string;
  readonly socket: string;
  readonly pid: number;
  readonly dir: string;
  readonly downloads: string;
  call(method: string, params?: XmlRpcValue[]): Promise<XmlRpcValue>;
  /**
   * Load a .torrent whose data is in `dir`, hash-checked by rTorrent; waits until the check ended (unless settle:false).
   * `filesOff`: the indexes of files switched off (f.priority 0) before the check (a stopped torrent only).
   */
  add(t: MadeTorrent, o: { dir: string; start?: boolean; label?: string; settle?: boolean; filesOff?: number[] }): Promise<void>;
  waitSettled(hash: string, timeoutMs?: number): Promise<void>;
  /**
   * A loopback HTTP endpoint (`http://127.0.0.1:PORT/RPC2`) relaying XML-RPC to the socket, as nginx/ruTorrent do;
   * with `auth`, it answers 401 unless the request carries that basic-auth pair.
   */
  httpRelay(auth?: { username: string; password: string }): Promise<{ url: string; close(): Promise<void> }>;
  stop(): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<void>;
  logTail(lines?: number): string;
}

export async function startRtorrent(opts: RtorrentSandboxOptions = {}): Promise<RtorrentSandbox> {
  const dir = path.resolve(opts.dir ?? mkdtempSync(path.join(tmpdir(), 'hashall-rt-')));
  const downloads = path.join(dir, 'downloads');
  const session = path.resolve(opts.session ?? path.join(dir, 'session'));
  const socket = path.join(dir, 'rpc.sock');
  const rc = path.join(dir, 'rtorrent.rc');
  const logFile = path.join(dir, 'rtorrent.log');
  for (const d of [downloads, session]) mkdirSync(d, { recursive: true });
  const transport = new RtorrentTransport({ url: `scgi://${socket}`, timeoutMs: 15_000, attempts: 1 });
  const relays: Server[] = [];
  let proc: OwnedProcess | null = null;

  async function launch(): Promise<void> {
    const port = await freePort();
    rmSync(socket, { force: true });
    writeFileSync(
      rc,
      [
        `directory.default.set = ${downloads}`,
        `session.path.set = ${session}`,
        `network.scgi.open_local = ${socket}`,
        `network.port_range.set = ${port}-${port}`,
        'network.port_random.set = no',
        'network.bind_address.set = 127.0.0.1',
        'dht.mode.set = disable',
        'protocol.pex.set = no',
        'trackers.use_udp.set = no',
        'system.daemon.set = true',
        `log.open_file = main, ${path.join(dir, 'rtorrent-main.log')}`,
        'log.add_output = info, main',
        '',
      ].join('\n'),
    );
    proc = spawnOwned('rtorrent', ['-n', '-o', `import=${rc}`], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8', TERM: 'dumb' }, cwd: dir, logFile, marker: rc });
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
    for (let i = 0; ; i++) {
      if (!proc.running()) throw new Error(`rtorrent sandbox: rtorrent exited during start\n${tailFile(logFile)}`);
      try {
        const d = await transport.call('directory.default');
        if (path.resolve(String(d)) !== downloads) throw new Error(`rtorrent sandbox: socket answers with directory ${String(d)}, expected ${downloads}`);
        return;
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('rtorrent sandbox')) throw err;
      }
      if (Date.now() > deadline || i > 2000) {
        await stop();
        throw new Error(`rtorrent sandbox: no answer on ${socket}\n${tailFile(logFile)}`);
      }
      await pause(50);
    }
  }

  async function stop(): Promise<void> {
    for (const r of relays.splice(0)) await new Promise<void>((resolve) => r.close(() => resolve()));
    const p = proc;
    proc = null;
    await p?.stop(opts.stopTimeoutMs ?? 20_000);
  }

  async function waitSettled(hash: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 2000; i++) {
      try {
        const hashing = await transport.call('d.hashing', [hash.toUpperCase()]);
        const queued = await transport.call('d.is_hash_checking', [hash.toUpperCase()]);
        if (hashing === 0 && queued === 0) return;
      } catch {
        // not loaded yet
      }
      if (Date.now() > deadline) break;
      await pause(50);
    }
    throw new Error(`rtorrent sandbox: ${hash} did not finish its hash check within ${timeoutMs} ms\n${tailFile(path.join(dir, 'rtorrent-main.log'), 10)}`);
  }

  await launch();
  return {
    url: `scgi://${socket}`,
    socket,
    get pid() {
      return proc?.pid ?? 0;
    },
    dir,
    downloads,
    call: (m, p = []) => transport.call(m, p),
    async add(t, o) {
      const file = path.join(dir, `${t.infoHash}.torrent`);
      writeFileSync(file, t.buffer);
      const cmds = [`d.directory.set="${o.dir}"`];
      if (o.label) cmds.push(`d.custom1.set="${o.label}"`);
      await transport.call(o.start ? 'load.start_verbose' : 'load.verbose', ['', file, ...cmds]);
      if (o.settle === false) return;
      // load.* returns before the torrent is in the list: wait for it, then ask for the hash check and wait it out.
      const h = t.infoHash.toUpperCase();
      for (let i = 0; ; i++) {
        const list = (await transport.call('download_list', [''])) as string[];
        if (list.includes(h)) break;
        // rTorrent 0.9.8 refuses a torrent without trackers ("Could not find any trackers") and says so only in its log.
        if (i > 200) throw new Error(`rtorrent sandbox: ${t.infoHash} was not loaded (a fixture needs a tracker)\n${tailFile(path.join(dir, 'rtorrent-main.log'), 10)}`);
        await pause(25);
      }
      if (o.filesOff?.length) {
        if (o.start) throw new Error('rtorrent sandbox: files are switched off before the check of a stopped torrent only');
        for (const i of o.filesOff) await transport.call('f.priority.set', [`${h}:f${i}`, 0]);
        await transport.call('d.update_priorities', [h]);
      }
      if (!o.start) await transport.call('d.check_hash', [h]);
      await pause(100);
      await waitSettled(t.infoHash);
    },
    waitSettled,
    async httpRelay(auth) {
      const want = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` : null;
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          if (want && req.headers.authorization !== want) {
            res.writeHead(401, { 'www-authenticate': 'Basic realm="rtorrent"' }).end();
            return;
          }
          // Relay the raw body over SCGI (same framing as the transport) and send the XML back.
          relayScgi(socket, Buffer.concat(chunks)).then(
            (xml) => res.writeHead(200, { 'content-type': 'text/xml' }).end(xml),
            () => res.writeHead(502).end(),
          );
        });
      });
      const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
      relays.push(server);
      return { url: `http://127.0.0.1:${port}/RPC2`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    },
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
    logTail: (lines = 30) => `--- ${logFile}\n${tailFile(logFile, lines)}\n--- main\n${tailFile(path.join(dir, 'rtorrent-main.log'), lines)}`,
  };
}

async function relayScgi(socket: string, body: Buffer): Promise<string> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const head = Buffer.from(`CONTENT_LENGTH\0${body.length}\0SCGI\x001\0REQUEST_METHOD\0POST\0`, 'latin1');
    const sock = connect({ path: socket });
    const chunks: Buffer[] = [];
    sock.setTimeout(15_000, () => sock.destroy(new Error('relay timeout')));
    sock.on('connect', () => sock.end(Buffer.concat([Buffer.from(`${head.length}:`), head, Buffer.from(','), body])));
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', reject);
    sock.on('end', () => {
      const all = Buffer.concat(chunks).toString('utf8');
      const sep = all.indexOf('\r\n\r\n');
      resolve(sep < 0 ? all : all.slice(sep + 4));
    });
  });
}

/** Per-test-file owner: stopAll stops every sandbox it started and deletes the temp dirs it created. */
export function rtorrentSandboxes() {
  return sandboxOwner<RtorrentSandboxOptions, RtorrentSandbox>(startRtorrent);
}
