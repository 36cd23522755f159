// Test support: wire-level fakes of Transmission RPC, rTorrent XML-RPC (HTTP) and deluge-web JSON-RPC on 127.0.0.1, for faults the real daemons cannot produce (lying "ok", 5xx, echoed secrets) and for benchmarks.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRpcTorrent {
  hash: string; // lower-case hex
  name: string;
  dir: string; // Transmission downloadDir / rTorrent save path
  files: { path: string; size: number }[]; // relative to the payload root (multi) or the single file's name
  running: boolean;
  /** Deluge: the torrent is in state Error with this `message` (a client's error text, which may quote a tracker). */
  errorMessage?: string;
  /** Deluge: its trackers' announce URLs (default: one without a passkey). */
  trackers?: string[];
}

export interface FakeRpc {
  url: string;
  torrents: Map<string, FakeRpcTorrent>;
  /** The next `n` requests answer this HTTP status with an empty body. */
  failNext(n: number, status: number): void;
  /** Calls seen per method name. */
  count(method: string): number;
  close(): Promise<void>;
}

/** Every fake mutation is a lie: it answers success and changes nothing. */
async function serve(handle: (body: string, headers: Record<string, string | string[] | undefined>) => { status: number; body: string; headers?: Record<string, string> }): Promise<{ server: Server; url: string; fail: { n: number; status: number } }> {
  const fail = { n: 0, status: 500 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (fail.n > 0) {
        fail.n--;
        res.writeHead(fail.status).end();
        return;
      }
      const out = handle(Buffer.concat(chunks).toString('utf8'), req.headers);
      res.writeHead(out.status, out.headers ?? {}).end(out.body);
    });
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  return { server, url: `http://127.0.0.1:${port}`, fail };
}

function bump(counts: Map<string, number>, m: string): void {
  counts.set(m, (counts.get(m) ?? 0) + 1);
}

const total = (t: FakeRpcTorrent) => t.files.reduce((n, f) => n + f.size, 0);
const multi = (t: FakeRpcTorrent) => t.files.length > 1 || t.files[0]?.path !== t.name;

export async function startFakeTransmission(): Promise<FakeRpc> {
  const torrents = new Map<string, FakeRpcTorrent>();
  const counts = new Map<string, number>();
  const session = 'fake-session-1';
  const { server, url, fail } = await serve((body, headers) => {
    if (headers['x-transmission-session-id'] !== session) return { status: 409, body: '', headers: { 'x-transmission-session-id': session } };
    const req = JSON.parse(body) as { method: string; arguments?: { ids?: string[]; fields?: string[] } };
    bump(counts, req.method);
    const ok = (args: unknown) => ({ status: 200, body: JSON.stringify({ result: 'success', arguments: args }) });
    if (req.method === 'session-get') return ok({ version: '3.00 (fake)', 'rpc-version': 16 });
    if (req.method !== 'torrent-get') return ok({});
    const ids = req.arguments?.ids;
    const list = ids ? ids.map((h) => torrents.get(h.toLowerCase())).filter((t): t is FakeRpcTorrent => !!t) : [...torrents.values()];
    const wantFiles = req.arguments?.fields?.includes('files');
    return ok({
      torrents: list.map((t) => ({
        hashString: t.hash,
        name: t.name,
        downloadDir: t.dir,
        status: t.running ? 6 : 0,
        error: 0,
        errorString: '',
        percentDone: 1,
        leftUntilDone: 0,
        totalSize: total(t),
        addedDate: 1_700_000_000,
        doneDate: 1_700_000_100,
        secondsSeeding: 100,
        trackers: [],
        labels: [],
        ...(wantFiles ? { files: t.files.map((f) => ({ name: multi(t) ? `${t.name}/${f.path}` : f.path, length: f.size, bytesCompleted: f.size })) } : {}),
      })),
    });
  });
  return { url: `${url}/transmission/rpc`, torrents, failNext: (n, s) => Object.assign(fail, { n, status: s }), count: (m) => counts.get(m) ?? 0, close: () => new Promise((r) => server.close(() => r())) };
}

const xs = (s: string) => `<value><string>${s.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</string></value>`;
const xi = (n: number) => `<value><i8>${n}</i8></value>`;
const xa = (vals: string[]) => `<value><array><data>${vals.join('')}</data></array></value>`;
const answer = (v: string) => ({ status: 200, body: `<?xml version="1.0"?><methodResponse><params><param>${v}</param></params></methodResponse>`, headers: { 'content-type': 'text/xml' } });

/** rTorrent's d.* fields the adapter reads (see src/clients/rtorrent/client.ts), with the fake's value of each. */
function dFields(t: FakeRpcTorrent): Record<string, string> {
  const m = multi(t);
  const size = total(t);
  const v = [xs(t.hash.toUpperCase()), xs(t.name), xs(m ? `${t.dir}/${t.name}` : t.dir), xi(m ? 1 : 0), xi(t.running ? 1 : 0), xi(1), xi(t.running ? 1 : 0), xi(1), xi(0), xi(0), xi(0), xi(1), xs(''), xi(size), xi(0), xi(size), xi(1_700_000_000), xi(1_700_000_100), xi(0), xi(Math.max(1, Math.ceil(size / 65536)))];
  const names = ['d.hash', 'd.name', 'd.directory', 'd.is_multi_file', 'd.state', 'd.is_open', 'd.is_active', 'd.complete', 'd.hashing', 'd.is_hash_checking', 'd.hashing_failed', 'd.is_hash_checked', 'd.custom1', 'd.size_bytes', 'd.left_bytes', 'd.completed_bytes', 'd.load_date', 'd.timestamp.finished', 'd.wanted_chunks', 'd.completed_chunks'];
  // The trackers' t.multicall rows ([t.url, t.group]), the last value of a row; this fake's torrents have none.
  return { ...Object.fromEntries(names.map((n, i) => [n, v[i] as string])), 't.multicall': xa([]) };
}

export interface FakeRtorrent extends FakeRpc {
  /** Torrents whose d.state answers a string instead of a number (an answer entry that does not parse). */
  malformed: Set<string>;
  /** The next system.multicall answers one result fewer than it was asked for. */
  dropResultNext(): void;
  /** The info-hashes (lower case) named by each system.multicall, in order. */
  multicalls: string[][];
}

export async function startFakeRtorrent(): Promise<FakeRtorrent> {
  const torrents = new Map<string, FakeRpcTorrent>();
  const counts = new Map<string, number>();
  const malformed = new Set<string>();
  const multicalls: string[][] = [];
  let drop = false;
  const fault = `<value><struct><member><name>faultCode</name>${xi(-501)}</member><member><name>faultString</name>${xs('Could not find info-hash.')}</member></struct></value>`;
  const { server, url, fail } = await serve((body) => {
    const method = /<methodName>([^<]+)<\/methodName>/.exec(body)?.[1] ?? '';
    bump(counts, method);
    if (method === 'system.client_version') return answer(xs('0.9.8'));
    if (method === 'system.api_version') return answer(xi(10));
    if (method === 'session.path') return answer(xs('/config/rtorrent/session/')); // a daemon with sessions on
    if (method === 'd.multicall2') return answer(xa([...torrents.values()].map((t) => xa(Object.values(dFields(t))))));
    if (method === 'system.multicall') {
      // Each call of the multicall: its method and the info-hash it names; one result (or fault) per call, in order.
      const calls = [...body.matchAll(/<name>methodName<\/name><value><string>([^<]+)<\/string><\/value><\/member><member><name>params<\/name><value><array><data>(?:<value><string>([^<]*)<\/string><\/value>)?/g)].map((x) => ({ m: x[1] as string, h: (x[2] ?? '').toLowerCase() }));
      multicalls.push([...new Set(calls.map((c) => c.h))]);
      const results = calls.map(({ m, h }) => {
        const t = torrents.get(h);
        if (!t) return fault;
        if (m === 'f.multicall') return xa([xa(t.files.map((f) => xa([xs(f.path), xi(f.size), xi(1), xi(1)])))]);
        if (m === 'd.state' && malformed.has(h)) return xa([xs('started')]);
        const v = dFields(t)[m];
        return xa([v ?? xi(0)]); // a mutation: "ok", and nothing happens
      });
      if (drop) {
        drop = false;
        results.pop();
      }
      return answer(xa(results));
    }
    return answer(xi(0)); // every mutation: "ok", and nothing happens
  });
  return {
    url: `${url}/RPC2`,
    torrents,
    malformed,
    multicalls,
    dropResultNext: () => {
      drop = true;
    },
    failNext: (n, s) => Object.assign(fail, { n, status: s }),
    count: (m) => counts.get(m) ?? 0,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export interface FakeDeluge extends FakeRpc {
  /** The next call of `method` answers a deluge-web error (code 3) with this message. */
  errorOn(method: string, message: string): void;
  /** Forget every session (as deluge-web's session timeout does): the next call is "Not authenticated". */
  expireSessions(): void;
  /** Torrents whose file_priorities answer is not a list (a status entry that does not parse). */
  malformed: Set<string>;
  /** Every call after the login: its method and parameters. */
  calls: { method: string; params: unknown[] }[];
}

/** deluge-web's /json: auth.login sets a session cookie, every other call needs it; reads from `torrents`, mutations lie. */
export async function startFakeDeluge(opts: { password?: string; version?: string } = {}): Promise<FakeDeluge> {
  const version = opts.version ?? '2.0.3';
  const torrents = new Map<string, FakeRpcTorrent>();
  const counts = new Map<string, number>();
  const errors = new Map<string, string>();
  const sessions = new Set<string>();
  const malformed = new Set<string>();
  const calls: { method: string; params: unknown[] }[] = [];
  let n = 0;
  const status = (t: FakeRpcTorrent, keys: string[]): Record<string, unknown> => {
    const size = total(t);
    const all: Record<string, unknown> = {
      hash: t.hash,
      name: t.name,
      save_path: t.dir,
      state: t.errorMessage !== undefined ? 'Error' : t.running ? 'Seeding' : 'Paused',
      progress: 100,
      message: t.errorMessage ?? 'OK',
      label: '',
      total_size: size,
      total_wanted: size,
      total_done: size,
      time_added: 1_700_000_000,
      completed_time: 1_700_000_100,
      seeding_time: 100,
      trackers: (t.trackers ?? ['http://tracker.example/announce']).map((url, tier) => ({ url, tier })),
      move_completed: false,
      move_completed_path: '/dl',
      is_auto_managed: false,
      files: t.files.map((f, index) => ({ index, path: multi(t) ? `${t.name}/${f.path}` : f.path, size: f.size })),
      file_progress: t.files.map(() => 1),
      file_priorities: malformed.has(t.hash) ? 'all' : t.files.map(() => 4),
    };
    return Object.fromEntries(keys.map((k) => [k, all[k]]));
  };
  const { server, url, fail } = await serve((body, headers) => {
    const req = JSON.parse(body) as { method: string; params: unknown[]; id: number };
    bump(counts, req.method);
    const reply = (result: unknown, error: unknown = null, extra: Record<string, string> = {}) => ({ status: 200, body: JSON.stringify({ result, error, id: req.id }), headers: { 'content-type': 'application/json', ...extra } });
    if (req.method === 'auth.login') {
      if (opts.password !== undefined && req.params[0] !== opts.password) return reply(false);
      const sid = `fake-session-${++n}`;
      sessions.add(sid);
      return reply(true, null, { 'set-cookie': `_session_id=${sid}; Path=/json` });
    }
    calls.push({ method: req.method, params: req.params });
    const sid = /_session_id=([^;]+)/.exec(String(headers.cookie ?? ''))?.[1] ?? '';
    if (!sessions.has(sid)) return reply(null, { message: 'Not authenticated', code: 1 });
    const err = errors.get(req.method);
    if (err !== undefined) {
      errors.delete(req.method);
      return reply(null, { message: err, code: 3 });
    }
    switch (req.method) {
      case 'web.connected':
        return reply(true);
      case 'daemon.get_version':
        // 1.3 has only daemon.info.
        return version.startsWith('1.') ? reply(null, { message: 'Unknown method', code: 2 }) : reply(version);
      case 'daemon.info':
        return reply(version);
      case 'core.get_libtorrent_version':
        return reply('2.0.8.0');
      case 'core.get_config_values':
        // A default daemon's folders: its config under /config, no .torrent copies, no auto-add.
        return reply({ plugins_location: '/config/deluge/plugins', copy_torrent_file: false, torrentfiles_location: '/config/deluge/torrents', autoadd_enable: false, autoadd_location: '/config/deluge/watch' });
      case 'core.get_torrents_status': {
        const ids = (req.params[0] as { id?: string[] }).id;
        const list = ids ? ids.map((h) => torrents.get(h)).filter((t): t is FakeRpcTorrent => !!t) : [...torrents.values()];
        return reply(Object.fromEntries(list.map((t) => [t.hash, status(t, req.params[1] as string[])])));
      }
      case 'core.get_torrent_status': {
        const t = torrents.get(String(req.params[0]));
        return reply(t ? status(t, req.params[1] as string[]) : {});
      }
      default:
        return reply(null); // every mutation: "ok", and nothing happens
    }
  });
  return {
    url,
    torrents,
    failNext: (k, s) => Object.assign(fail, { n: k, status: s }),
    count: (m) => counts.get(m) ?? 0,
    errorOn: (m, message) => errors.set(m, message),
    expireSessions: () => sessions.clear(),
    malformed,
    calls,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
