// "New relative to what was last notified": blocked groups and doctor problems are told once, again only after they went
// away and came back, and again when a target failed (real SQLite catalog, a local HTTP receiver).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { openCatalog, type CatalogDb } from '../../../src/catalog/db.js';
import { makeSecret } from '../../../src/config/normalize.js';
import type { HashallConfig, NotifyTarget } from '../../../src/config/types.js';
import type { DoctorReport } from '../../../src/doctor/checks.js';
import { notifyDoctorFindings, notifyPlanFindings } from '../../../src/notify/notify.js';
import type { Plan, PlanGroup } from '../../../src/plan/types.js';
import { makeTempDir, type TempDir } from '../../support/mounts.js';
import { startReceiver, type Receiver } from '../../support/notify-receiver.js';

let tmp: TempDir;
let catalog: CatalogDb;
let recv: Receiver;
beforeAll(async () => {
  tmp = makeTempDir('hashall-notify-state-');
  catalog = openCatalog(path.join(tmp.path, 'catalog.db'));
  recv = await startReceiver();
});
afterAll(async () => {
  catalog?.close();
  await recv?.close();
  tmp?.cleanup();
});

function target(name: string, events: NotifyTarget['events']): NotifyTarget {
  return { name, format: 'json', url: makeSecret(`${recv.url}/${name}`, {}), headers: {}, events, timeoutMs: 5000, retries: 0 };
}

function group(key: string, action: PlanGroup['action'], reason: string): PlanGroup {
  return { id: key, key, action, title: `T.${key}`, payloadHash: null, torrents: [], from: null, to: null, reasons: [reason], rule: null, bytesToCopy: 0, bytesToFree: 0, steps: [], fingerprint: {} as PlanGroup['fingerprint'] };
}

function plan(groups: PlanGroup[]): Plan {
  return { groups } as Plan;
}

const deps = { now: () => Date.now(), report: () => undefined, drift: false };
const blockedTitles = (): string[][] =>
  recv.received.map((r) => (JSON.parse(r.body) as { plan: { blocked: { title: string }[] } }).plan.blocked.map((b) => b.title));

describe('blocked groups: new relative to the last notification', () => {
  it('tells each blocked group once; a group that comes back is new again; a failed target means the next plan tells it again', async () => {
    const config = { notify: [target('blocked', ['blocked'])] } as HashallConfig;
    const a = group('a', 'blocked', 'payload hash unknown');
    const b = group('b', 'blocked', 'client path not mapped');
    await notifyPlanFindings(config, catalog.db, plan([a]), 's', deps);
    await notifyPlanFindings(config, catalog.db, plan([a]), 's', deps); // nothing new
    await notifyPlanFindings(config, catalog.db, plan([a, b, group('m', 'move', 'rule')]), 's', deps); // only b
    await notifyPlanFindings(config, catalog.db, plan([b]), 's', deps); // a went away
    await notifyPlanFindings(config, catalog.db, plan([a, b]), 's', deps); // a came back: new again
    expect(blockedTitles()).toEqual([['T.a'], ['T.b'], ['T.a']]);
    recv.received.length = 0;

    const failing = { notify: [target('blocked', ['blocked']), target('fail', ['blocked'])] } as HashallConfig;
    const c = group('c', 'blocked', 'torrent not complete');
    const out = await notifyPlanFindings(failing, catalog.db, plan([a, b, c]), 's', deps);
    expect(out.map((o) => [o.target, o.status])).toEqual([['blocked', 'sent'], ['fail', 'failed']]);
    await notifyPlanFindings(config, catalog.db, plan([a, b, c]), 's', deps); // not remembered: told again
    await notifyPlanFindings(config, catalog.db, plan([a, b, c]), 's', deps); // now remembered
    expect(recv.to('blocked').map((r) => (JSON.parse(r.body) as { plan: { blocked: { title: string }[] } }).plan.blocked.map((x) => x.title))).toEqual([['T.c'], ['T.c']]);
  });

  it('doctor problems: by check id, once', async () => {
    recv.received.length = 0;
    const config = { notify: [target('doctor', ['doctor'])] } as HashallConfig;
    const report = (ids: string[]): DoctorReport => ({
      configPath: '/x/hashall.yaml',
      healthy: ids.length === 0,
      checks: [{ id: 'config', title: 'config', status: 'ok', detail: 'valid' }, ...ids.map((id) => ({ id, title: id, status: 'problem' as const, detail: `${id} is wrong`, fix: 'fix it' }))],
    });
    await notifyDoctorFindings(config, catalog.db, report(['filesystem:pool']), deps);
    await notifyDoctorFindings(config, catalog.db, report(['filesystem:pool', 'client']), deps);
    await notifyDoctorFindings(config, catalog.db, report(['filesystem:pool', 'client']), deps);
    const told = recv.to('doctor').map((r) => (JSON.parse(r.body) as { event: string; doctor: { problems: { id: string }[] } }).doctor.problems.map((p) => p.id));
    expect(told).toEqual([['filesystem:pool'], ['client']]);
  });
});
