// `npm run bench`: runs every benchmark in turn (scan, library, plan, copy, copy-small, dedupe, sync, orphans, adopt, verify, startup) and prints each figure as a ratio to the standard tool.
import { run as scanBench } from './scan.js';
import { run as libraryBench } from './library-scan.js';
import { run as planBench } from './plan.js';
import { run as copyBench } from './copy.js';
import { run as copySmallBench } from './copy-small.js';
import { run as dedupeBench } from './dedupe.js';
import { run as syncBench } from './sync.js';
import { run as orphansBench } from './orphans.js';
import { run as adoptBench } from './adopt.js';
import { run as verifyBench } from './verify.js';
import { run as startupBench } from './startup.js';

const only = new Set(process.argv.slice(2));
const benches: [string, () => Promise<Record<string, number>>][] = [
  ['scan', () => scanBench()],
  ['library', () => libraryBench()],
  ['plan', () => planBench()],
  ['copy', () => copyBench()],
  ['copy-small', () => copySmallBench()],
  ['dedupe', () => dedupeBench()],
  ['sync', () => syncBench()],
  ['orphans', () => orphansBench()],
  ['adopt', () => adoptBench()],
  ['verify', () => verifyBench()],
  ['startup', () => startupBench()],
];

const results: Record<string, Record<string, number>> = {};
for (const [name, bench] of benches) {
  if (only.size > 0 && !only.has(name)) continue;
  process.stderr.write(`\n== bench ${name} ==\n`);
  results[name] = await bench();
}
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
