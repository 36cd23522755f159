// Test support: ApplyDeps for in-process applyPlan calls with a recorded event list.
import { singleClient } from '../../src/clients/client-set.js';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { TorrentClient } from '../../src/clients/types.js';
import type { ApplyEvent } from '../../src/apply/events.js';
import type { ApplyDeps } from '../../src/apply/executor.js';
import { realFsPort, type FsPort } from '../../src/apply/fs-port.js';
import type { ApplyFixture } from './apply-fixture.js';

/** `client`: one client as the single instance `default` (or pass `clients`). */
export function testDeps(w: ApplyFixture, over: Partial<ApplyDeps> & { fs?: FsPort; client?: TorrentClient | null } = {}): ApplyDeps & { events: ApplyEvent[] } {
  const events: ApplyEvent[] = [];
  const { client, ...rest } = over;
  return {
    catalog: w.catalog,
    config: w.config,
    clients: over.clients ?? singleClient(client ?? null),
    fs: realFsPort(),
    now: () => Date.now(),
    runId: `t-${randomBytes(4).toString('hex')}`,
    emit: (e) => events.push(e),
    identity: { user: 'test', host: os.hostname(), pid: process.pid, pidStart: null, command: 'test', planFile: null, planHash: null },
    events,
    ...rest,
    ...(over.clients ? {} : { clients: singleClient(client ?? null) }),
  };
}
