// An answer past the sender's bound (a wire-level fake deluge-web on 127.0.0.1: no real daemon sends one): read once, refused with what, which client and what to do — never retried.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDelugeClient } from '../../../src/clients/deluge/client.js';
import { ClientError } from '../../../src/errors.js';

const CAP = 16 << 10;
let server: Server;
let url: string;
const asked: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const { method, id } = JSON.parse(body) as { method: string; id: number };
      asked.push(method);
      const answer = (result: unknown, headers: Record<string, string> = {}) => res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ result, error: null, id }));
      if (method === 'auth.login') return answer(true, { 'set-cookie': '_session_id=fake-session; Path=/json' });
      if (method === 'web.connected') return answer(true);
      // The torrent list: streamed in pieces, four times the bound (a body never sent whole at once).
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"id":${id},"error":null,"result":{`);
      const entry = (i: number) => `"${i.toString(16).padStart(40, '0')}":{"hash":"${i.toString(16).padStart(40, '0')}"},`;
      let i = 0;
      const more = (): void => {
        if (i * 60 > 4 * CAP || res.destroyed) return void res.end('"x":{}}}');
        res.write(Array.from({ length: 50 }, () => entry(i++)).join(''), () => setImmediate(more));
      };
      more();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('an answer past the bound', () => {
  test('one request, a clear error naming the client, the call and what to do; not retried', async () => {
    const client = createDelugeClient({ url, password: () => 'pw', timeoutMs: 10_000, maxAnswerBytes: CAP, attempts: 3, backoffMs: 1 });
    try {
      const err = (await client.listHashes!().then(
        () => null,
        (e: unknown) => e,
      )) as ClientError;
      expect(err).toBeInstanceOf(ClientError);
      expect(err.kind).toBe('protocol');
      expect(err.message).toMatch(/^deluge-web at http:\/\/127\.0\.0\.1:\d+\/json answered core\.get_torrents_status with more than 16384 bytes: .*not retried/);
      expect(err.hint).toMatch(/client\.url/);
      expect(asked.filter((m) => m === 'core.get_torrents_status')).toHaveLength(1);
    } finally {
      await client.close();
    }
  });
});
