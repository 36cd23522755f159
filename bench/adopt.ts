// Benchmark: a first adoption — hashall moves 200 small torrents (copy + repoint + recheck each) against a real qbittorrent-nox,
// vs `cp -a` + `sync` of the same bytes plus ONE setLocation + recheck on the same daemon (what the client cannot avoid).
import { singleClient } from '../src/clients/client-set.js';
import { execFileSync } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyPlan } from '../src/apply/executor.js';
import { realFsPort } from '../src/apply/fs-port.js';
import { openCatalog } from '../src/catalog/db.js';
import { scanRoots } from '../src/catalog/scan/scan-roots.js';
import { recheckConfirmed, setLocationConfirmed } from '../src/clients/confirm.js';
import { createQbittorrentClient } from '../src/clients/qbittorrent/client.js';
import type { HashallConfig } from '../src/config/types.js';
import type { ApplyEvent } from '../src/apply/events.js';
import { payloadHash } from '../src/domain/payload-hash.js';
import { PLAN_FORMAT_VERSION, type Plan, type PlanGroup } from '../src/plan/types.js';
import type { ClientTorrent } from '../src/clients/types.js';
import { isBusyPhase } from '../src/domain/torrent-phase.js';
import { trimSlash } from '../src/domain/path-string.js';
import { startQbt } from '../src/sandbox/qbt-sandbox.js';
import { makeRescanRoot } from '../src/reconcile/refresh.js';
import { addTorrent, makeTorrent, type MadeTorrent } from '../src/sandbox/torrent-file.js';
import { places, scale } from './copy.js';
import { procCpuMs } from './proc-cpu.js';
import { raiseOptimizerBudget } from '../src/cli/optimizer-budget.js';

const TRACKER = 'http://127.0.0.1:1/announce';

/** Time covered by the union of [start, end] spans (copies of one batch run together: their spans overlap). */
function covered(spans: [number, number][]): number {
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of [...spans].sort((x, y) => x[0] - y[0])) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

/** User + system CPU (ms) a process has used so far; null once it is gone. */
function cpuMsOf(pid: number): number | null {
  try {
    return procCpuMs(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
}

/** This process's threads' CPU (ms) by thread id, with each thread's name (`main` for the main thread; Node names the others `node`). */
function threadCpu(): Map<string, { name: string; ms: number }> {
  const out = new Map<string, { name: string; ms: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = tid === String(process.pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      out.set(tid, { name, ms: procCpuMs(`/proc/self/task/${tid}/stat`) });
    } catch {
      // the thread ended
    }
  }
  return out;
}

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** `count` torrents (two files: ~64 KiB and a small one) under `saveDir`, their files written, added to qBittorrent (running unless `paused`). */
async function seed(sb: Awaited<ReturnType<typeof startQbt>>, saveDir: string, prefix: string, count: number, paused = false): Promise<MadeTorrent[]> {
  const out: MadeTorrent[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}.${String(i).padStart(4, '0')}`;
    const t = makeTorrent({ saveDir, name, files: [{ path: 'video.mkv', size: 64 * 1024 + i }, { path: 'info.nfo', content: `${name}\n` }], trackers: [TRACKER] });
    await addTorrent(sb, t, { savepath: saveDir, skipChecking: true, paused });
    out.push(t);
  }
  return out;
}

/** What qBittorrent alone needs to move `hashes` to `to` (files already there) at checking limit `width`: bulk pause, setLocation, recheck, resume, each awaited for all (polls every 20 ms). */
async function clientFloor(sb: Awaited<ReturnType<typeof startQbt>>, client: ReturnType<typeof createQbittorrentClient>, hashes: string[], to: string, width: number): Promise<number> {
  await sb.api('POST', '/app/setPreferences', { json: JSON.stringify({ max_active_checking_torrents: width }) });
  const all = async (pred: (t: ClientTorrent) => boolean): Promise<void> => {
    for (let i = 0; i < 15_000; i++) {
      const l = await client.listTorrents({ hashes });
      if (l.length === hashes.length && l.every(pred)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('bench adopt: qBittorrent alone did not finish within the bound');
  };
  const t0 = process.hrtime.bigint();
  await client.pause(hashes);
  await all((t) => !t.running);
  await client.setLocation(hashes, to);
  await all((t) => trimSlash(t.savePath) === to && t.phase !== 'moving');
  await client.recheck(hashes);
  await all((t) => t.progress === 1 && !isBusyPhase(t.phase));
  await client.resume(hashes);
  await all((t) => t.running);
  return ms(t0);
}

export async function run(): Promise<Record<string, number>> {
  const count = Math.max(10, Math.round(Number(process.env.HASHALL_BENCH_ADOPT_TORRENTS ?? 200) * scale()));
  const { srcBase, dstBase, note } = places(count * 80 * 1024);
  process.stderr.write(`bench adopt: ${count} torrents of ~64 KiB; ${note}\n`);
  const sb = await startQbt({ dir: path.join(dstBase, 'qbt') });
  // apply.parallelRechecks, and qBittorrent's own checking limit raised to it when above the sandbox's 16.
  const width = Number(process.env.HASHALL_BENCH_PARALLEL_RECHECKS ?? 16);
  if (width > 16) await sb.api('POST', '/app/setPreferences', { json: JSON.stringify({ max_active_checking_torrents: width }) });
  // Every HTTP request the adapter makes, by API path (calls and time in flight), to say where a group's time goes
  // (read from Node's http diagnostics channels: the adapter's own transport is measured, not a wrapper's).
  const http = new Map<string, { calls: number; ms: number }>();
  const started = new WeakMap<object, bigint>();
  const onStart = (m: unknown): void => void started.set((m as { request: object }).request, process.hrtime.bigint());
  const onFinish = (m: unknown): void => {
    const req = (m as { request: { path: string } }).request;
    const at = started.get(req);
    if (at === undefined) return;
    const key = req.path.split('?')[0]!.replace(/^\/api\/v2/, '');
    const e = http.get(key) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += ms(at);
    http.set(key, e);
  };
  diagnostics.subscribe('http.client.request.start', onStart);
  diagnostics.subscribe('http.client.response.finish', onFinish);
  const client = createQbittorrentClient({ url: sb.url, timeoutMs: 30_000 });
  try {
    const fromSave = path.join(srcBase, 'seeding', 'movies');
    const toSave = path.join(dstBase, 'seeding', 'movies');
    const torrents = await seed(sb, fromSave, 'Adopt', count);
    const [probe] = await seed(sb, path.join(srcBase, 'probe'), 'Probe', 1, true); // paused, as hashall pauses before it repoints

    // Baseline: cp -a of every payload + sync, then the one recheck any relocation needs (the probe, pointed at its copy).
    execFileSync('sync');
    const cpDir = path.join(dstBase, 'cp');
    mkdirSync(cpDir, { recursive: true });
    let t0 = process.hrtime.bigint();
    execFileSync('cp', ['-a', fromSave, path.join(cpDir, 'movies')]);
    execFileSync('cp', ['-a', path.join(srcBase, 'probe'), path.join(cpDir, 'probe')]);
    execFileSync('sync');
    const cpMs = ms(t0);
    t0 = process.hrtime.bigint();
    await setLocationConfirmed(client, probe!.infoHash, path.join(cpDir, 'probe'), { timeoutMs: 60_000 });
    await recheckConfirmed(client, probe!.infoHash, { timeoutMs: 60_000 });
    const recheckMs = ms(t0);

    // hashall: one move group per torrent (copy + repoint), as a first adoption's plan holds them.
    const catalogFile = path.join(dstBase, 'catalog', 'catalog.db');
    const catalog = openCatalog(catalogFile);
    const config: HashallConfig = {
      version: 1,
      configPath: path.join(dstBase, 'hashall.yaml'),
      configHash: 'bench',
      catalog: catalogFile,
      filesystems: { src: { name: 'src', path: srcBase, aliases: [] }, dst: { name: 'dst', path: dstBase, aliases: [] } },
      seeding: { src: [path.join(srcBase, 'seeding')], dst: [path.join(dstBase, 'seeding')] },
      libraries: [],
      clients: { default: { name: 'default', at: ['client'], type: 'qbittorrent', url: sb.url, username: null, password: null, pathMaps: [], timeoutMs: 30_000 } },
      categories: {},
      placement: { default: 'keep', rules: [] },
      dedupe: { filesystems: [], minSize: 0 },
      verify: { everyMs: 30 * 86_400_000, budgetBytes: 200 * 2 ** 30 },
      safety: { verify: 'full', retire: { mode: 'staged', observeHours: 0 }, minFree: 0, maxScanAgeHours: 24 },
      apply: { auto: false, parallelRechecks: width },
    };
    mkdirSync(path.join(dstBase, 'seeding'), { recursive: true });
    await scanRoots(catalog, [path.join(srcBase, 'seeding'), path.join(dstBase, 'seeding')].map((p) => ({ path: p, kind: 'seeding' as const })), {
      drift: 'metadata',
      filesystems: config.filesystems,
      now: () => Date.now(),
    });
    const live = new Map((await client.listTorrents({ hashes: torrents.map((t) => t.infoHash) })).map((t) => [t.hash, t]));
    const groups: PlanGroup[] = torrents.map((t, i) => {
      const l = live.get(t.infoHash)!;
      const name = path.basename(t.contentPath);
      const fromRoot = t.contentPath;
      const toRoot = path.join(toSave, name);
      const files = t.paths.map((p) => {
        const data = readFileSync(p);
        return { relpath: path.relative(fromRoot, p), size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
      });
      const bytes = files.reduce((n, f) => n + f.size, 0);
      return {
        id: `g${i + 1}`,
        key: `adopt-${i}`,
        action: 'move',
        title: name,
        payloadHash: payloadHash(files) ?? 'bench',
        torrents: [{ hash: t.infoHash, name, category: '', tracker: null }],
        from: { fs: 'src', path: fromRoot },
        to: { fs: 'dst', path: toRoot },
        reasons: ['bench: first adoption'],
        rule: null,
        bytesToCopy: bytes,
        bytesToFree: 0,
        steps: [
          { kind: 'copy', fromFs: 'src', toFs: 'dst', fromRoot, toRoot, files, bytes },
          { kind: 'repoint', torrentHash: t.infoHash, torrentName: name, fromSavePath: fromSave, toSavePath: toSave, expectedContentPath: toRoot, hostFrom: fromRoot, hostTo: toRoot, bytes },
        ],
        fingerprint: { files: [], torrents: [{ hash: l.hash, phase: l.phase, clientSavePath: l.savePath, clientContentPath: l.contentPath }] },
      };
    });
    const plan: Plan = {
      formatVersion: PLAN_FORMAT_VERSION,
      createdAt: new Date(0).toISOString(),
      configPath: config.configPath,
      configHash: 'bench',
      catalog: { lineage: catalog.lineage, serial: catalog.serial() },
      groups,
      summary: { move: groups.length, reuse: 0, dedupe: 0, retire: 0, keep: 0, stay: 0, pending: 0, blocked: 0, bytesToCopy: 0, bytesToFree: {} },
    };
    // Per group: when it started, its copy started/ended, its repoint started/ended, it ended (ms since the run began).
    const marks = new Map<string, Record<string, number>>();
    const mark = (g: string, what: string, at: number) => {
      const m = marks.get(g) ?? {};
      m[what] = at;
      marks.set(g, m);
    };
    http.clear();
    // HASHALL_BENCH_PROF=DIR: a V8 CPU profile of the apply alone (this process), written to DIR/adopt.cpuprofile.
    const profDir = process.env.HASHALL_BENCH_PROF;
    const prof = profDir ? new Session() : null;
    if (prof) {
      prof.connect();
      await prof.post('Profiler.enable');
      await prof.post('Profiler.setSamplingInterval', { interval: 200 });
      await prof.post('Profiler.start');
    }
    raiseOptimizerBudget(); // as the apply command does before it applies
    const threads0 = threadCpu();
    const qbtCpu0 = cpuMsOf(sb.pid);
    const ownCpu0 = process.cpuUsage();
    t0 = process.hrtime.bigint();
    const emit = (e: ApplyEvent): void => {
      const at = ms(t0);
      if (e.type === 'group-start') mark(e.groupId, 'start', at);
      else if (e.type === 'step-start') mark(e.groupId, `${e.kind}Start`, at);
      else if (e.type === 'step-done') mark(e.groupId, `${e.kind}Done`, at);
      else if (e.type === 'group-done') mark(e.groupId, 'end', at);
    };
    // Time in each FsPort call and in the journal's WAL fsyncs (summed: calls overlap), to say where the disk work goes.
    const fsTime = new Map<string, { calls: number; ms: number }>();
    const timed = <A extends unknown[], R>(key: string, fn: (...a: A) => R) => (...a: A): R => {
      const at = process.hrtime.bigint();
      const note = () => {
        const e = fsTime.get(key) ?? { calls: 0, ms: 0 };
        e.calls++;
        e.ms += ms(at);
        fsTime.set(key, e);
      };
      const out = fn(...a);
      if (out instanceof Promise) return out.finally(note) as R;
      note();
      return out;
    };
    const realFs = realFsPort();
    const fs = Object.fromEntries(Object.entries(realFs).map(([k, v]) => [k, typeof v === 'function' ? timed(k, (v as (...a: unknown[]) => unknown).bind(realFs)) : v])) as unknown as typeof realFs;
    const walPath = `${catalogFile}-wal`;
    const syncJournal = timed('walFsync', async () => {
      const fh = await open(walPath, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
    // Each client call by torrent (kind, start, end; waits by what they wait for): where a repoint's time goes.
    const calls = new Map<string, { what: string; at: number; end: number }[]>();
    const traced = new Proxy(client, {
      get(target, prop, recv) {
        const v = Reflect.get(target, prop, recv) as unknown;
        if (typeof v !== 'function' || prop === 'close' || prop === 'version') return v;
        return async (...a: unknown[]) => {
          const at = ms(t0);
          try {
            return await (v as (...x: unknown[]) => Promise<unknown>).apply(target, a);
          } finally {
            const hashes = typeof a[0] === 'string' ? [a[0]] : Array.isArray(a[0]) ? (a[0] as string[]) : [];
            const what = prop === 'waitFor' ? `wait ${String((a[2] as { what?: string }).what)}` : String(prop);
            for (const h of hashes) calls.set(h, [...(calls.get(h) ?? []), { what, at, end: ms(t0) }]);
          }
        };
      },
    });
    // The catalog refreshes after groups (scans and the roots they took, time summed).
    const rescans = { scans: 0, roots: 0, ms: 0 };
    const realRescan = makeRescanRoot(config, () => Date.now());
    const countedRescan = Object.assign(
      async (...a: Parameters<typeof realRescan>) => {
        const at = process.hrtime.bigint();
        rescans.scans++;
        rescans.roots++;
        await realRescan(...a);
        rescans.ms += ms(at);
      },
      {
        many: async (...a: Parameters<NonNullable<typeof realRescan.many>>) => {
          const at = process.hrtime.bigint();
          rescans.scans++;
          rescans.roots += a[1].length;
          await realRescan.many!(...a);
          rescans.ms += ms(at);
        },
      },
    );
    const res = await applyPlan(
      {
        catalog,
        config,
        clients: singleClient(traced),
        fs,
        syncJournal,
        // Each group's target rescanned for the catalog afterwards, as `hashall apply` does (HASHALL_BENCH_ADOPT_RESCAN=0 leaves it out, as this bench did until session 5).
        ...(process.env.HASHALL_BENCH_ADOPT_RESCAN === '0' ? {} : { rescanRoot: countedRescan }),
        now: () => Date.now(),
        runId: 'bench-adopt',
        emit,
        identity: { user: 'bench', host: os.hostname(), pid: process.pid, pidStart: null, command: 'bench', planFile: null, planHash: null },
      },
      plan,
    );
    // The apply alone, then the sync (machine-wide: it also writes whatever other processes left dirty, a second or more on
    // a busy box) that makes hashallMs comparable with `cp -a` + sync.
    const applyMs = ms(t0);
    execFileSync('sync');
    const hashallMs = ms(t0);
    const qbtCpu1 = cpuMsOf(sb.pid);
    const ownCpu = process.cpuUsage(ownCpu0);
    const threads1 = threadCpu();
    const byThread = new Map<string, number>();
    for (const [tid, t] of threads1) byThread.set(t.name, (byThread.get(t.name) ?? 0) + t.ms - (threads0.get(tid)?.ms ?? 0));
    if (prof && profDir) {
      const { profile } = await prof.post('Profiler.stop');
      mkdirSync(profDir, { recursive: true });
      await writeFile(path.join(profDir, 'adopt.cpuprofile'), JSON.stringify(profile));
      prof.disconnect();
    }
    catalog.close();
    if (res.status !== 'succeeded') throw new Error(`bench adopt apply ${res.status}: ${res.groups.find((g) => g.error)?.error ?? res.guardProblems.join('; ')}`);
    const moved = await client.listTorrents({ hashes: torrents.map((t) => t.infoHash) });
    const wrong = moved.filter((t) => t.savePath !== toSave || t.progress < 1);
    if (moved.length !== count || wrong.length) throw new Error(`bench adopt: ${wrong.length} torrent(s) not complete at ${toSave}`);
    const baselineMs = cpMs + recheckMs;
    const applyHttp = new Map([...http].map(([k, e]) => [k, { ...e }])); // the apply's calls, before the floor's
    // qBittorrent alone at the same checking width, in the same minute: the torrents moved back (their first copies are
    // still there) with one bulk call per action, its checking limit set to the width. libtorrent starts queued checks
    // in its auto-manage pass, at most once a second and at most the limit each time: at width W, N torrents need about
    // N / W passes whatever the caller does (HASHALL_BENCH_ADOPT_FLOOR=0 leaves it out).
    const floorMs = process.env.HASHALL_BENCH_ADOPT_FLOOR === '0' ? null : await clientFloor(sb, client, torrents.map((t) => t.infoHash), fromSave, width);
    const mean = (f: (m: Record<string, number>) => number) => Math.round([...marks.values()].reduce((n, m) => n + f(m), 0) / marks.size);
    const span = (f: (m: Record<string, number>) => number) => {
      const v = [...marks.values()].map(f);
      return `${Math.round(Math.min(...v))}–${Math.round(Math.max(...v))}`;
    };
    // Mean ms per client call kind and per gap between calls, over the torrents' repoints (calls in order).
    const byKind = new Map<string, { n: number; ms: number }>();
    const add = (k: string, d: number) => {
      const e = byKind.get(k) ?? { n: 0, ms: 0 };
      e.n++;
      e.ms += d;
      byKind.set(k, e);
    };
    for (const list of calls.values()) {
      list.sort((x, y) => x.at - y.at);
      list.forEach((c, i) => {
        add(c.what, c.end - c.at);
        if (i > 0) add(`gap before ${c.what}`, c.at - list[i - 1]!.end);
      });
    }
    // HASHALL_BENCH_ADOPT_DUMP=FILE: every group's marks and its torrent's client calls (ms since the apply began), as JSON.
    if (process.env.HASHALL_BENCH_ADOPT_DUMP) {
      const dump = groups.map((g) => ({ id: g.id, marks: marks.get(g.id), calls: calls.get(g.torrents[0]!.hash) ?? [] }));
      await writeFile(process.env.HASHALL_BENCH_ADOPT_DUMP, JSON.stringify(dump));
    }
    if (process.env.HASHALL_BENCH_ADOPT_TRACE) {
      const last = [...marks.entries()].sort((a, b) => b[1].end! - a[1].end!)[0]!;
      const hash = groups.find((g) => g.id === last[0])!.torrents[0]!.hash;
      process.stderr.write(`bench adopt: the last group (${last[0]}): ${JSON.stringify(last[1], (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}; its calls: ` +
        (calls.get(hash) ?? []).map((c) => `${c.what.replace(/ to \/.*/, '')} ${Math.round(c.at)}–${Math.round(c.end)}`).join(', ') + '\n');
    }
    // When the rechecks were asked and when their waits ended, in waves (ends more than 150 ms apart): qBittorrent starts
    // queued checks in passes, so rechecks asked over a few hundred ms may end a second or more apart.
    const asked = [...calls.values()].flatMap((l) => l.filter((c) => c.what === 'recheck').map((c) => c.at)).sort((a, b) => a - b);
    const ended = [...calls.values()].flatMap((l) => l.filter((c) => c.what.startsWith('wait recheck')).map((c) => c.end)).sort((a, b) => a - b);
    const waves: [number, number][] = [];
    ended.forEach((t, i) => (i === 0 || t - ended[i - 1]! > 150 ? waves.push([t, 1]) : waves[waves.length - 1]![1]++));
    const httpCalls = [...applyHttp.values()].reduce((n, e) => n + e.calls, 0);
    process.stderr.write(
      `bench adopt: per group (mean ms): waiting for the disk slot ${mean((m) => m.copyStart! - m.start!)}, copy ${mean((m) => m.copyDone! - m.copyStart!)}, ` +
        `waiting for a client slot ${mean((m) => m.repointStart! - m.copyDone!)}, repoint ${mean((m) => m.repointDone! - m.repointStart!)}, bookkeeping ${mean((m) => m.end! - m.repointDone!)}; ` +
        `copies under way ${Math.round(covered([...marks.values()].map((m) => [m.copyStart!, m.copyDone!])))} ms in all\n` +
        // When each phase began and ended across the run (first – last, ms since the apply began): what overlapped.
        `bench adopt: timeline (first – last): ` +
        ['copyStart', 'copyDone', 'repointStart', 'repointDone', 'end'].map((k) => `${k} ${span((m) => m[k]!)}`).join(', ') + '\n' +
        `bench adopt: client calls per torrent (count, mean ms): ${[...byKind.entries()].map(([k, e]) => `${k} ${e.n} (${Math.round(e.ms / e.n)})`).join(', ')}\n` +
        (asked.length ? `bench adopt: rechecks asked ${Math.round(asked[0]!)}–${Math.round(asked[asked.length - 1]!)} ms; their waits ended in ${waves.length} wave(s): ${waves.map(([t, n]) => `${Math.round(t)} ms (${n})`).join(', ')}\n` : '') +
        `bench adopt: the apply returned at ${Math.round(applyMs)} ms (${Math.round(applyMs - Math.max(...[...marks.values()].map((m) => m.copyDone ?? 0)))} ms after the last copy ended), the sync after it took ${Math.round(hashallMs - applyMs)} ms\n` +
        (floorMs === null ? '' : `bench adopt: qBittorrent alone at checking limit ${width}, one bulk call per action (pause, setLocation, recheck, resume): ${Math.round(floorMs)} ms; hashall ${(hashallMs / floorMs).toFixed(2)}× that\n`) +
        `bench adopt: catalog refreshes: ${rescans.scans} scans of ${rescans.roots} folders (${Math.round(rescans.ms)} ms)\n` +
        `bench adopt: ${httpCalls} HTTP calls (${(httpCalls / count).toFixed(1)} per group): ` +
        [...applyHttp.entries()].sort((a, b) => b[1].calls - a[1].calls).map(([k, e]) => `${k} ${e.calls} (${Math.round(e.ms)} ms)`).join(', ') + '\n' +
        `bench adopt: disk calls (count, ms summed): ` +
        [...fsTime.entries()].sort((a, b) => b[1].ms - a[1].ms).map(([k, e]) => `${k} ${e.calls} (${Math.round(e.ms)} ms)`).join(', ') + '\n' +
        // What bounds the run: hashall's own CPU (its threads included), and qBittorrent's.
        `bench adopt: CPU during the ${Math.round(hashallMs)} ms apply: hashall ${Math.round((ownCpu.user + ownCpu.system) / 1000)} ms, ` +
        `qbittorrent-nox ${qbtCpu0 !== null && qbtCpu1 !== null ? `${qbtCpu1 - qbtCpu0} ms` : 'unknown'}; ` +
        `hashall user ${Math.round(ownCpu.user / 1000)} ms, system ${Math.round(ownCpu.system / 1000)} ms; by thread: ` +
        [...byThread.entries()].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v} ms`).join(', ') + '\n',
    );
    return {
      torrents: count,
      parallelRechecks: width,
      cpSyncMs: Math.round(cpMs),
      oneRecheckMs: Math.round(recheckMs),
      baselineMs: Math.round(baselineMs),
      hashallMs: Math.round(hashallMs),
      applyMs: Math.round(applyMs),
      hashallMsPerTorrent: Math.round(hashallMs / count),
      ratio: Number((hashallMs / baselineMs).toFixed(2)),
      ...(floorMs === null ? {} : { clientFloorMs: Math.round(floorMs), ratioToClientFloor: Number((hashallMs / floorMs).toFixed(2)) }),
      httpCallsPerGroup: Number((httpCalls / count).toFixed(1)),
    };
  } finally {
    diagnostics.unsubscribe('http.client.request.start', onStart);
    diagnostics.unsubscribe('http.client.response.finish', onFinish);
    await client.close().catch(() => undefined);
    await sb.stop();
    rmSync(srcBase, { recursive: true, force: true });
    rmSync(dstBase, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await run(), null, 2) + '\n');
}
