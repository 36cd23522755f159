// Test support: a scriptable wire-level fake of the qBittorrent Web API on 127.0.0.1, for faults the real one cannot produce.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeAnswer {
  status?: number;
  body?: string;
  json?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering (for client timeouts). */
  delayMs?: number;
  /** Drop the connection without an answer (a network error for the client). */
  destroy?: boolean;
  /** Promise the whole body (its content-length), send only its first `bytes`, then drop the connection or stall. */
  partial?: { bytes: number; then: 'drop' | 'stall' };
}

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  form: URLSearchParams;
  cookie: string;
  rawBody: string;
}

export interface FakeTorrent {
  hash: string;
  name: string;
  state: string;
  save_path: string;
  content_path: string;
  progress: number;
  tags: string;
  auto_tmm: boolean;
  [key: string]: unknown;
}

export interface FakeQbtOptions {
  webApiVersion?: string;
  /** When set, every endpoint but /auth/login needs the session cookie this login hands out. */
  auth?: { username: string; password: string };
  /** setLocation/pause/resume/... answer 200 and change nothing. */
  lying?: boolean;
  /** Serve HTTPS with this key and certificate (PEM); the URL is then https://127.0.0.1:PORT. */
  tls?: { key: string; cert: string };
  /** Called with each request as it arrives, before it is answered. */
  onRequest?: (r: SeenRequest) => void;
  /** What /app/preferences answers (a sync reads the client's own folders there); absent: 404, as before it was asked. */
  preferences?: Record<string, unknown>;
}

export interface FakeQbt {
  readonly url: string;
  readonly requests: SeenRequest[];
  readonly torrents: Map<string, FakeTorrent>;
  /** Answer the next calls to `path` (below /api/v2) with these, in order, before the default behaviour. */
  script(path: string, ...answers: FakeAnswer[]): void;
  /** Invalidate every session (the next authenticated call gets 403). */
  expireSessions(): void;
  setLying(lying: boolean): void;
  count(path: string): number;
  close(): Promise<void>;
}

export function fakeTorrent(hash: string, over: Partial<FakeTorrent> = {}): FakeTorrent {
  return {
    hash,
    name: 'Payload',
    state: 'pausedUP',
    save_path: '/data/seed',
    content_path: '/data/seed/Payload',
    download_path: '',
    progress: 1,
    amount_left: 0,
    size: 1000,
    total_size: 1000,
    category: '',
    tags: '',
    auto_tmm: false,
    added_on: 1700000000,
    completion_on: 1700000001,
    seeding_time: 42,
    tracker: '',
    ...over,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFakeQbt(opts: FakeQbtOptions = {}): Promise<FakeQbt> {
  const scripts = new Map<string, FakeAnswer[]>();
  const requests: SeenRequest[] = [];
  const torrents = new Map<string, FakeTorrent>();
  const sessions = new Set<string>();
  const sockets = new Set<Socket>();
  let lying = opts.lying ?? false;
  let sessionSerial = 0;

  const send = (res: ServerResponse, a: FakeAnswer) => {
    if (a.destroy) {
      res.socket?.destroy();
      return;
    }
    const body = a.json !== undefined ? JSON.stringify(a.json) : (a.body ?? '');
    res.writeHead(a.status ?? 200, { 'content-type': a.json !== undefined ? 'application/json' : 'text/plain; charset=UTF-8', 'content-length': String(Buffer.byteLength(body)), ...a.headers });
    if (a.partial) {
      res.write(Buffer.from(body).subarray(0, a.partial.bytes));
      if (a.partial.then === 'drop') setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    res.end(body);
  };

  const hashesOf = (form: URLSearchParams): string[] => (form.get('hashes') ?? '').toLowerCase().split('|').filter(Boolean);
  const mutateEach = (form: URLSearchParams, f: (t: FakeTorrent) => void) => {
    if (lying) return;
    for (const h of hashesOf(form)) {
      const t = torrents.get(h);
      if (t) f(t);
    }
  };

  function defaultAnswer(r: SeenRequest): FakeAnswer {
    switch (r.path) {
      case '/app/version':
        return { body: 'v4.5.2' };
      case '/app/webapiVersion':
        return { body: opts.webApiVersion ?? '2.8.19' };
      case '/auth/logout':
        return { body: '' };
      case '/app/preferences':
        return opts.preferences ? { json: opts.preferences } : { status: 404, body: 'Not Found' };
      case '/torrents/info': {
        const wanted = (r.query.get('hashes') ?? '').toLowerCase().split('|').filter(Boolean);
        const list = [...torrents.values()].filter((t) => wanted.length === 0 || wanted.includes(t.hash));
        return { json: list };
      }
      case '/torrents/files': {
        const t = torrents.get((r.query.get('hash') ?? '').toLowerCase());
        if (!t) return { status: 404, body: 'Not Found' };
        // The torrent's own list when the test gives one (`fileList`), else one 1000-byte file named like the torrent.
        const list = Array.isArray(t.fileList) ? (t.fileList as { name: string; size: number }[]) : [{ name: t.name, size: 1000 }];
        return { json: list.map((f, index) => ({ index, name: f.name, size: f.size, progress: t.progress, priority: 1, is_seed: true })) };
      }
      case '/torrents/pause':
      case '/torrents/stop':
        mutateEach(r.form, (t) => (t.state = t.progress >= 1 ? 'pausedUP' : 'pausedDL'));
        return { body: '' };
      case '/torrents/resume':
      case '/torrents/start':
        mutateEach(r.form, (t) => (t.state = t.progress >= 1 ? 'stalledUP' : 'stalledDL'));
        return { body: '' };
      case '/torrents/setLocation': {
        const loc = r.form.get('location') ?? '';
        if (loc === '') return { status: 400, body: 'Save path cannot be empty' };
        mutateEach(r.form, (t) => {
          const top = t.content_path.slice(t.save_path.length);
          t.save_path = loc;
          t.content_path = `${loc}${top}`;
          t.auto_tmm = false;
        });
        return { body: '' };
      }
      case '/torrents/recheck':
        mutateEach(r.form, (t) => {
          t.progress = 1;
          t.state = /^(paused|stopped)/.test(t.state) ? 'pausedUP' : 'stalledUP';
        });
        return { body: '' };
      case '/torrents/setAutoManagement':
        mutateEach(r.form, (t) => (t.auto_tmm = r.form.get('enable') === 'true'));
        return { body: '' };
      case '/torrents/addTags':
      case '/torrents/removeTags':
      case '/torrents/setDownloadPath':
        return { body: '' };
      default:
        return { status: 404, body: 'Not Found' };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rawBody = await readBody(req);
    const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const r: SeenRequest = {
      method: req.method ?? 'GET',
      path: u.pathname.replace(/^\/api\/v2/, ''),
      query: u.searchParams,
      form: new URLSearchParams(isForm ? rawBody : ''),
      cookie: req.headers.cookie ?? '',
      rawBody,
    };
    requests.push(r);
    opts.onRequest?.(r);
    const scripted = scripts.get(r.path)?.shift();
    if (scripted) {
      if (scripted.delayMs) await new Promise((resolve) => setTimeout(resolve, scripted.delayMs));
      if (!res.destroyed) send(res, scripted);
      return;
    }
    if (r.path === '/auth/login' && opts.auth) {
      if (r.form.get('username') === opts.auth.username && r.form.get('password') === opts.auth.password) {
        const sid = `fake${++sessionSerial}`;
        sessions.add(sid);
        send(res, { body: 'Ok.', headers: { 'set-cookie': `SID=${sid}; HttpOnly; path=/; SameSite=Strict` } });
      } else send(res, { body: 'Fails.' });
      return;
    }
    if (r.path === '/auth/login') return send(res, { body: 'Ok.' });
    if (opts.auth) {
      const sid = /(?:^|;\s*)SID=([^;]+)/.exec(r.cookie)?.[1];
      if (!sid || !sessions.has(sid)) return send(res, { status: 403, body: 'Forbidden' });
    }
    send(res, defaultAnswer(r));
  }

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => res.destroy());
  };
  const server: Server = opts.tls ? createTlsServer(opts.tls, handler) : createServer(handler);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    torrents,
    script(path, ...answers) {
      scripts.set(path, [...(scripts.get(path) ?? []), ...answers]);
    },
    expireSessions() {
      sessions.clear();
    },
    setLying(v) {
      lying = v;
    },
    count(path) {
      return requests.filter((r) => r.path === path).length;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
