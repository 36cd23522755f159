// Test support: a local HTTP server on 127.0.0.1 (port 0) receiving notifications; a path ending in /fail answers 500 (echoing the path),
// /hang never answers; everything else 200 after an optional hook (a test can act before the sender gets its answer).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Requests to paths ending in `name` (e.g. `/discord`). */
  to(name: string): Received[];
  /** Called before a 200 answer; the sender waits for it. */
  onRequest: ((r: Received) => Promise<void>) | null;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const recv: Receiver = {
    url: '',
    received,
    to: (name) => received.filter((r) => r.path.split('?')[0]!.endsWith(`/${name}`)),
    onRequest: null,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      const bare = r.path.split('?')[0]!;
      if (bare.endsWith('/hang')) return; // never answered: the sender's timeout must end it
      if (bare.endsWith('/fail')) {
        // Echoes the request line, as some servers do: a sender must keep the secrets in it out of its errors.
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`internal error at POST ${r.path} (auth ${String(r.headers.authorization ?? '-')})`);
        return;
      }
      void (recv.onRequest ? recv.onRequest(r) : Promise.resolve()).finally(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  recv.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return recv;
}
