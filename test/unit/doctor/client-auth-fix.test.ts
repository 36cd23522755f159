// doctor on a client that refuses the login: the fix names the instance's own keys and variable, in that client's terms (deluge-web has a password and no user name), never the value.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { makeTempDir, type TempDir } from '../../support/mounts.js';

const SECRET = 'wrong-pw-7c41d9';
let tmp: TempDir;
let server: Server;
let url: string;

beforeAll(async () => {
  tmp = makeTempDir('hashall-doctor-auth-');
  // deluge-web answering every login "false"; rTorrent's web server in front answering 401.
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url === '/RPC2') {
        res.writeHead(401).end();
        return;
      }
      const id = (JSON.parse(body) as { id: number }).id;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: false, error: null, id }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeConfig();
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  tmp?.cleanup();
});

function writeConfig(): void {
  writeFileSync(
    path.join(tmp.path, 'hashall.yaml'),
    [
      'version: 1',
      'catalog: catalog.db',
      `filesystems: { disk: { path: ${JSON.stringify(tmp.path)} } }`,
      'clients:',
      `  dl: { type: deluge, url: "${url}", password: "\${DL_PW}" }`,
      `  rt: { type: rtorrent, url: "${url}/RPC2", username: web, password: "\${RT_PW}" }`,
      '',
    ].join('\n'),
  );
}

describe('doctor: a refused login', () => {
  it("names the instance's password key and variable, in the client's terms, and never the password", async () => {
    const r = await runCli(['doctor', '--json', '--no-notify', '--config', path.join(tmp.path, 'hashall.yaml')], { cwd: tmp.path, env: { ...process.env, DL_PW: SECRET, RT_PW: SECRET } });
    expect(r.code, r.stderr).toBe(1);
    const checks = (JSON.parse(r.stdout) as { checks: { id: string; status: string; fix?: string }[] }).checks;
    const dl = checks.find((c) => c.id === 'client.dl');
    expect(dl?.status).toBe('problem');
    expect(dl?.fix).toMatch(/^check `clients\.dl\.password` \(\$\{DL_PW\}, read from the environment\): the deluge-web password/);
    expect(dl?.fix).not.toMatch(/username/);
    const rt = checks.find((c) => c.id === 'client.rt');
    expect(rt?.fix).toMatch(/^check `clients\.rt\.username` and `clients\.rt\.password` \(\$\{RT_PW\}, read from the environment\): the HTTP basic auth of the web server/);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });
});
