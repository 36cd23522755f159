// Test support: runs `runApply` in a child process (so tests can kill -9 it at a journal boundary via HASHALL_TEST_CRASH_AT).
// Usage: node --import ./test/support/ts-register.mjs test/support/apply-child.ts CONFIG.json PLAN.json [QBT_URL]
import { readFileSync } from 'node:fs';
import { crashHookFromEnv } from '../../src/apply/crash-hook.js';
import { runApply } from '../../src/apply/run-apply.js';
import { createQbittorrentClient } from '../../src/clients/qbittorrent/client.js';
import type { HashallConfig } from '../../src/config/types.js';
import type { Plan } from '../../src/plan/types.js';

const [configFile, planFile, qbtUrl] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configFile!, 'utf8')) as HashallConfig;
const plan = JSON.parse(readFileSync(planFile!, 'utf8')) as Plan;
const client = qbtUrl ? createQbittorrentClient({ url: qbtUrl, timeoutMs: 10_000 }) : null;
const out = await runApply({
  config,
  client,
  plan,
  planFile: planFile!,
  planHash: null,
  command: 'apply-child',
  now: () => Date.now(),
  emit: () => undefined,
  onBoundary: crashHookFromEnv(process.env),
  clientTimeoutMs: () => 60_000,
});
process.stdout.write(JSON.stringify({ status: out.result.status, runId: out.result.runId, recovered: out.recovered }) + '\n');
await client?.close();
