// The bare two-worker hash model the scanner is measured against: list the tree, SHA-256 every regular file on two
// worker threads (4 MiB reads), nothing else — no catalog, no quick hash, no change checks.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

const WORKER = String.raw`
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
parentPort.on('message', (paths) => {
  for (const p of paths) {
    const fd = fs.openSync(p, 'r');
    const h = crypto.createHash('sha256');
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
    fs.closeSync(fd);
    h.digest('hex');
  }
  parentPort.postMessage(paths.length);
});
`;

function listFiles(root: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync(root, { recursive: true, withFileTypes: true })) if (d.isFile()) out.push(path.join(d.parentPath, d.name));
  return out;
}

/** Hash every regular file under `root` on `workers` threads pulling batches of 256 paths; resolves when all are done. */
export async function bareHash(root: string, workers = 2): Promise<void> {
  const files = listFiles(root);
  let next = 0;
  const take = (): string[] => files.slice(next, (next += 256));
  await Promise.all(
    Array.from({ length: workers }, async () => {
      const w = new Worker(WORKER, { eval: true });
      try {
        await new Promise<void>((resolve, reject) => {
          w.on('error', reject);
          const send = (): void => {
            const batch = take();
            if (batch.length === 0) resolve();
            else w.postMessage(batch);
          };
          w.on('message', send);
          send();
        });
      } finally {
        await w.terminate();
      }
    }),
  );
}
