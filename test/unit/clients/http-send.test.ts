// The one HTTP sender of clients and notifications, against real local servers: a private CA is trusted only through the extra-CA file, read once at the first HTTPS connection; bounds, redirects, and what a failure says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { extraCaLoader } from '../../../src/clients/extra-ca.js';
import { createHttpSender, failureText, type HttpRequest } from '../../../src/clients/http-send.js';
import { makeSecret } from '../../../src/config/normalize.js';
import { failureNotice } from '../../../src/notify/notice.js';
import { sendNotice } from '../../../src/notify/send.js';
import { makePrivateCa, type PrivateCa } from '../../support/private-ca.js';

let tmp: string;
let ca: PrivateCa;
const servers: Server[] = [];
let httpsUrl: string;
let httpUrl: string;
let redirected = 0;

const handler: RequestListener = (req, res) => {
  const p = req.url ?? '/';
  if (p === '/big') return void res.end(Buffer.alloc(4096, 0x61));
  if (p === '/redirect') return void res.writeHead(302, { location: '/elsewhere' }).end('moved');
  if (p === '/elsewhere') redirected++;
  // Compressed as asked (accept-encoding); a bomb (1 MiB of zeros in ~1 KB) and a body that claims gzip but is not.
  if (p === '/gzip') return void res.writeHead(200, req.headers['accept-encoding'] === 'gzip' ? { 'content-encoding': 'gzip' } : {}).end(req.headers['accept-encoding'] === 'gzip' ? gzipSync('squeezed '.repeat(3000)) : 'plain');
  if (p === '/deflate') return void res.writeHead(200, { 'content-encoding': 'deflate' }).end(deflateSync('deflated'));
  if (p === '/bomb') return void res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(1 << 20)));
  if (p === '/not-gzip') return void res.writeHead(200, { 'content-encoding': 'gzip' }).end('not compressed at all');
  if (p === '/ua') return void res.end(req.headers['user-agent'] ?? '(none)');
  if (p === '/slow-body') {
    res.writeHead(200, { 'content-length': '10' }).write('12345');
    return; // the rest never comes
  }
  res.writeHead(200, { 'x-echo': req.method ?? '' }).end('hello');
};

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'hashall-http-send-'));
  ca = makePrivateCa(tmp);
  httpsUrl = `https://${await listen(createHttpsServer({ key: ca.key, cert: ca.cert }, handler))}`;
  httpUrl = `http://${await listen(createHttpServer(handler))}`;
});

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  rmSync(tmp, { recursive: true, force: true });
});

const get = (url: string, timeoutMs = 5000): HttpRequest => ({ method: 'GET', url: new URL(url), headers: {}, timeoutMs });
const caught = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);

/** A loader over `env` that counts its reads (each call) and keeps its warnings. */
function loader(env: NodeJS.ProcessEnv) {
  const warnings: string[] = [];
  let calls = 0;
  const load = extraCaLoader(env, (l) => warnings.push(l));
  return { warnings, calls: () => calls, extraCa: () => (calls++, load()) };
}

describe('HTTPS with a private CA', () => {
  it('trusted through HASHALL_EXTRA_CA_CERTS (beside the default roots), refused without it, with a message that says how', async () => {
    const trusted = createHttpSender({ extraCa: loader({ HASHALL_EXTRA_CA_CERTS: ca.caFile }).extraCa });
    const ans = await trusted.send(get(`${httpsUrl}/x`));
    expect([ans.status, ans.text, ans.header('X-Echo')]).toEqual([200, 'hello', 'GET']);
    trusted.close();
    const plain = createHttpSender({ extraCa: loader({}).extraCa });
    const err = await caught(plain.send(get(`${httpsUrl}/x`)));
    expect((err as { code?: string }).code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(failureText(err)).toContain('for a private CA, name its PEM file in NODE_EXTRA_CA_CERTS');
    plain.close();
  });

  it('the file is read at the first HTTPS connection, not before, and once: plain HTTP never reads it', async () => {
    const l = loader({ HASHALL_EXTRA_CA_CERTS: ca.caFile });
    const s = createHttpSender({ extraCa: l.extraCa });
    await s.send(get(`${httpUrl}/x`));
    expect(l.calls()).toBe(0);
    await s.send(get(`${httpsUrl}/a`));
    await s.send(get(`${httpsUrl}/b`));
    expect(l.calls()).toBe(1);
    s.close();
  });

  it('an unreadable or certificate-less file: one warning naming it (never its contents), then the default roots', async () => {
    const missing = loader({ HASHALL_EXTRA_CA_CERTS: path.join(tmp, 'missing.pem') });
    expect(missing.extraCa()).toBeUndefined();
    expect(missing.extraCa()).toBeUndefined();
    expect(missing.warnings).toEqual([`hashall: warning: ignoring the extra CA certificates of "${path.join(tmp, 'missing.pem')}" (NODE_EXTRA_CA_CERTS): cannot read it (ENOENT); only the default roots are trusted\n`]);
    const junk = path.join(tmp, 'junk.pem');
    writeFileSync(junk, 'password=hunter2\n');
    const none = loader({ HASHALL_EXTRA_CA_CERTS: junk });
    expect(none.extraCa()).toBeUndefined();
    expect(none.warnings).toHaveLength(1);
    expect(none.warnings[0]).toContain('it holds no PEM certificate');
    expect(none.warnings[0]).not.toContain('hunter2');
  });

  it('NODE_EXTRA_CA_CERTS still set to the same file (hashall.cjs run by node directly): node loaded it, it is not read again', () => {
    const gone = path.join(tmp, 'gone.pem');
    const l = loader({ NODE_EXTRA_CA_CERTS: gone, HASHALL_EXTRA_CA_CERTS: gone });
    expect(l.extraCa()).toBeUndefined();
    expect(l.warnings).toEqual([]);
  });

  it('a notification to an HTTPS target of the private CA is sent (the same sender)', async () => {
    // The process's loader: this test process started without HASHALL_EXTRA_CA_CERTS, so it is refused here ...
    const target = { name: 'hook', format: 'json' as const, url: makeSecret(`${httpsUrl}/hook`, {}), headers: {}, events: ['failed' as const], timeoutMs: 5000, retries: 0 };
    const [out] = await sendNotice([target], failureNotice('apply', 'x', { host: 'nas', at: 0 }));
    expect(out).toMatchObject({ status: 'failed' });
    expect(out?.error).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });
});

describe('bounds and redirects', () => {
  it('an answer past the bound fails (clients) or is cut there (notifications)', async () => {
    const strict = createHttpSender({ maxBodyBytes: 1000 });
    expect((await caught(strict.send(get(`${httpUrl}/big`))) as { code?: string }).code).toBe('ERESPONSETOOLARGE');
    const lenient = createHttpSender({ maxBodyBytes: 1000, lenientBody: true });
    expect((await lenient.send(get(`${httpUrl}/big`))).text).toBe('a'.repeat(1000));
    strict.close();
    lenient.close();
  });

  it('a compressed answer (asked for by a transport) is decompressed, and bounded after decompression; one that does not decompress fails', async () => {
    const s = createHttpSender({ maxBodyBytes: 100_000 });
    const gz = (p: string): HttpRequest => ({ ...get(`${httpUrl}${p}`), headers: { 'accept-encoding': 'gzip' } });
    expect((await s.send(gz('/gzip'))).text).toBe('squeezed '.repeat(3000));
    expect((await s.send(get(`${httpUrl}/gzip`))).text).toBe('plain');
    expect((await s.send(gz('/deflate'))).text).toBe('deflated');
    expect((await caught(s.send(gz('/bomb'))) as { code?: string }).code).toBe('ERESPONSETOOLARGE');
    expect((await caught(s.send(gz('/not-gzip'))) as { code?: string }).code).toBe('EBADENCODING');
    s.close();
    const lenient = createHttpSender({ maxBodyBytes: 100_000, lenientBody: true });
    expect((await lenient.send(gz('/not-gzip'))).text).toBe('not compressed at all');
    lenient.close();
  });

  it('a redirect is an answer, never followed', async () => {
    const s = createHttpSender();
    const ans = await s.send(get(`${httpUrl}/redirect`));
    expect([ans.status, ans.header('location')]).toEqual([302, '/elsewhere']);
    expect(redirected).toBe(0);
    s.close();
  });

  it("the bound covers the answer's last byte: a body that stops coming is a timeout — unless the status decides (notifications)", async () => {
    const s = createHttpSender();
    const err = await caught(s.send(get(`${httpUrl}/slow-body`, 300)));
    expect((err as Error).name).toBe('TimeoutError');
    s.close();
    const lenient = createHttpSender({ lenientBody: true });
    const ans = await lenient.send(get(`${httpUrl}/slow-body`, 300));
    expect([ans.status, ans.text]).toEqual([200, '12345']);
    lenient.close();
  });

  it('sends a User-Agent unless the request has its own', async () => {
    const s = createHttpSender();
    expect((await s.send(get(`${httpUrl}/ua`))).text).toBe('hashall');
    expect((await s.send({ ...get(`${httpUrl}/ua`), headers: { 'User-Agent': 'mine/1' } })).text).toBe('mine/1');
    s.close();
  });
});
