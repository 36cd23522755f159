#!/usr/bin/env node
// `npm test`: typecheck + lint + the whole vitest suite, inside a private mount namespace when possible.
// Inside the namespace tests may mount tmpfs and bind mounts; everything vanishes when the run ends.
// With CI=true (or HASHALL_REQUIRE_ALL=1) any skipped or todo test fails the run.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const strict = process.env.CI === 'true' || process.env.HASHALL_REQUIRE_ALL === '1';

function run(cmd, cmdArgs, env = process.env) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

if (process.env.HASHALL_TEST_MOUNTNS !== '1' && process.env.HASHALL_TEST_NO_NS !== '1') {
  // Re-exec inside a private mount namespace: as root directly, otherwise in a user namespace.
  const isRoot = process.getuid?.() === 0;
  const unshareArgs = isRoot ? ['-m', '--propagation', 'private'] : ['-r', '-m', '--propagation', 'private'];
  const probe = spawnSync('unshare', [...unshareArgs, 'true']);
  if (probe.status === 0) {
    const code = run('unshare', [...unshareArgs, process.execPath, fileURLToPath(import.meta.url), ...args], {
      ...process.env,
      HASHALL_TEST_MOUNTNS: '1',
    });
    process.exit(code);
  }
  console.error('test: cannot create a private mount namespace (unshare failed); tests needing mounts will report skipped');
  if (strict) {
    console.error('test: CI requires mount tests to run; failing');
    process.exit(1);
  }
}

const bin = (name) => path.join(root, 'node_modules', '.bin', name);
if (!args.includes('--no-static')) {
  console.error('test: typecheck (tsc --noEmit)');
  if (run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']) !== 0) process.exit(1);
  console.error('test: lint (eslint)');
  if (run(bin('eslint'), ['.']) !== 0) process.exit(1);
}
const vitestArgs = args.filter((a) => a !== '--no-static');
const report = path.join(root, '.vitest-report.json');
rmSync(report, { force: true });
console.error('test: vitest');
const code = run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...vitestArgs]);
let summary;
try {
  summary = JSON.parse(readFileSync(report, 'utf8'));
} catch {
  console.error('test: no vitest report written');
  process.exit(code || 1);
}
const passed = summary.numPassedTests ?? 0;
const failed = summary.numFailedTests ?? 0;
const skipped = (summary.numPendingTests ?? 0) + (summary.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (code !== 0) process.exit(code);
if (strict && skipped > 0) {
  console.error(`test: ${skipped} test(s) skipped; CI must run every test (root, mounts, qbittorrent-nox)`);
  process.exit(1);
}
if (passed === 0) {
  console.error('test: no test ran');
  process.exit(1);
}
