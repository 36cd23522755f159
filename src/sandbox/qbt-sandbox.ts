// Throwaway loopback-only qbittorrent-nox for the demo and the tests (own profile, free ports, bounded start/stop).
import { spawn, type ChildProcess } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isOurs, pause, sandboxOwner, tailFile } from './owned-process.js';
import { withRetries } from '../clients/retry.js';
import { ClientError } from '../errors.js';

export interface QbtSandboxOptions {
  /** Sandbox directory (created); default a fresh temp dir that stop({purge}) may delete. */
  dir?: string;
  /** Require a login even from 127.0.0.1 (default false: loopback auth bypass). */
  auth?: boolean;
  username?: string;
  password?: string;
  /** Extra environment for the qbittorrent-nox process. */
  env?: Record<string, string>;
  /**
   * Run qBittorrent in its own mount namespace (`unshare -m`), after these shell commands, e.g.
   * `mount --bind /host/x /data/media`, so it sees container-style paths the test process does not.
   */
  prelude?: string[];
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  refreshMs?: number;
  bin?: string;
}

export interface QbtSandbox {
  readonly url: string;
  readonly pid: number;
  readonly dir: string;
  readonly profile: string;
  readonly downloads: string;
  readonly btBackup: string;
  readonly username: string;
  readonly password: string;
  readonly authBypass: boolean;
  /** One API call with the sandbox's own credentials (logs in when auth is required). */
  api(method: 'GET' | 'POST', apiPath: string, body?: Record<string, string> | FormData): Promise<{ status: number; text: string }>;
  /** SIGTERM (resume data is written), SIGKILL after the bound. Idempotent. */
  stop(): Promise<void>;
  /** Stop, then start again on the same profile (torrents, tags, categories survive). */
  restart(): Promise<void>;
  /** The last lines of the process log and of qBittorrent's own log, for failure messages. */
  logTail(lines?: number): string;
}

/** Free TCP port on 127.0.0.1 (bind port 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

/** `@ByteArray(salt:hash)` as qBittorrent 4.2+ stores a Web UI password (PBKDF2-HMAC-SHA512, 100000 rounds). */
export function qbtPasswordHash(password: string, salt: Buffer = randomBytes(16)): string {
  const hash = pbkdf2Sync(password, salt, 100_000, 64, 'sha512');
  return `@ByteArray(${salt.toString('base64')}:${hash.toString('base64')})`;
}

type Ini = Map<string, Map<string, string>>;

function parseIni(text: string): Ini {
  const ini: Ini = new Map();
  let section = new Map<string, string>();
  ini.set('', section);
  for (const line of text.split('\n')) {
    const head = /^\[(.+)\]\s*$/.exec(line);
    if (head) {
      section = ini.get(head[1] as string) ?? new Map();
      ini.set(head[1] as string, section);
    } else if (line.includes('=')) {
      const eq = line.indexOf('=');
      section.set(line.slice(0, eq), line.slice(eq + 1));
    }
  }
  return ini;
}

function writeIni(ini: Ini): string {
  const out: string[] = [];
  for (const [name, keys] of ini) {
    if (keys.size === 0) continue;
    if (name !== '') out.push(`[${name}]`);
    for (const [k, v] of keys) out.push(`${k}=${v}`);
    out.push('');
  }
  return out.join('\n');
}

/** Signals by which a process ends when it crashes (a test ending it on purpose sends SIGKILL or SIGTERM). */
const CRASH_SIGNALS = new Set<string>(['SIGSEGV', 'SIGABRT', 'SIGBUS', 'SIGILL', 'SIGFPE']);

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export async function startQbt(opts: QbtSandboxOptions = {}): Promise<QbtSandbox> {
  const dir = path.resolve(opts.dir ?? mkdtempSync(path.join(tmpdir(), 'hashall-qbt-')));
  const profile = path.join(dir, 'profile');
  const downloads = path.join(dir, 'downloads');
  const home = path.join(dir, 'home');
  const logFile = path.join(dir, 'qbt.log');
  const confFile = path.join(profile, 'qBittorrent', 'config', 'qBittorrent.conf');
  const qbLog = path.join(profile, 'qBittorrent', 'data', 'logs', 'qbittorrent.log');
  for (const d of [downloads, path.dirname(confFile), home, path.join(home, '.config'), path.join(home, '.local', 'share'), path.join(home, '.cache')]) {
    mkdirSync(d, { recursive: true });
  }
  const username = opts.username ?? 'admin';
  const password = opts.password ?? `pw ${randomBytes(6).toString('hex')}`;
  const authBypass = !opts.auth;
  const profileArg = `--profile=${profile}`;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 20_000;
  const passwordHash = qbtPasswordHash(password);

  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let pid = 0;
  let url = '';
  let cookie: string | null = null;
  let onExit: (() => void) | null = null;
  /** Our unreaped child: its PID cannot have been reused by another process. */
  let running = false;
  /** Set while stop() ends it; an exit otherwise is reported (`died`). */
  let stopping = false;
  let died: string | null = null;

  function writeConfig(webPort: number, torrentPort: number): void {
    const ini = existsSync(confFile) ? parseIni(readFileSync(confFile, 'utf8')) : (new Map() as Ini);
    const set = (section: string, values: Record<string, string>) => {
      const s = ini.get(section) ?? new Map<string, string>();
      for (const [k, v] of Object.entries(values)) s.set(k, v);
      ini.set(section, s);
    };
    set('LegalNotice', { Accepted: 'true' });
    set('BitTorrent', {
      'Session\\Port': String(torrentPort),
      'Session\\Interface': 'lo',
      'Session\\InterfaceName': 'lo',
      'Session\\InterfaceAddress': '127.0.0.1',
      'Session\\DHTEnabled': 'false',
      'Session\\PeXEnabled': 'false',
      'Session\\LSDEnabled': 'false',
      'Session\\QueueingSystemEnabled': 'false',
      'Session\\DefaultSavePath': downloads,
      'Session\\TempPathEnabled': 'false',
      'Session\\RefreshInterval': String(opts.refreshMs ?? 100),
      'Session\\MaxActiveCheckingTorrents': '16',
    });
    set('Network', { PortForwardingEnabled: 'false' });
    set('Preferences', {
      'WebUI\\Enabled': 'true',
      'WebUI\\Address': '127.0.0.1',
      'WebUI\\Port': String(webPort),
      'WebUI\\UseUPnP': 'false',
      'WebUI\\LocalHostAuth': authBypass ? 'false' : 'true',
      'WebUI\\Username': username,
      'WebUI\\Password_PBKDF2': `"${passwordHash}"`,
      'Connection\\ResolvePeerCountries': 'false',
    });
    writeFileSync(confFile, writeIni(ini));
  }

  function logTail(lines = 30): string {
    return `--- ${logFile}\n${tailFile(logFile, lines)}\n--- ${qbLog}\n${tailFile(qbLog, lines)}`;
  }

  async function rawApi(method: 'GET' | 'POST', apiPath: string, body?: Record<string, string> | FormData, withCookie = true) {
    const headers: Record<string, string> = {};
    if (withCookie && cookie) headers.cookie = cookie;
    let payload: string | FormData | undefined;
    if (body instanceof FormData) payload = body;
    else if (body || method === 'POST') {
      payload = new URLSearchParams(body ?? {}).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    // A network error (not a timeout) is tried three times, by the product's own retry policy: under load qBittorrent
    // closes kept-alive sockets, and a set-up call sent on one failed a test with "fetch failed" (seen at load ~10).
    return withRetries(
      { backoffMs: 150 },
      async () => {
        try {
          const res = await fetch(`${url}/api/v2${apiPath}`, { method, headers, body: payload, signal: AbortSignal.timeout(15_000) });
          return { status: res.status, text: await res.text(), setCookie: res.headers.get('set-cookie') };
        } catch (err) {
          if (died) throw new Error(`qbt sandbox: ${died}`, { cause: err });
          if (err instanceof TypeError && (err as { cause?: unknown }).cause !== undefined) return new ClientError('network', `qbt sandbox: ${method} ${apiPath}: ${err.message}`, { cause: err });
          throw err;
        }
      },
      () => new ClientError('network', `qbt sandbox: ${method} ${apiPath}: no try ran`),
    );
  }

  async function login(): Promise<void> {
    const res = await rawApi('POST', '/auth/login', { username, password }, false);
    const sid = /(?:^|[\s,])([A-Za-z_0-9]*SID[A-Za-z_0-9]*=[^;]+)/.exec(res.setCookie ?? '');
    if (res.text !== 'Ok.' || !sid) throw new Error(`qbt sandbox: login failed (${res.status} ${res.text})\n${logTail()}`);
    cookie = sid[1] as string;
  }

  async function api(method: 'GET' | 'POST', apiPath: string, body?: Record<string, string> | FormData) {
    let res = await rawApi(method, apiPath, body);
    if (res.status === 403 && !authBypass) {
      await login();
      res = await rawApi(method, apiPath, body);
    }
    return { status: res.status, text: res.text };
  }

  async function launch(): Promise<void> {
    const webPort = await freePort();
    let torrentPort = await freePort();
    while (torrentPort === webPort) torrentPort = await freePort();
    writeConfig(webPort, torrentPort);
    url = `http://127.0.0.1:${webPort}`;
    cookie = null;
    stopping = false;
    died = null;
    const bin = opts.bin ?? 'qbittorrent-nox';
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      LANG: 'C.UTF-8',
      ...opts.env,
    };
    // setpriv --pdeathsig: the kernel kills qBittorrent if the test worker dies without stopping it.
    const inner = opts.prelude
      ? ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `set -e\n${opts.prelude.join('\n')}\nexec ${shellQuote(bin)} ${shellQuote(profileArg)}`]
      : [bin, profileArg];
    const [cmd, args] = ['setpriv', ['--pdeathsig', 'KILL', '--', ...inner]];
    const fd = openSync(logFile, 'a');
    try {
      child = spawn(cmd, args as string[], { env, cwd: dir, detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const proc = child;
    running = true;
    exited = new Promise((resolve) => {
      const done = () => {
        running = false;
        resolve();
      };
      proc.once('exit', (code, signal) => {
        // Not asked to stop: say so at once, with how it ended and its log (a test then fails on refused connections).
        if (!stopping) {
          died = `qbittorrent-nox (pid ${proc.pid}) exited on its own: ${signal ? `signal ${signal}` : `code ${code}`}`;
          process.stderr.write(`qbt sandbox: ${died}\n${logTail()}\n`);
          // A crash of the daemon itself (not a kill a test sends) goes to the test runner's crash log (scripts/test.mjs).
          const log = process.env.HASHALL_TEST_CRASH_LOG;
          if (log && signal && CRASH_SIGNALS.has(signal)) appendFileSync(log, `${new Date().toISOString()} ${died} (profile ${profile})\n`);
        }
        done();
      });
      proc.once('error', done);
    });
    pid = proc.pid ?? 0;
    // If the test process exits without stopping us, do not leave qBittorrent behind.
    const thisPid = pid;
    onExit = () => {
      if (running && isOurs(thisPid, profileArg, true)) process.kill(thisPid, 'SIGKILL');
    };
    process.once('exit', onExit);

    const deadline = Date.now() + readyTimeoutMs;
    for (let i = 0; ; i++) {
      if (!running) throw new Error(`qbt sandbox: qbittorrent-nox exited during start\n${logTail()}`);
      try {
        const res = await fetch(`${url}/api/v2/app/version`, { signal: AbortSignal.timeout(2000) });
        await res.text();
        if (res.status === 200 || (res.status === 403 && !authBypass)) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || i > 2000) {
        await stop();
        throw new Error(`qbt sandbox: no answer on ${url} within ${readyTimeoutMs} ms\n${logTail()}`);
      }
      await pause(50);
    }
    // Make sure the answering process is ours: the right argv and our download directory.
    if (!isOurs(pid, profileArg, true)) throw new Error(`qbt sandbox: pid ${pid} is not the qbittorrent-nox we started\n${logTail()}`);
    const prefs = await api('GET', '/app/preferences');
    const savePath = (JSON.parse(prefs.text) as { save_path?: string }).save_path ?? '';
    if (path.resolve(savePath) !== downloads) {
      await stop();
      throw new Error(`qbt sandbox: ${url} reports save path ${savePath}, expected ${downloads} (another instance?)`);
    }
  }

  async function stop(): Promise<void> {
    const proc = child;
    if (!proc) return;
    if (onExit) process.removeListener('exit', onExit);
    onExit = null;
    const bounded = (ms: number) => Promise.race([exited.then(() => true), pause(ms).then(() => false)]);
    stopping = true;
    if (running) {
      process.kill(pid, 'SIGTERM');
      if (!(await bounded(stopTimeoutMs)) && running) {
        process.kill(pid, 'SIGKILL');
        if (!(await bounded(5_000))) throw new Error(`qbt sandbox: pid ${pid} survived SIGKILL`);
      }
    }
    child = null;
  }

  await launch();
  return {
    get url() {
      return url;
    },
    get pid() {
      return pid;
    },
    dir,
    profile,
    downloads,
    btBackup: path.join(profile, 'qBittorrent', 'data', 'BT_backup'),
    username,
    password,
    authBypass,
    api,
    stop,
    async restart() {
      await stop();
      await launch();
    },
    logTail,
  };
}

/**
 * Per-test-file owner of sandboxes: `const qbts = qbtSandboxes(); afterAll(() => qbts.stopAll())`.
 * stopAll stops every sandbox it started and deletes the temp dirs it created.
 */
export function qbtSandboxes() {
  return sandboxOwner<QbtSandboxOptions, QbtSandbox>(startQbt);
}
