// The apply event sink: speed and ETA on the copy bar and a recheck line (terminal only), NDJSON-only stdout with --json.
import { describe, expect, it } from 'vitest';
import { eventSink } from '../../../src/cli/event-sink.js';
import type { CliContext } from '../../../src/cli/context.js';
import type { ApplyEvent } from '../../../src/apply/events.js';
import { HashallError } from '../../../src/errors.js';

function ctxAt(clock: { t: number }, interactive: boolean) {
  const out = { stdout: '', stderr: '' };
  const ctx: CliContext = {
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
    env: {},
    cwd: '/',
    now: () => clock.t,
    interactive,
    color: false,
    prompt: null,
  };
  return { ctx, out };
}

const MiB = 1024 * 1024;
const copy = (groupBytes: number): ApplyEvent => ({ type: 'copy-progress', runId: 'r', groupId: 'g1', file: 'a.mkv', bytes: groupBytes, totalBytes: 600 * MiB, groupBytes, groupTotal: 600 * MiB });
const recheck = (progress: number, elapsedMs: number): ApplyEvent => ({ type: 'recheck-progress', runId: 'r', groupId: 'g1', step: 2, torrentHash: 'ab'.repeat(20), torrentName: 'Big\x1b[2J.Movie', progress, state: 'checkingUP', elapsedMs });

describe('eventSink', () => {
  it('on a terminal the copy bar shows speed and time left once a second of copying is measured', () => {
    const clock = { t: 0 };
    const { ctx, out } = ctxAt(clock, true);
    const sink = eventSink(ctx, false);
    sink.emit(copy(0));
    clock.t = 2000;
    sink.emit(copy(200 * MiB));
    expect(out.stderr.split('\r\x1b[K').at(-1)).toBe(`  [##########                    ]  33% 200.0 MiB / 600.0 MiB  100.0 MiB/s  ETA 4s`);
    clock.t = 2500;
    sink.emit(recheck(0.425, 95_000));
    expect(out.stderr.split('\r\x1b[K').at(-1)).toBe('  waiting for Big\\x1b[2J.Movie to recheck: 42.5% (checkingUP, 1m 35s so far)');
    sink.end();
    expect(out.stdout).toBe('');
  });

  it('without a terminal there is no progress at all; with --json the recheck is an event every 5 s and errors are events too', () => {
    const clock = { t: 0 };
    const quiet = ctxAt(clock, false);
    const human = eventSink(quiet.ctx, false);
    human.emit(copy(1));
    human.emit(recheck(0.5, 1000));
    expect(quiet.out).toEqual({ stdout: '', stderr: '' });

    const j = ctxAt(clock, false);
    const sink = eventSink(j.ctx, true);
    for (let i = 0; i <= 12; i++) {
      clock.t = i * 1000;
      sink.emit(recheck(i / 12, i * 1000));
    }
    const lines = j.out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; progress: number; elapsedMs: number });
    expect(lines.map((l) => l.elapsedMs)).toEqual([0, 5000, 10000, 12000]);
    sink.info('refresh: scanned 3 root(s)');
    sink.error(new HashallError('lock held', { exitCode: 4, hint: 'wait' }));
    expect(j.out.stderr).toBe('');
    expect(j.out.stdout.trim().split('\n').slice(-2).map((l) => JSON.parse(l))).toEqual([
      { type: 'info', message: 'refresh: scanned 3 root(s)' },
      { type: 'error', message: 'lock held', hint: 'wait', exitCode: 4 },
    ]);
  });

  it('with several groups in flight: one line for the copy and the rechecks, and step lines name their group when groups interleave', () => {
    const clock = { t: 0 };
    const { ctx, out } = ctxAt(clock, true);
    const sink = eventSink(ctx, false);
    const rc = (groupId: string, name: string, progress: number, elapsedMs: number): ApplyEvent => ({ type: 'recheck-progress', runId: 'r', groupId, step: 1, torrentHash: groupId.padEnd(40, '0'), torrentName: name, progress, state: 'checkingUP', elapsedMs });
    sink.emit({ type: 'group-start', runId: 'r', groupId: 'g1', action: 'move', title: 'A', steps: 2 });
    sink.emit({ type: 'step-start', runId: 'r', groupId: 'g1', step: 1, kind: 'repoint', what: 'repoint A' });
    sink.emit({ type: 'group-start', runId: 'r', groupId: 'g2', action: 'move', title: 'B', steps: 2 });
    sink.emit({ type: 'step-start', runId: 'r', groupId: 'g2', step: 0, kind: 'copy', what: 'copy B' });
    sink.emit({ type: 'step-done', runId: 'r', groupId: 'g1', step: 1, kind: 'repoint', status: 'done' });
    expect(out.stderr.split('\n').slice(0, 5)).toEqual(['▶ g1 move A (2 step(s))', '  · repoint A', '▶ g2 move B (2 step(s))', '  · copy B', '    [g1] done']);
    clock.t = 1000;
    sink.emit(rc('g3', 'Slow.One', 0.25, 9000));
    clock.t = 1200;
    sink.emit(rc('g4', 'Quick.Two', 0.5, 2000));
    expect(out.stderr.split('\r\x1b[K').at(-1)).toBe('  waiting for 2 recheck(s), longest 9s: Slow.One 25%, Quick.Two 50%');
    clock.t = 1400;
    sink.emit({ ...(copy(300 * MiB) as Extract<ApplyEvent, { type: 'copy-progress' }>), groupId: 'g5' });
    expect(out.stderr.split('\r\x1b[K').at(-1)).toBe('  [##########          ]  50% 300.0 MiB / 600.0 MiB  + 2 recheck(s), longest 9s: Slow.One 25%, Quick.Two 50%');
    sink.emit({ type: 'step-done', runId: 'r', groupId: 'g3', step: 1, kind: 'repoint', status: 'done' });
    clock.t = 1600;
    sink.emit(rc('g4', 'Quick.Two', 0.75, 2400));
    expect(out.stderr.split('\r\x1b[K').at(-1)).toBe('  [##########          ]  50% 300.0 MiB / 600.0 MiB  + 1 recheck(s), longest 2s: Quick.Two 75%');
  });

  it('events emitted together (a dedupe batch) are the same lines in the same order, one write per stream instead of one per line', () => {
    const clock = { t: 0 };
    const events: ApplyEvent[] = [
      { type: 'group-start', runId: 'r', groupId: 'g1', action: 'dedupe', title: 'a.bin', steps: 1 },
      { type: 'step-start', runId: 'r', groupId: 'g1', step: 0, kind: 'dedupe-link', what: 'hardlink x/a.bin to m/a.bin (3 bytes)' },
      { type: 'step-done', runId: 'r', groupId: 'g1', step: 0, kind: 'dedupe-link', status: 'done' },
      { type: 'group-done', runId: 'r', groupId: 'g1', status: 'done' },
      { type: 'group-start', runId: 'r', groupId: 'g2', action: 'dedupe', title: 'b\x1b[2J.bin', steps: 1 },
      { type: 'step-start', runId: 'r', groupId: 'g2', step: 0, kind: 'dedupe-link', what: 'hardlink y/b.bin to m/b.bin (3 bytes)' },
      { type: 'step-failed', runId: 'r', groupId: 'g2', step: 0, kind: 'dedupe-link', error: 'changed' },
      { type: 'group-done', runId: 'r', groupId: 'g2', status: 'rolled-back', error: 'changed' },
      { type: 'run-done', runId: 'r', status: 'partial', bytesCopied: 0, bytesFreed: 3, attention: [] },
    ];
    for (const json of [false, true]) {
      const one = ctxAt(clock, false);
      const each = eventSink(one.ctx, json);
      for (const e of events) each.emit(e);
      const all = ctxAt(clock, false);
      let writes = 0;
      const count = (w: { write(s: string): unknown }) => ({ write: (s: string) => (writes++, w.write(s)) });
      all.ctx.stdout = count(all.ctx.stdout);
      all.ctx.stderr = count(all.ctx.stderr);
      const together = eventSink(all.ctx, json);
      expect(together.emit.many).toBeDefined();
      together.emit.many!(events);
      expect(all.out).toEqual(one.out);
      expect((json ? one.out.stdout : one.out.stderr).split('\n').length).toBeGreaterThan(6);
      expect(writes).toBe(1);
    }
  });

  it('dedupe groups are quiet: those that succeed are counted in one line per run of them, one that fails is shown whole, other groups as before; on a terminal a count of the groups done', () => {
    const clock = { t: 0 };
    const dedupe = (id: string, outcome: 'done' | 'noop' | 'failed'): ApplyEvent[] => [
      { type: 'group-start', runId: 'r', groupId: id, action: 'dedupe', title: `${id}.bin`, steps: 1 },
      { type: 'step-start', runId: 'r', groupId: id, step: 0, kind: 'dedupe-link', what: `hardlink d/${id}.bin to k/${id}.bin (3 bytes)` },
      outcome === 'failed'
        ? { type: 'step-failed', runId: 'r', groupId: id, step: 0, kind: 'dedupe-link', error: 'd/g3.bin changed since the plan' }
        : { type: 'step-done', runId: 'r', groupId: id, step: 0, kind: 'dedupe-link', status: outcome },
      ...(outcome === 'failed' ? [{ type: 'undo', runId: 'r', groupId: id, step: 0, kind: 'dedupe-link', status: 'undone' } as ApplyEvent] : []),
      { type: 'group-done', runId: 'r', groupId: id, status: outcome === 'failed' ? 'rolled-back' : 'done', ...(outcome === 'failed' ? { error: 'd/g3.bin changed since the plan' } : {}) },
    ];
    const events: ApplyEvent[] = [
      { type: 'run-start', runId: 'r1', groups: 6, planFile: null },
      ...dedupe('g1', 'done'),
      ...dedupe('g2', 'noop'),
      ...dedupe('g3', 'failed'),
      ...dedupe('g4', 'done'),
      { type: 'group-start', runId: 'r1', groupId: 'g5', action: 'move', title: 'M', steps: 1 },
      { type: 'step-start', runId: 'r1', groupId: 'g5', step: 0, kind: 'copy', what: 'copy M' },
      { type: 'step-done', runId: 'r1', groupId: 'g5', step: 0, kind: 'copy', status: 'done' },
      { type: 'group-done', runId: 'r1', groupId: 'g5', status: 'done' },
      ...dedupe('g6', 'done'),
      { type: 'run-done', runId: 'r1', status: 'partial', bytesCopied: 0, bytesFreed: 6, attention: [] },
    ];
    const cron = ctxAt(clock, false);
    const sink = eventSink(cron.ctx, false);
    for (const e of events) sink.emit(e);
    sink.end();
    expect(cron.out.stderr.split('\n')).toEqual([
      'apply r1: 6 group(s) to apply',
      '✔ 2 dedupe group(s) done: 1 duplicate(s) linked, 1 already linked (`hashall runs show r1` lists each)',
      '▶ g3 dedupe g3.bin (1 step(s))',
      '  · hardlink d/g3.bin to k/g3.bin (3 bytes)',
      '    FAILED: d/g3.bin changed since the plan',
      '  ↶ undid step 0 (dedupe-link)',
      '✘ g3 rolled-back: d/g3.bin changed since the plan',
      '✔ 1 dedupe group(s) done: 1 duplicate(s) linked (`hashall runs show r1` lists each)',
      '▶ g5 move M (1 step(s))',
      '  · copy M',
      '    done',
      '✔ g5 done',
      '✔ 1 dedupe group(s) done: 1 duplicate(s) linked (`hashall runs show r1` lists each)',
      'apply r1 partial: 0 B copied, 6 B freed',
      '',
    ]);
    // Ended without its run-done (a crash): the count is still written.
    const cut = ctxAt(clock, false);
    const cutSink = eventSink(cut.ctx, false);
    for (const e of dedupe('g1', 'done')) cutSink.emit(e);
    expect(cut.out.stderr).toBe('');
    cutSink.end();
    expect(cut.out.stderr).toBe('✔ 1 dedupe group(s) done: 1 duplicate(s) linked\n');
    // On a terminal: the groups done so far, in place, then the same lines.
    const tty = ctxAt(clock, true);
    const live = eventSink(tty.ctx, false);
    for (const e of events.slice(0, 1 + 5 + 5)) live.emit(e);
    // The second group ended within 100 ms of the first: not drawn (throttled).
    expect(tty.out.stderr.split('\r\x1b[K').at(-1)).toBe('  1 of 6 group(s) done');
    clock.t = 1000;
    for (const e of events.slice(11)) live.emit(e);
    live.end();
    // Without the progress lines (each erased before the next line), the same lines as without a terminal.
    expect(tty.out.stderr.replace(/\r\x1b\[K( {2}\d+ of \d+ group\(s\) done)?/g, '')).toBe(cron.out.stderr);
  });
});
