// Notifications on real parts: a real apply (tmpfs stash/pool, SQLite) tells a local HTTP server in every format; a target
// answering 500 and one never answering do not fail the apply, they are retried, reported and recorded; no secret leaks.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { loadConfig } from '../../../src/config/load.js';
import { bytesFor, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeTree, writeFixtureConfig, type ApplyFixture } from '../../support/apply-fixture.js';
import { runCli } from '../../support/cli.js';
import { startReceiver, type Receiver } from '../../support/notify-receiver.js';

const SECRETS = { HOOK_PATH: 'hook-7f3c9a1e5d2b8c4f', NTFY_TOKEN: 'tk_s3cr3tN7fyT0ken9', GOTIFY_TOKEN: 'AgotifyT0kenQ8z' };
const env = { ...process.env, NO_COLOR: '1', ...SECRETS };

let recv: Receiver;
let w: ApplyFixture | null = null;
beforeAll(async () => {
  recv = await startReceiver();
});
afterAll(async () => {
  await recv?.close();
});
afterEach(() => {
  w?.cleanup();
  w = null;
  recv.received.length = 0;
});

/** hashall.yaml for the world with one target per format, plus one that answers 500 and one that never answers. */
function writeConfig(world: ApplyFixture, extra: string[] = []): string {
  const base = `${recv.url}/\${HOOK_PATH}`;
  return writeFixtureConfig(world, [
    'dedupe: { filesystems: [stash], minSize: 0 }',
    'notify:',
    `  - { name: generic, format: json, url: "${base}/json", events: [applied, failed, needs-attention, nothing-to-do, drift, blocked, doctor] }`,
    `  - { name: chat, format: discord, url: "${base}/discord" }`,
    `  - { name: team, format: slack, url: "${base}/slack" }`,
    `  - { name: mm, format: mattermost, url: "${base}/mattermost" }`,
    `  - { name: phone, format: ntfy, url: "${base}/ntfy", headers: { Authorization: "Bearer \${NTFY_TOKEN}" } }`,
    `  - { name: gotify, format: gotify, url: "${recv.url}/message/gotify?token=\${GOTIFY_TOKEN}" }`,
    `  - { name: apprise, format: apprise, url: "${base}/apprise" }`,
    `  - { name: broken, format: json, url: "${base}/fail", retries: 1, headers: { Authorization: "Bearer \${NTFY_TOKEN}" } }`,
    `  - { name: silent, format: json, url: "${base}/hang", timeout: 1s, retries: 1 }`,
    ...extra,
  ]);
}

function validator() {
  const ajv = new Ajv({ allErrors: true, strict: true });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv.compile(JSON.parse(readFileSync(path.resolve('schemas/notification.schema.json'), 'utf8')) as object);
}

/** Every byte of the catalog's files (db, -wal, -shm): a secret must not be stored anywhere in them. */
function catalogBytes(world: ApplyFixture): string {
  const dir = path.dirname(world.config.catalog);
  return readdirSync(dir)
    .map((n) => readFileSync(path.join(dir, n)).toString('latin1'))
    .join('');
}

function expectNoSecret(text: string): void {
  for (const s of Object.values(SECRETS)) expect(text).not.toContain(s);
}

describe('notifications after apply (real apply, local HTTP receiver)', () => {
  it('every format is received with its shape; a 500 and a timeout are retried, reported, recorded; apply exits 0; no secret anywhere', async () => {
    w = makeApplyFixture();
    const src = path.join(w.stash, 'seeding', 'movies', 'Notify.Movie');
    const dst = path.join(w.pool, 'seeding', 'movies', 'Notify.Movie');
    writeTree(src, { 'a.mkv': bytesFor('notify', 300_000) });
    const before = hashTreeSync(src);
    const cfg = writeConfig(w);
    w.config = loadConfig(cfg, { env, cwd: w.root }).config;
    const planFile = path.join(w.root, 'plan.json');
    writeFileSync(planFile, JSON.stringify(makePlan(w, [moveGroup('g1', w, src, dst)])));

    const r = await runCli(['apply', planFile, '--config', cfg, '--json'], { env, cwd: w.root });
    expect(r.code, r.stderr).toBe(0);
    expect(hashTreeSync(dst)).toEqual(before);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const runDone = events.find((e) => e.type === 'run-done')!;
    expect(runDone.status).toBe('succeeded');
    const runId = runDone.runId as string;

    // generic JSON: valid against the published schema, versioned, with bytes moved.
    const [json] = recv.to('json');
    const payload = JSON.parse(json!.body) as Record<string, unknown>;
    const validate = validator();
    expect(validate(payload), JSON.stringify(validate.errors)).toBe(true);
    expect(payload).toMatchObject({ version: 1, event: 'applied', severity: 'success', runId, apply: { status: 'succeeded', groupsDone: 1, groupsTotal: 1, bytesMoved: 300_000 } });
    expect(json!.headers['content-type']).toBe('application/json');
    // Discord: Execute Webhook with one embed, no mentions.
    const discord = JSON.parse(recv.to('discord')[0]!.body) as { username: string; embeds: { title: string; description: string; color: number }[]; allowed_mentions: unknown };
    expect(discord.username).toBe('hashall');
    expect(discord.embeds[0]!.title).toMatch(/apply succeeded/);
    expect(discord.embeds[0]!.description).toMatch(/1\/1 group\(s\) done, 293 KiB moved|1\/1 group\(s\) done/);
    expect(discord.allowed_mentions).toEqual({ parse: [] });
    // Slack-compatible: `text`.
    const slack = JSON.parse(recv.to('slack')[0]!.body) as { text: string; mrkdwn: boolean };
    expect(slack.text).toMatch(/^hashall on .*: apply succeeded\n1\/1 group/);
    expect(slack.mrkdwn).toBe(false);
    // Mattermost: `text` as markdown, its own characters escaped.
    expect((JSON.parse(recv.to('mattermost')[0]!.body) as { text: string }).text).toMatch(/^\*\*hashall on .*: apply succeeded\*\*\n1\/1 group\\\(s\\\) done/);
    // ntfy: the message as the body, title/priority/tags as headers, the token header passed through.
    const ntfy = recv.to('ntfy')[0]!;
    expect(ntfy.body).toMatch(/^1\/1 group\(s\) done/);
    expect(ntfy.headers.title).toMatch(/apply succeeded/);
    expect(ntfy.headers.priority).toBe('3');
    expect(ntfy.headers.tags).toBe('hashall,white_check_mark');
    expect(ntfy.headers.authorization).toBe(`Bearer ${SECRETS.NTFY_TOKEN}`);
    // Gotify: POST /message?token=…, JSON title/message/priority.
    const gotify = recv.to('gotify')[0]!;
    expect(gotify.path).toBe(`/message/gotify?token=${SECRETS.GOTIFY_TOKEN}`);
    expect(JSON.parse(gotify.body)).toMatchObject({ title: expect.stringMatching(/apply succeeded/), message: expect.stringMatching(/^1\/1 group/), priority: 4 });
    // Apprise API: title/body/type/format.
    expect(JSON.parse(recv.to('apprise')[0]!.body)).toMatchObject({ title: expect.stringMatching(/apply succeeded/), body: expect.stringMatching(/^1\/1/), type: 'success', format: 'text' });
    // The failing ones: tried 1 + retries times each.
    expect(recv.to('fail')).toHaveLength(2);
    expect(recv.to('hang')).toHaveLength(2);

    // Reported: NDJSON notify events and warnings for the failures (stderr too).
    const notifies = events.filter((e) => e.type === 'notify');
    expect(notifies.filter((e) => e.status === 'sent').map((e) => e.target).sort()).toEqual(['apprise', 'chat', 'generic', 'gotify', 'mm', 'phone', 'team']);
    expect(notifies.filter((e) => e.status === 'failed').map((e) => e.target).sort()).toEqual(['broken', 'silent']);
    expect(r.stderr).toMatch(/notification to broken \(applied\) failed after 2 attempts: HTTP 500/);
    expect(r.stderr).toMatch(/notification to silent \(applied\) failed after 2 attempts: no answer within the timeout/);

    // Recorded on the run.
    const show = await runCli(['runs', 'show', runId, '--json', '--config', cfg], { env, cwd: w.root });
    const detail = JSON.parse(show.stdout) as { status: string; notifications: { target: string; status: string; attempts: number; error: string | null }[] };
    expect(detail.status).toBe('succeeded');
    // The server echoed the request path (the secret in it) in its answer: scrubbed from the error.
    expect(detail.notifications.find((n) => n.target === 'broken')).toMatchObject({ status: 'failed', attempts: 2, error: expect.stringMatching(/^HTTP 500 Internal Server Error: internal error at POST \*\*\* \(auth \*\*\*\)$/) });
    expect(detail.notifications.find((n) => n.target === 'silent')).toMatchObject({ status: 'failed', attempts: 2 });
    expect(detail.notifications.filter((n) => n.status === 'sent')).toHaveLength(7);
    const text = await runCli(['runs', 'show', runId, '--config', cfg], { env, cwd: w.root });
    expect(text.stdout).toMatch(/notified broken \(applied\): failed after 2 attempts — HTTP 500/);

    // No secret in any output, nor in the catalog.
    for (const out of [r.stdout, r.stderr, show.stdout, show.stderr, text.stdout]) expectNoSecret(out);
    expectNoSecret(catalogBytes(w));
  }, 60_000);

  it('plan: drift is notified once (new relative to the last notification reaching every target); --no-notify sends nothing', async () => {
    w = makeApplyFixture();
    const dir = path.join(w.stash, 'seeding', 'extras');
    writeTree(dir, { 'x.bin': bytesFor('same', 200_000), 'y.bin': bytesFor('same', 200_000) }); // two inodes, same bytes: a dedupe
    mkdirSync(path.join(w.pool, 'seeding'));
    const cfg = writeConfig(w);
    const quiet = await runCli(['plan', '--no-notify', '--config', cfg], { env, cwd: w.root });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(recv.received).toEqual([]);
    const first = await runCli(['plan', '--config', cfg], { env, cwd: w.root });
    expect(first.code, first.stderr).toBe(0);
    const drift = recv.to('json').map((x) => JSON.parse(x.body) as { event: string; plan?: { changes: { action: string }[] } });
    expect(drift.map((d) => d.event)).toEqual(['drift']);
    expect(drift[0]!.plan!.changes.map((c) => c.action)).toEqual(['dedupe']);
    expect(validator()(drift[0])).toBe(true);
    expect(recv.to('discord')).toHaveLength(1);
    // The broken target failed, so the state is not remembered: the next plan tries again (everyone hears it again).
    recv.received.length = 0;
    await runCli(['plan', '--config', cfg], { env, cwd: w.root });
    expect(recv.to('json')).toHaveLength(1);
    // Without the failing targets, a third plan with the same drift is quiet.
    const cfg2 = writeConfig(w);
    writeFileSync(cfg2, readFileSync(cfg2, 'utf8').split('\n').filter((l) => !/name: (broken|silent)/.test(l)).join('\n'));
    recv.received.length = 0;
    await runCli(['plan', '--config', cfg2], { env, cwd: w.root });
    expect(recv.to('json')).toHaveLength(1); // the last attempt that reached everyone: remembered now
    recv.received.length = 0;
    const again = await runCli(['plan', '--config', cfg2], { env, cwd: w.root });
    expect(again.code).toBe(0);
    expect(recv.received).toEqual([]);
    for (const out of [first.stdout, first.stderr, again.stdout, again.stderr]) expectNoSecret(out);
  }, 60_000);

  it('a config whose notification URL is not http(s) once filled in is an error at its line:col, without the value', async () => {
    w = makeApplyFixture();
    const cfg = writeConfig(w, ['  - { name: wrong, format: json, url: "${BAD_URL}" }']);
    const r = await runCli(['validate', '--config', cfg], { env: { ...env, BAD_URL: 'ftp://user:pw-Zq81x@example.org/x' }, cwd: w.root });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/hashall\.yaml:22:\d+: error: not an http\(s\) URL once its variables are filled in .*\[notify\[9\]\.url\]/);
    expect(r.stderr).not.toContain('pw-Zq81x');
    const unset = await runCli(['validate', '--config', cfg], { env: { ...env }, cwd: w.root });
    expect(unset.code).toBe(3);
    expect(unset.stderr).toMatch(/environment variable BAD_URL is not set/);
    // A header value of the wrong type is named by its type only: header values are secrets whatever the header's name.
    const typed = writeConfig(w, ['  - { name: typed, format: gotify, url: "https://gotify.example/message", headers: { X-Gotify-Key: 4242424242 } }']);
    const t = await runCli(['validate', '--config', typed], { env, cwd: w.root });
    expect(t.code).toBe(3);
    expect(t.stderr).toMatch(/hashall\.yaml:22:\d+: error: wrong type: expected string, got number \(a secret: value not shown\)/);
    expect(t.stderr).not.toContain('4242424242');
    const clear = writeConfig(w, ['  - { name: plain, format: discord, url: "https://discord.com/api/webhooks/1/abcdef" }']);
    const warned = await runCli(['validate', '--config', clear], { env, cwd: w.root });
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toMatch(/warning: this notification URL carries a credential and is written in clear text/);
  });
});
